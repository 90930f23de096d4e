// Score-CAM with pytorch-grad-cam's semantics: each channel upsampled (bilinear, aligned
// corners) to the input size and min-max normalised with epsilon 1e-8, the input multiplied
// by it, the target evaluated on every masked input (batched), softmax of the scores as
// channel weights, ReLU of the weighted sum. A constant channel becomes an all-zero mask
// (0 / (0 + 1e-8)), never NaN.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "amva/error.hpp"
#include "methods.hpp"

namespace amva::cam {
namespace {

class ScoreCam final : public CamMethod {
 public:
  explicit ScoreCam(const PluginConfig& config) : channels_(config.value("channels", 0)) {}
  [[nodiscard]] nlohmann::json settings(const model::HeadShape&) const override { return {{"channels", channels_}}; }
  [[nodiscard]] std::string name() const override { return "scorecam"; }
  [[nodiscard]] std::string default_target() const override { return "self-cosine"; }
  [[nodiscard]] bool needs_forward() const override { return true; }

 protected:
  [[nodiscard]] std::vector<float> channel_weights(const CamInput& in, const float*) const override {
    if (!in.input || !in.embed) throw Error(ErrorCode::InvalidArgument, "scorecam needs the input and a forward pass");
    const int c_all = in.shape.channels;
    const int p = in.shape.positions();
    const std::vector<int> channels = selected_channels(in);
    const int n = static_cast<int>(channels.size());
    const int height = in.input->size[2];
    const int width = in.input->size[3];
    std::vector<double> scores = target_of_variants(in, n, kVariantsPerForward, [&](int j, cv::Mat(&planes)[3]) {
      const cv::Mat a(in.shape.height, in.shape.width, CV_32F,
                      const_cast<float*>(in.activations + static_cast<std::size_t>(channels[j]) * p));
      cv::Mat up = upsample_align_corners(a, cv::Size(width, height));
      double lo, hi;
      cv::minMaxLoc(up, &lo, &hi);
      up = (up - lo) / (hi - lo + 1e-8);
      for (int k = 0; k < 3; ++k) {
        const cv::Mat src(height, width, CV_32F, const_cast<float*>(in.input->ptr<float>(0, k)));
        cv::multiply(src, up, planes[k]);
      }
    });
    // Softmax over the scored channels; channels left out by --channels K weigh nothing.
    const double top = *std::max_element(scores.begin(), scores.end());
    double total = 0;
    for (auto& s : scores) total += (s = std::exp(s - top));
    std::vector<float> w(static_cast<std::size_t>(c_all), 0.f);
    for (int j = 0; j < n; ++j) w[channels[j]] = static_cast<float>(scores[j] / total);
    return w;
  }

 private:
  // All channels, or the K with the largest spatial activation mass (sum over positions).
  [[nodiscard]] std::vector<int> selected_channels(const CamInput& in) const {
    std::vector<int> all(static_cast<std::size_t>(in.shape.channels));
    std::iota(all.begin(), all.end(), 0);
    const int k = channels_;
    if (k <= 0 || k >= in.shape.channels) return all;
    const int p = in.shape.positions();
    std::vector<double> mass(all.size());
    for (int c = 0; c < in.shape.channels; ++c) {
      const float* a = in.activations + static_cast<std::size_t>(c) * p;
      mass[c] = std::accumulate(a, a + p, 0.0);
    }
    std::partial_sort(all.begin(), all.begin() + k, all.end(),
                      [&](int a, int b) { return mass[a] != mass[b] ? mass[a] > mass[b] : a < b; });
    all.resize(static_cast<std::size_t>(k));
    std::sort(all.begin(), all.end());
    return all;
  }

  int channels_;  // 0: all; K: the K channels of largest activation mass
};

}  // namespace

std::unique_ptr<CamMethod> make_scorecam(const PluginConfig& config) {
  return std::make_unique<ScoreCam>(config);
}

std::vector<SettingSpec> scorecam_settings() {
  return {SettingSpec::whole("channels", "only the K channels of largest activation mass (0: all)", 0, 1000000,
                             "--channels")};
}

}  // namespace amva::cam
