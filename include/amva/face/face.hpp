#pragma once
#include <array>
#include <opencv2/core.hpp>

namespace amva::face {

/// The five alignment points in the ArcFace order: the eye on the image's left (the
/// subject's right eye), the eye on the image's right, nose tip, then the mouth corners
/// on the image's left and right.
using Landmarks5 = std::array<cv::Point2f, 5>;

struct Face {
  cv::Rect2f box;     // in source-image pixels
  float score = 0.f;  // detector confidence in [0, 1]
  Landmarks5 landmarks{};
};

}  // namespace amva::face
