#include "amva/viz/overlay.hpp"

#include <fmt/format.h>

#include <array>
#include <opencv2/imgproc.hpp>
#include <utility>

#include "amva/error.hpp"

namespace amva::viz {
namespace {

constexpr std::array<std::pair<Colormap, const char*>, 6> kNames = {{{Colormap::Jet, "jet"},
                                                                     {Colormap::Viridis, "viridis"},
                                                                     {Colormap::Cividis, "cividis"},
                                                                     {Colormap::Inferno, "inferno"},
                                                                     {Colormap::Magma, "magma"},
                                                                     {Colormap::Turbo, "turbo"}}};

int opencv_colormap(Colormap colormap) {
  switch (colormap) {
    case Colormap::Viridis:
      return cv::COLORMAP_VIRIDIS;
    case Colormap::Cividis:
      return cv::COLORMAP_CIVIDIS;
    case Colormap::Inferno:
      return cv::COLORMAP_INFERNO;
    case Colormap::Magma:
      return cv::COLORMAP_MAGMA;
    case Colormap::Turbo:
      return cv::COLORMAP_TURBO;
    case Colormap::Jet:
      break;
  }
  return cv::COLORMAP_JET;
}

}  // namespace

Colormap parse_colormap(const std::string& name) {
  for (const auto& [c, n] : kNames) {
    if (name == n) return c;
  }
  throw Error(ErrorCode::InvalidArgument,
              fmt::format("unknown colour map '{}' (one of: {})", name, fmt::join(colormap_names(), ", ")));
}

std::string to_string(Colormap colormap) {
  for (const auto& [c, n] : kNames) {
    if (c == colormap) return n;
  }
  return "jet";
}

std::vector<std::string> colormap_names() {
  std::vector<std::string> names;
  for (const auto& entry : kNames) names.emplace_back(entry.second);
  return names;
}

cv::Mat normalize_minmax(const cv::Mat& map) {
  double lo, hi;
  cv::minMaxLoc(map, &lo, &hi);
  cv::Mat out;
  map.convertTo(out, CV_32F, 1.0 / (hi - lo + 1e-7), -lo / (hi - lo + 1e-7));
  return out;
}

cv::Mat overlay_heatmap(const cv::Mat& bgr_face, const cv::Mat& map, Colormap colormap, double image_weight) {
  cv::Mat up;
  cv::resize(map, up, bgr_face.size(), 0, 0, cv::INTER_LINEAR);
  cv::Mat mask8;
  normalize_minmax(up).convertTo(mask8, CV_8U, 255.0);
  cv::Mat heat;
  cv::applyColorMap(mask8, heat, opencv_colormap(colormap));
  cv::Mat heat_f, face_f;
  heat.convertTo(heat_f, CV_32FC3, 1.0 / 255);
  bgr_face.convertTo(face_f, CV_32FC3, 1.0 / 255);
  cv::Mat blend = (1.0 - image_weight) * heat_f + image_weight * face_f;
  double hi;
  cv::minMaxLoc(blend.reshape(1), nullptr, &hi);
  cv::Mat out;
  blend.convertTo(out, CV_8UC3, 255.0 / (hi > 0 ? hi : 1.0));
  return out;
}

cv::Mat colour_bar(int width, int height, Colormap colormap) {
  cv::Mat ramp(height, width, CV_8U);
  for (int c = 0; c < width; ++c) {
    ramp.col(c).setTo(cv::Scalar(255.0 * c / std::max(1, width - 1)));
  }
  cv::Mat bar;
  cv::applyColorMap(ramp, bar, opencv_colormap(colormap));
  return bar;
}

}  // namespace amva::viz
