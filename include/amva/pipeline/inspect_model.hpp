#pragma once
// amva model inspect: a model card for an ONNX face recognition model nobody described. The
// graph gives the input, the embedding and the target layer (model/graph_inspection.hpp); the
// input convention (channel order, mean and std) is found by running labelled faces under
// each common convention and keeping the one whose embeddings separate identities best.
#include <array>
#include <filesystem>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "amva/eval/separation.hpp"
#include "amva/face/detector.hpp"
#include "amva/model/graph_inspection.hpp"
#include "amva/model/model_card.hpp"
#include "amva/progress.hpp"

namespace amva::pipeline {

struct InputConvention {
  std::string name;  // e.g. "BGR (x-127.5)/127.5"
  bool rgb = false;
  std::array<double, 3> mean{};  // per model-input channel, 0-255 units
  std::array<double, 3> std{};
};

/// BGR and RGB, each with (x-127.5)/127.5 (which also stands for (x-127)/128: within 1 %),
/// ImageNet's mean and std, and x/255.
std::vector<InputConvention> common_input_conventions();

/// Aligned faces with their identities, and the comparisons to score on them.
struct LabelledFaces {
  std::string description;       // e.g. "the degraded demo set (23 people, 299 images and 23 mirror images)"
  std::vector<cv::Mat> aligned;  // 112 x 112 BGR
  std::vector<int> identity;     // per face, 0..identities-1
  int identities = 0;
  std::vector<std::pair<int, int>> pairs;  // face indices; empty: every pair of faces
};

/// The default demo faces: the demo's data (data::prepare_default_data at level 1, made in a
/// scratch folder) aligned with `detector`, and the mirror image of each undegraded face as
/// one more face of its person.
LabelledFaces demo_faces(const std::filesystem::path& sources, const face::DetectorConfig& detector,
                         const Progress& progress = {});
/// `pairs` of LFW's pairs in `lfw`/pairs.txt, spread evenly over the file (so over its folds and
/// both kinds; 0: all), with their images from lfw/lfw-deepfunneled (or lfw itself), each
/// aligned once; an image without a face leaves its pairs out.
LabelledFaces lfw_faces(const std::filesystem::path& lfw, int pairs, const face::DetectorConfig& detector,
                        const Progress& progress = {});

struct ConventionScore {
  InputConvention convention;
  std::vector<eval::Separation> separation;  // per face set, in the order given
};

struct InspectModelOptions {
  std::filesystem::path cache_dir;  // the affine head's Jacobian cache
  int replicates = 200;             // identity bootstrap of the winner against the runner-up
  double near_tie = 0.95;           // below this share of replicates won, the choice is a near-tie
  /// A convention separates identities only when its d' beats the aligned pixels' own
  /// (cosine similarity of the raw faces) by this much: near-duplicates, such as a face and
  /// its degraded copy, are told apart by any network, a random one included.
  double min_gain_over_pixels = 1.0;
};

struct ModelInspection {
  model::GraphInspection graph;
  std::string affine_check;  // "affine (max error 2e-06)", or why the head is not
  int embedding_size = 0;
  std::vector<std::string> face_sets;    // their descriptions
  std::vector<eval::Separation> pixels;  // the aligned pixels' separation, per face set
  std::vector<ConventionScore> scores;   // best first, ranked on the last face set
  double win_share = 0;                  // of the best over the runner-up
  bool near_tie = false;
  std::optional<model::ModelCard> card;  // none when no convention separates identities
  std::string refusal;                   // why there is no card
};

/// Inspects `model_file` on the face sets (at least one; the last decides). Throws Error(Model)
/// when the graph is not a face recognition model amva can feed (inspect_graph) or does not run.
ModelInspection inspect_model(const std::filesystem::path& model_file, const std::vector<LabelledFaces>& faces,
                              const InspectModelOptions& options = {}, const Progress& progress = {});

}  // namespace amva::pipeline
