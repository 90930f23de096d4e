// Occlusion sensitivity (Zeiler and Fergus, 2014) on the target layer's own grid (or a finer
// one, its setting `grid`). For the h x w cells, a square patch of side 2H / (h + 1) at a stride of (H - side)
// / (h - 1) (for 112 px and 7 x 7: 28 px every 14 px; neighbouring patches overlap by half) is filled with the image's
// mean colour in the model's input space, and the map holds how far the target falls: t(image) - t(occluded). Forward
// passes only (h x w per face, batched): it works for any model at any layer, and unlike a normalised CAM its value at
// a cell does not move when something elsewhere in the face changes.
#include <algorithm>
#include <cmath>

#include "amva/error.hpp"
#include "methods.hpp"

namespace amva::cam {
namespace {

class OcclusionCam final : public CamMethod {
 public:
  /// `grid`: N for N x N patches, [rows, cols] as recorded, 0 (the default) for the layer's.
  explicit OcclusionCam(const PluginConfig& config) {
    // The registry checked its kind (SettingSpec::grid): N, or [rows, cols].
    const auto grid = config.value("grid", nlohmann::json(0));
    grid_ =
        grid.is_array() ? cv::Size(grid[1].get<int>(), grid[0].get<int>()) : cv::Size(grid.get<int>(), grid.get<int>());
    if ((grid_.width == 0) != (grid_.height == 0)) {
      throw Error(ErrorCode::InvalidArgument,
                  "occlusion: setting 'grid' is 0 (the layer's grid) on both axes or neither");
    }
  }
  [[nodiscard]] std::string name() const override { return "occlusion"; }
  [[nodiscard]] std::string default_target() const override { return "self-cosine"; }
  [[nodiscard]] bool needs_forward() const override { return true; }
  [[nodiscard]] cv::Size map_size(const model::HeadShape& layer) const override {
    return grid_.area() > 0 ? grid_ : CamMethod::map_size(layer);
  }
  [[nodiscard]] nlohmann::json settings(const model::HeadShape& layer) const override {
    const cv::Size grid = map_size(layer);
    return {{"grid", {grid.height, grid.width}}};
  }
  /// Side of a patch such that `cells` patches at half-patch strides span `size` pixels.
  [[nodiscard]] static int patch_side(int size, int cells) {
    return std::max(1, static_cast<int>(std::lround(2.0 * size / (cells + 1))));
  }

 protected:
  [[nodiscard]] cv::Mat combine(const CamInput& in, const float*) const override {
    if (!in.input || !in.embed || !in.target) {
      throw Error(ErrorCode::InvalidArgument, "occlusion needs the input, a target and a forward pass");
    }
    const cv::Size grid = map_size(in.shape);
    const int rows = grid.height, cols = grid.width;
    const int height = in.input->size[2], width = in.input->size[3];
    const int d = in.shape.embedding;
    const auto side_y = patch_side(height, rows), side_x = patch_side(width, cols);
    cv::Scalar fill;
    for (int k = 0; k < 3; ++k) {
      fill[k] = cv::mean(cv::Mat(height, width, CV_32F, const_cast<float*>(in.input->ptr<float>(0, k))))[0];
    }
    const double whole = in.target->value(in.embedding, in.embedding, d);
    const auto occluded = target_of_variants(in, rows * cols, kVariantsPerForward, [&](int cell, cv::Mat(&planes)[3]) {
      const cv::Rect patch(origin(width, cols, side_x, cell % cols), origin(height, rows, side_y, cell / cols), side_x,
                           side_y);
      for (int k = 0; k < 3; ++k) {
        cv::Mat(height, width, CV_32F, const_cast<float*>(in.input->ptr<float>(0, k))).copyTo(planes[k]);
        planes[k](patch).setTo(fill[k]);
      }
    });
    cv::Mat map(rows, cols, CV_32F);
    for (int cell = 0; cell < rows * cols; ++cell) {
      map.at<float>(cell / cols, cell % cols) = static_cast<float>(whole - occluded[static_cast<std::size_t>(cell)]);
    }
    return map;
  }

 private:
  // Left (top) edge of patch `index`: evenly spread so the first and last touch the borders.
  static int origin(int size, int cells, int side, int index) {
    if (cells <= 1) return std::max(0, (size - side) / 2);
    return static_cast<int>(std::lround(static_cast<double>(size - side) * index / (cells - 1)));
  }
  cv::Size grid_;  // 0 x 0: the target layer's grid
};

}  // namespace

std::unique_ptr<CamMethod> make_occlusion(const PluginConfig& config) {
  return std::make_unique<OcclusionCam>(config);
}

std::vector<SettingSpec> occlusion_settings() {
  return {SettingSpec::grid(
      "grid", "patches per side, each 2 x 112 / (N + 1) px at half-patch strides (0: the target layer's grid)", 0, 56,
      "--occlusion-grid")};
}

}  // namespace amva::cam
