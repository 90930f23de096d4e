#pragma once
#include <opencv2/core.hpp>

namespace amva::viz {

/// Min-max normalises a map to [0, 1] (epsilon 1e-7, as pytorch-grad-cam's scale_cam_image);
/// NaN-free for constant maps.
cv::Mat normalize_minmax(const cv::Mat& map);

/// A JET heat map of `map` (any size, upsampled bilinearly to the face) blended with the
/// 8-bit BGR face: (1 - w) * heatmap + w * face, scaled so its maximum is 255, like
/// pytorch-grad-cam's show_cam_on_image with image_weight w.
cv::Mat overlay_jet(const cv::Mat& bgr_face, const cv::Mat& map, double image_weight = 0.5);

}  // namespace amva::viz
