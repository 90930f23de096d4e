#include "amva/model/layer_probe.hpp"

#include <fmt/format.h>

#include <opencv2/core.hpp>

#include "amva/error.hpp"

namespace amva::model {

TargetLayer probe_target_layer(FaceRecognizer& recognizer) {
  const auto& card = recognizer.card();
  TargetLayer layer{recognizer.target_layer(), {}};
  const cv::Mat blank(card.input_height, card.input_width, CV_8UC3, cv::Scalar::all(0));
  const cv::Mat a = recognizer.forward({blank}, {layer.name}).activations.front();
  if (a.dims != 4) {
    throw Error(ErrorCode::Model, fmt::format("target layer '{}' is not a C x h x w feature map", layer.name));
  }
  layer.shape = {a.size[1], a.size[2], a.size[3], recognizer.embedding_size()};
  return layer;
}

std::shared_ptr<const AffineHead> head_after(const FaceRecognizer& recognizer, const TargetLayer& layer,
                                             const std::filesystem::path& cache_dir) {
  return AffineHead::extract(recognizer.card(), recognizer.model_sha256(), layer.name, layer.shape, cache_dir);
}

LayerHead probe_layer_head(FaceRecognizer& recognizer, const std::filesystem::path& cache_dir) {
  auto layer = probe_target_layer(recognizer);
  auto head = head_after(recognizer, layer, cache_dir);
  return {std::move(layer), std::move(head)};
}

}  // namespace amva::model
