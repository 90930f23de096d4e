#pragma once
// The one probe of a recognizer's target layer and of the affine head after it: what the CAM
// methods, the quality measures that read activations (SER-FIQ), `amva model inspect` and the
// benchmarks all need before their first face.
#include <filesystem>
#include <memory>
#include <string>

#include "amva/model/affine_head.hpp"
#include "amva/model/face_recognizer.hpp"

namespace amva::model {

/// The target layer and the shape of its activations, with the embedding size: what the maps
/// and an affine head are made for.
struct TargetLayer {
  std::string name;
  HeadShape shape;
};

/// The recognizer's target layer, measured by one forward pass of a blank face. Throws
/// Error(Model) when the layer is not a C x h x w feature map.
TargetLayer probe_target_layer(FaceRecognizer& recognizer);

/// The affine head (J, b) from `layer` to the recognizer's embedding, read from `cache_dir`
/// (keyed by the model's hash and the layer) or probed and written there; no cache when empty.
/// Throws Error(Model) when the head is not affine.
std::shared_ptr<const AffineHead> head_after(const FaceRecognizer& recognizer, const TargetLayer& layer,
                                             const std::filesystem::path& cache_dir);

/// Both: the target layer and the head after it.
struct LayerHead {
  TargetLayer layer;
  std::shared_ptr<const AffineHead> head;
};
LayerHead probe_layer_head(FaceRecognizer& recognizer, const std::filesystem::path& cache_dir);

}  // namespace amva::model
