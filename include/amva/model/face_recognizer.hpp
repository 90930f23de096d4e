#pragma once
// Any ONNX CNN face recognition model, described by a ModelCard and run by OpenCV's dnn
// module. Like cv::FaceRecognizerSF: a small interface and a factory. One instance per
// worker thread (a cv::dnn::Net is not shared between threads).
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "amva/model/affine_head.hpp"
#include "amva/model/model_card.hpp"

namespace amva::model {

struct ForwardResult {
  cv::Mat embeddings;                // N x D, CV_32F, unnormalised
  std::vector<cv::Mat> activations;  // one N x C x h x w blob per requested layer
};

class FaceRecognizer {
 public:
  virtual ~FaceRecognizer() = default;

  /// Builds the N x 3 x H x W input blob from aligned 8-bit BGR faces exactly as the card
  /// says: resize to the input size if needed, reorder channels, (pixel - mean) / std.
  [[nodiscard]] virtual cv::Mat preprocess(const std::vector<cv::Mat>& aligned_bgr) const = 0;
  /// One batched forward pass: the embeddings and the activations of `layers` (ONNX tensor
  /// names). Throws Error(Model) if the network fails or a layer is unknown.
  virtual ForwardResult forward(const std::vector<cv::Mat>& aligned_bgr,
                                const std::vector<std::string>& layers = {}) = 0;
  /// As forward, from an already preprocessed blob.
  virtual ForwardResult forward_blob(const cv::Mat& blob, const std::vector<std::string>& layers = {}) = 0;

  [[nodiscard]] virtual const ModelCard& card() const = 0;
  [[nodiscard]] virtual int embedding_size() const = 0;
  /// The target layer (ONNX tensor): the card's, or the last non-linearity before the
  /// embedding (OnnxGraph::find_target_layer).
  [[nodiscard]] virtual const std::string& target_layer() const = 0;
  /// SHA-256 of the model file, for meta.json and caches.
  [[nodiscard]] virtual const std::string& model_sha256() const = 0;

  /// Loads and checks the model against its card: the file's hash (when the card gives one),
  /// the input name and size, and that the embedding output and target layer exist. Each
  /// mismatch is an Error(Model) that names the card field and what the model has instead.
  static std::unique_ptr<FaceRecognizer> create(const ModelCard& card);
};

/// The N x 3 x H x W input blob of aligned 8-bit BGR faces under `card`'s input convention:
/// resized to the input size if needed, channels reordered, (pixel - mean) / std.
cv::Mat input_blob(const std::vector<cv::Mat>& aligned_bgr, const ModelCard& card);

}  // namespace amva::model
