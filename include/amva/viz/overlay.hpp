#pragma once
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace amva::viz {

/// Colour maps for figures and overlays: the seed paper's JET, and perceptually uniform maps
/// (equal steps in value look like equal steps in colour, and they print in greyscale) that
/// OpenCV and matplotlib both have under these names.
enum class Colormap { Jet, Viridis, Cividis, Inferno, Magma, Turbo };

/// "jet", "viridis", "cividis", "inferno", "magma" or "turbo"; throws Error(InvalidArgument) naming them.
Colormap parse_colormap(const std::string& name);
std::string to_string(Colormap colormap);
std::vector<std::string> colormap_names();

/// Min-max normalises a map to [0, 1] (epsilon 1e-7, as pytorch-grad-cam's scale_cam_image);
/// NaN-free for constant maps.
cv::Mat normalize_minmax(const cv::Mat& map);

/// A heat map of `map` (any size, upsampled bilinearly to the face) blended with the 8-bit BGR
/// face: (1 - w) * heatmap + w * face, scaled so its maximum is 255, like pytorch-grad-cam's
/// show_cam_on_image with image_weight w (which uses JET).
cv::Mat overlay_heatmap(const cv::Mat& bgr_face, const cv::Mat& map, Colormap colormap = Colormap::Jet,
                        double image_weight = 0.5);

/// A horizontal colour bar, `width` x `height` pixels, from the low end on the left.
cv::Mat colour_bar(int width, int height, Colormap colormap);

}  // namespace amva::viz
