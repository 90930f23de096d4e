#pragma once
// Read-only view of an ONNX graph (parsed with libonnx), used to check a model card against
// its model and to name the tensors OpenCV's importer exposes as layers.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace amva::model {

struct OnnxTensorInfo {
  std::string name;
  std::vector<std::int64_t> dims;  // -1 for a symbolic or unknown dimension
};

struct OnnxNodeInfo {
  std::string name;
  std::string op_type;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
};

class OnnxGraph {
 public:
  /// Throws Error(Model) naming the file if it is not a parseable ONNX model.
  static OnnxGraph load(const std::filesystem::path& file);
  ~OnnxGraph();
  OnnxGraph(OnnxGraph&&) noexcept;
  OnnxGraph& operator=(OnnxGraph&&) noexcept;

  /// Graph inputs that are not initializers (the real inputs).
  [[nodiscard]] const std::vector<OnnxTensorInfo>& inputs() const;
  [[nodiscard]] const std::vector<OnnxTensorInfo>& outputs() const;
  [[nodiscard]] const std::vector<OnnxNodeInfo>& nodes() const;
  /// Index of the node that produces `tensor`, if any.
  [[nodiscard]] std::optional<std::size_t> producer(const std::string& tensor) const;
  /// True if `tensor` is an initializer (a weight).
  [[nodiscard]] bool is_initializer(const std::string& tensor) const;
  /// The inputs of `node` that carry data, in order: not empty, not a weight, not the output
  /// of a Constant node.
  [[nodiscard]] std::vector<std::string> data_inputs(const OnnxNodeInfo& node) const;
  /// The tensor a reshape chain ends in: follows Reshape, Flatten, Squeeze and Identity back
  /// from `tensor` to the first other producer. Reading that tensor gives the same values
  /// and does not depend on a batch size baked into a Reshape's shape constant.
  [[nodiscard]] std::string skip_reshapes(const std::string& tensor) const;
  [[nodiscard]] const std::filesystem::path& file() const;
  /// The model as this view holds it when loading had to rewrite it for OpenCV's importer
  /// (an Identity node reading an initializer, as torch.onnx.export writes for shared equal
  /// weights, becomes a copy of that initializer); empty when the file loads as it is.
  [[nodiscard]] std::optional<std::string> rewritten_model() const;

  /// The default target layer for `embedding`: walking back from the embedding (past
  /// reshapes) through affine operations (Conv, BatchNormalization, Gemm, MatMul, Add, Sub,
  /// Mul or Div by a constant, pooling, Flatten and other reshapes), the output of the first
  /// node that is not affine: the last non-linearity before the embedding; or, where the walk
  /// meets two computed inputs joined (a residual Add or a Concat), that join's output: the
  /// last block's output, the first tensor the head is a function of. Throws Error(Model) if
  /// the walk reaches a graph input.
  [[nodiscard]] std::string find_target_layer(const std::string& embedding) const;

  /// The nodes that compute `to` from `from` (the head), in graph order. Throws
  /// Error(Model) if `to` also depends on a graph input other than `from`.
  [[nodiscard]] std::vector<std::size_t> head_nodes(const std::string& from, const std::string& to) const;
  /// The first node of the head from `from` to `to` that is not affine in `from`, or empty.
  [[nodiscard]] std::optional<OnnxNodeInfo> first_non_affine(const std::string& from, const std::string& to) const;
  /// A serialized ONNX model of the head: input `from` with shape N x dims, output `to`.
  [[nodiscard]] std::string head_model(const std::string& from, const std::vector<std::int64_t>& dims,
                                       const std::string& to) const;
  /// The names OpenCV's importer may give the layer that produces `tensor`, most likely first.
  [[nodiscard]] std::vector<std::string> opencv_layer_candidates(const std::string& tensor) const;

 private:
  struct Impl;
  explicit OnnxGraph(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace amva::model
