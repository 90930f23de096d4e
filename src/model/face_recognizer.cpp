#include "amva/model/face_recognizer.hpp"

#include <fmt/format.h>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "amva/error.hpp"
#include "amva/io/hash.hpp"
#include "amva/model/onnx_graph.hpp"
#include "amva/model/onnx_net.hpp"

namespace amva::model {
namespace {

std::string names_of(const std::vector<OnnxTensorInfo>& tensors) {
  std::vector<std::string> names;
  for (const auto& t : tensors) names.push_back(t.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

class OnnxFaceRecognizer final : public FaceRecognizer {
 public:
  explicit OnnxFaceRecognizer(const ModelCard& card) : card_(card), graph_(OnnxGraph::load(card.file)) {
    sha256_ = io::sha256_file(card.file);
    if (!card.sha256.empty() && card.sha256 != sha256_) {
      throw Error(ErrorCode::Model,
                  fmt::format("{}: sha256 {} does not match the card's {}", card.file.string(), sha256_, card.sha256));
    }
    check_input();
    const auto rewritten = graph_.rewritten_model();
    net_ = rewritten ? load_onnx_net(*rewritten, card.file) : load_onnx_net(card.file);
    embedding_layer_ = layer_for(card.embedding_output, "embedding_output");
    target_layer_ = card.target_layer ? *card.target_layer : graph_.find_target_layer(card.embedding_output);
    layer_for(target_layer_, "target_layer");
    // One forward pass on a black face fixes the embedding size and proves the net runs.
    const cv::Mat probe(card.input_height, card.input_width, CV_8UC3, cv::Scalar::all(0));
    embedding_size_ = forward(std::vector<cv::Mat>{probe}, {}).embeddings.cols;
  }

  [[nodiscard]] cv::Mat preprocess(const std::vector<cv::Mat>& faces) const override {
    return input_blob(faces, card_);
  }

  ForwardResult forward(const std::vector<cv::Mat>& faces, const std::vector<std::string>& layers) override {
    return forward_blob(preprocess(faces), layers);
  }

  ForwardResult forward_blob(const cv::Mat& blob, const std::vector<std::string>& layers) override {
    std::vector<std::string> names{embedding_layer_};
    for (const auto& l : layers) names.push_back(layer_for(l, "requested layer"));
    std::vector<cv::Mat> outs;
    try {
      net_.setInput(blob, card_.input_name);
      net_.forward(outs, names);
    } catch (const cv::Exception& e) {
      throw Error(ErrorCode::Model, fmt::format("{}: forward pass failed ({})", card_.file.string(), e.err));
    }
    ForwardResult r;
    const int n = blob.size[0];
    r.embeddings = outs[0].reshape(1, n).clone();
    r.activations.assign(outs.begin() + 1, outs.end());
    return r;
  }

  [[nodiscard]] const ModelCard& card() const override { return card_; }
  [[nodiscard]] int embedding_size() const override { return embedding_size_; }
  [[nodiscard]] const std::string& target_layer() const override { return target_layer_; }
  [[nodiscard]] const std::string& model_sha256() const override { return sha256_; }

 private:
  void check_input() const {
    const auto& inputs = graph_.inputs();
    auto it = std::find_if(inputs.begin(), inputs.end(), [&](const auto& t) { return t.name == card_.input_name; });
    if (it == inputs.end()) {
      throw Error(ErrorCode::Model, fmt::format("{}: model card input.name '{}' is not an input of the model "
                                                "(it has: {})",
                                                card_.file.string(), card_.input_name, names_of(inputs)));
    }
    if (it->dims.size() == 4) {
      const auto h = it->dims[2];
      const auto w = it->dims[3];
      if ((h > 0 && h != card_.input_height) || (w > 0 && w != card_.input_width)) {
        throw Error(ErrorCode::Model,
                    fmt::format("{}: model card input size {}x{} but the model's input '{}' is {}x{}",
                                card_.file.string(), card_.input_width, card_.input_height, it->name, w, h));
      }
    }
  }

  // OpenCV names an imported layer "onnx_node!<node name>", or after its first output when
  // the node is unnamed; embeddings are read before any reshape so that batches work.
  std::string layer_for(const std::string& tensor, const char* what) {
    const std::string source = what == std::string("embedding_output") ? graph_.skip_reshapes(tensor) : tensor;
    const auto p = graph_.producer(source);
    if (!p) {
      throw Error(ErrorCode::Model,
                  fmt::format("{}: {} '{}' is not a tensor produced by the model", card_.file.string(), what, tensor));
    }
    for (const std::string& candidate : graph_.opencv_layer_candidates(source)) {
      if (net_.getLayerId(candidate) >= 0) return candidate;
    }
    throw Error(ErrorCode::Model, fmt::format("{}: {} '{}' (node '{}') was fused away by OpenCV's importer",
                                              card_.file.string(), what, tensor, graph_.nodes()[*p].name));
  }

  ModelCard card_;
  OnnxGraph graph_;
  cv::dnn::Net net_;
  std::string sha256_;
  std::string embedding_layer_;
  std::string target_layer_;
  int embedding_size_ = 0;
};

}  // namespace

cv::Mat input_blob(const std::vector<cv::Mat>& faces, const ModelCard& card) {
  const int n = static_cast<int>(faces.size());
  const int h = card.input_height;
  const int w = card.input_width;
  cv::Mat blob(std::vector<int>{n, 3, h, w}, CV_32F);
  for (int i = 0; i < n; ++i) {
    cv::Mat face = faces[i];
    if (face.size() != cv::Size(w, h)) cv::resize(face, face, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
    if (face.type() != CV_8UC3) {
      throw Error(ErrorCode::InvalidArgument, "FaceRecognizer::preprocess expects 8-bit BGR faces");
    }
    std::vector<cv::Mat> bgr;
    cv::split(face, bgr);
    for (int c = 0; c < 3; ++c) {
      const int source = card.rgb ? 2 - c : c;
      cv::Mat plane(h, w, CV_32F, blob.ptr<float>(i, c));
      bgr[source].convertTo(plane, CV_32F, 1.0 / card.std[c], -card.mean[c] / card.std[c]);
    }
  }
  return blob;
}

std::unique_ptr<FaceRecognizer> FaceRecognizer::create(const ModelCard& card) {
  return std::make_unique<OnnxFaceRecognizer>(card);
}

}  // namespace amva::model
