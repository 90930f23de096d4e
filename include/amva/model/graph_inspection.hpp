#pragma once
// What an ONNX face recognition model is, read from its graph alone: the image input, the
// outputs that could be the embedding, and the target layer amva would take with the layers
// before it. The first half of `amva model inspect`; the preprocessing is found by running
// faces (pipeline/inspect_model.hpp).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "amva/model/onnx_graph.hpp"

namespace amva::model {

/// A layer the maps could be taken at, with whether the rest of the network after it is
/// affine (gradient methods need that; Score-CAM and occlusion do not).
struct LayerCandidate {
  std::string tensor;
  std::string op_type;        // of the node that produces it
  std::string non_affine_op;  // the first node after it that is not affine ("" when affine)
  [[nodiscard]] bool affine_head() const { return non_affine_op.empty(); }
};

struct GraphInspection {
  std::filesystem::path file;
  OnnxTensorInfo input;  // the image input (the one 4-d input)
  bool dynamic_batch = false;
  int input_width = 112;  // from the input's shape; 112 where it is symbolic
  int input_height = 112;
  std::vector<OnnxTensorInfo> embedding_outputs;  // outputs that give one vector per image
  std::string embedding;                          // the one amva takes: the first of them
  std::optional<LayerCandidate> target;           // none when no non-linearity precedes the embedding
  std::string target_problem;                     // why there is no target, in words
  std::vector<LayerCandidate> alternatives;       // the next layers back, nearest first
};

/// Reads the graph. Throws Error(Model) naming the file when it is not an ONNX model, has no
/// 4-d image input or no output that could be an embedding.
GraphInspection inspect_graph(const std::filesystem::path& file, int alternatives = 3);

}  // namespace amva::model
