#pragma once
// One face as the recognition pass leaves it, built once per face and shared by what reads it:
// the FIQA measures (quality::QualityMeasure::score), the CAM methods (cam::CamInput adds the
// target) and the embedding extraction stores. Pointers view the caller's data, which must
// outlive the context; what a pass did not compute is null.
#include <functional>
#include <opencv2/core.hpp>

#include "amva/face/face.hpp"
#include "amva/model/affine_head.hpp"

namespace amva::face {

struct FaceContext {
  const cv::Mat* aligned = nullptr;         // 112 x 112 8-bit BGR aligned face
  const Face* detection = nullptr;          // box and landmarks in source-image pixels
  const float* embedding = nullptr;         // the face's own embedding r (D), unnormalised
  model::HeadShape shape;                   // D (shape.embedding), and the target layer's C x h x w
  const float* activations = nullptr;       // C x h x w at the target layer
  const model::AffineHead* head = nullptr;  // the affine head after the target layer (J, b)
  /// The preprocessed input (1 x 3 x H x W) and a function that embeds a batch of inputs
  /// (N x 3 x H x W -> N x D): what the methods that forward masked inputs need.
  const cv::Mat* input = nullptr;
  std::function<cv::Mat(const cv::Mat&)> embed;
};

}  // namespace amva::face
