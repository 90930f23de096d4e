// Gradient CAMs with pytorch-grad-cam's formulas; the gradients come from the affine head.
#include <cmath>

#include "methods.hpp"

namespace amva::cam {
namespace {

// Sums over the spatial positions of one channel.
template <typename F>
std::vector<float> per_channel(const CamInput& in, F&& term) {
  const int p = in.shape.positions();
  std::vector<float> w(static_cast<std::size_t>(in.shape.channels));
  for (int c = 0; c < in.shape.channels; ++c) {
    double s = 0;
    for (int i = 0; i < p; ++i) s += term(static_cast<std::size_t>(c) * p + i, c);
    w[c] = static_cast<float>(s);
  }
  return w;
}

// sum over channels of gain(g) * A at every position: the per-position weighting that
// Layer-CAM (gain = ReLU) and the contribution decomposition (gain = identity) share.
template <typename Gain>
cv::Mat gradient_weighted_sum(const CamInput& in, const float* g, Gain&& gain) {
  const int p = in.shape.positions();
  cv::Mat cam(in.shape.height, in.shape.width, CV_32F, cv::Scalar(0));
  auto* out = cam.ptr<float>();
  for (int c = 0; c < in.shape.channels; ++c) {
    for (int i = 0; i < p; ++i) {
      const std::size_t k = static_cast<std::size_t>(c) * p + i;
      out[i] += gain(g[k]) * in.activations[k];
    }
  }
  return cam;
}

class GradientMethod : public CamMethod {
 public:
  [[nodiscard]] bool uses_gradients() const override { return true; }
};

// Grad-CAM: w_c = mean over positions of dt/dA_c, from the channel sums the head gives.
class GradCam final : public GradientMethod {
 public:
  [[nodiscard]] std::string name() const override { return "gradcam"; }
  [[nodiscard]] GradientForm gradient_form() const override { return GradientForm::ChannelSums; }

 protected:
  [[nodiscard]] std::vector<float> channel_weights(const CamInput& in, const float* sums) const override {
    std::vector<float> w(sums, sums + in.shape.channels);
    for (auto& v : w) v /= static_cast<float>(in.shape.positions());
    return w;
  }
};

// Grad-CAM++ (eq. 19): a = g^2 / (2 g^2 + sum(A_c) g^3 + 1e-6), zero where g = 0;
// w_c = sum over positions of ReLU(g) a.
class GradCamPlusPlus final : public GradientMethod {
 public:
  [[nodiscard]] std::string name() const override { return "gradcam++"; }

 protected:
  [[nodiscard]] std::vector<float> channel_weights(const CamInput& in, const float* g) const override {
    const auto sum_a = per_channel(in, [&](std::size_t i, int) { return double(in.activations[i]); });
    return per_channel(in, [&](std::size_t i, int c) {
      const double g1 = g[i];
      if (g1 == 0) return 0.0;
      const double g2 = g1 * g1;
      const double a = g2 / (2 * g2 + sum_a[c] * g2 * g1 + 1e-6);
      return std::max(g1, 0.0) * a;
    });
  }
};

// XGrad-CAM: w_c = sum over positions of g A / (sum(A_c) + 1e-7).
class XGradCam final : public GradientMethod {
 public:
  [[nodiscard]] std::string name() const override { return "xgradcam"; }

 protected:
  [[nodiscard]] std::vector<float> channel_weights(const CamInput& in, const float* g) const override {
    const auto sum_a = per_channel(in, [&](std::size_t i, int) { return double(in.activations[i]); });
    return per_channel(in, [&](std::size_t i, int c) { return double(g[i]) * in.activations[i] / (sum_a[c] + 1e-7); });
  }
};

// Layer-CAM: ReLU(sum over channels of ReLU(g) A), a per-position weighting.
class LayerCam final : public GradientMethod {
 public:
  [[nodiscard]] std::string name() const override { return "layercam"; }

 protected:
  [[nodiscard]] cv::Mat combine(const CamInput& in, const float* g) const override {
    return final_relu(in, gradient_weighted_sum(in, g, [](float v) { return std::max(v, 0.f); }));
  }
};

// The exact decomposition of the embedding over positions: c_p = <u, J_p A_p>, u = e/|e|.
// u is the gradient of the projection target at the image, so c_p = sum_c g_cp A_cp with that
// gradient; because e = J vec(A) + b, the c_p sum to |e| - <u, b>. No ReLU: negative
// contributions are part of the decomposition. The target is always the projection.
class Contribution final : public GradientMethod {
 public:
  [[nodiscard]] std::string name() const override { return "contribution"; }
  [[nodiscard]] bool fixed_target() const override { return true; }

 protected:
  [[nodiscard]] cv::Mat combine(const CamInput& in, const float* g) const override {
    return gradient_weighted_sum(in, g, [](float v) { return v; });
  }
};

}  // namespace

std::unique_ptr<CamMethod> make_gradcam() {
  return std::make_unique<GradCam>();
}
std::unique_ptr<CamMethod> make_gradcam_plus_plus() {
  return std::make_unique<GradCamPlusPlus>();
}
std::unique_ptr<CamMethod> make_xgradcam() {
  return std::make_unique<XGradCam>();
}
std::unique_ptr<CamMethod> make_layercam() {
  return std::make_unique<LayerCam>();
}
std::unique_ptr<CamMethod> make_contribution() {
  return std::make_unique<Contribution>();
}

}  // namespace amva::cam
