#pragma once
// Private: the concrete detectors behind FaceDetector::create.
#include <memory>

#include "amva/face/detector.hpp"

namespace amva::face {
std::unique_ptr<FaceDetector> make_ultraface_detector(const DetectorConfig& config);
std::unique_ptr<FaceDetector> make_yunet_detector(const DetectorConfig& config);
}  // namespace amva::face
