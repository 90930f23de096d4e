#include "amva/cam/cam_method.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "amva/error.hpp"
#include "methods.hpp"

namespace amva::cam {

void CamMethod::check_target_gradient(const CamInput& in) const {
  if (gradient_vanishes_at_self(*in.target, in.embedding, in.shape.embedding)) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("target '{}' has a vanishing gradient at the image itself, so {} would give a "
                            "meaningless map; use the target 'projection' (the default for gradient methods)",
                            in.target->name(), name()));
  }
}

std::vector<float> CamMethod::activation_gradients(const CamInput& in) const {
  if (!in.head) throw Error(ErrorCode::InvalidArgument, fmt::format("{} needs the affine head", name()));
  const int d = in.shape.embedding;
  std::vector<float> dt_de(static_cast<std::size_t>(d));
  in.target->gradient(in.embedding, in.embedding, d, dt_de.data());
  if (gradient_form() == GradientForm::ChannelSums) {
    std::vector<float> sums(static_cast<std::size_t>(in.shape.channels));
    in.head->channel_sums_of_transpose_apply(dt_de.data(), 1, sums.data());
    return sums;
  }
  std::vector<float> grads(static_cast<std::size_t>(in.shape.inputs()));
  in.head->transpose_apply(dt_de.data(), grads.data());
  return grads;
}

std::vector<float> CamMethod::channel_weights(const CamInput&, const float*) const {
  throw Error(ErrorCode::InvalidArgument, fmt::format("{} defines no channel weights", name()));
}

cv::Mat CamMethod::combine(const CamInput& in, const float* grads) const {
  const auto w = channel_weights(in, grads);
  const int p = in.shape.positions();
  cv::Mat cam(in.shape.height, in.shape.width, CV_32F, cv::Scalar(0));
  auto* out = cam.ptr<float>();
  for (int c = 0; c < in.shape.channels; ++c) {
    const float* a = in.activations + static_cast<std::size_t>(c) * p;
    for (int i = 0; i < p; ++i) out[i] += w[c] * a[i];
  }
  return final_relu(in, cam);
}

cv::Mat CamMethod::final_relu(const CamInput& in, const cv::Mat& map) {
  return in.before_relu ? map : cv::Mat(cv::max(map, 0.f));
}

cv::Mat CamMethod::compute(const CamInput& in) const {
  if (!uses_gradients()) return combine(in, nullptr);
  if (!in.target) throw Error(ErrorCode::InvalidArgument, fmt::format("{} needs a target", name()));
  check_target_gradient(in);
  if (in.gradients) return combine(in, in.gradients);
  const std::vector<float> grads = activation_gradients(in);
  return combine(in, grads.data());
}

CamRegistry& CamRegistry::instance() {
  static CamRegistry registry = [] {
    CamRegistry r;
    r.add("scorecam", make_scorecam, scorecam_settings());
    r.add("gradcam", [](const PluginConfig&) { return make_gradcam(); });
    r.add("gradcam++", [](const PluginConfig&) { return make_gradcam_plus_plus(); });
    r.add("xgradcam", [](const PluginConfig&) { return make_xgradcam(); });
    r.add("layercam", [](const PluginConfig&) { return make_layercam(); });
    r.add("contribution", [](const PluginConfig&) { return make_contribution(); });
    r.add("eigencam", [](const PluginConfig&) { return make_eigencam(); });
    r.add("occlusion", make_occlusion, occlusion_settings());
    return r;
  }();
  return registry;
}

nlohmann::json method_record(const CamMethod& method, const model::HeadShape& layer, const std::string& target) {
  nlohmann::json j = method.settings(layer);
  j["target"] = target;
  if (method.uses_gradients() && method.gradient_form() == GradientForm::ChannelSums)
    j[kGradientFormKey] = "summed by channel";  // (before 2026-12-07 Grad-CAM multiplied by all of J)
  return j;
}

PluginConfig recorded_config(const nlohmann::json& recorded) {
  PluginConfig config = PluginConfig::object();
  if (!recorded.is_object()) return config;
  for (const auto& [key, value] : recorded.items()) {
    if (key != "target" && key != kGradientFormKey) config[key] = value;
  }
  return config;
}

BatchGradients::BatchGradients(const std::vector<std::pair<const Target*, GradientForm>>& wanted,
                               const cv::Mat& embeddings, const model::AffineHead& head)
    : per_position_(static_cast<std::size_t>(head.shape().inputs())),
      channels_(static_cast<std::size_t>(head.shape().channels)) {
  const int n = embeddings.rows, dim = embeddings.cols;
  for (const auto& [target, form] : wanted) {
    auto [it, fresh] = gradients_.try_emplace({target->name(), form});
    if (!fresh) continue;
    std::vector<float> dt_de(static_cast<std::size_t>(n) * dim);
    for (int i = 0; i < n; ++i) {
      const float* e = embeddings.ptr<float>(i);
      target->gradient(e, e, dim, dt_de.data() + static_cast<std::size_t>(i) * dim);
    }
    if (form == GradientForm::ChannelSums) {
      it->second.resize(static_cast<std::size_t>(n) * channels_);
      head.channel_sums_of_transpose_apply(dt_de.data(), n, it->second.data());
    } else {
      it->second.resize(static_cast<std::size_t>(n) * per_position_);
      head.transpose_apply_batch(dt_de.data(), n, it->second.data());
    }
  }
}

const float* BatchGradients::of(const Target& target, GradientForm form, int face) const {
  const auto& all = gradients_.at({target.name(), form});
  return all.data() + static_cast<std::size_t>(face) * (form == GradientForm::ChannelSums ? channels_ : per_position_);
}

std::vector<std::string> CamMethod::names() {
  return CamRegistry::instance().names();
}

std::unique_ptr<CamMethod> CamMethod::create(const std::string& name, const PluginConfig& config) {
  return CamRegistry::instance().create(name, config);
}

std::vector<double> target_of_variants(const CamInput& in, int count, int batch,
                                       const std::function<void(int, cv::Mat (&planes)[3])>& make) {
  const int height = in.input->size[2], width = in.input->size[3];
  const int d = in.shape.embedding;
  std::vector<double> values(static_cast<std::size_t>(count));
  batch = std::max(1, batch);
  for (int first = 0; first < count; first += batch) {
    const int m = std::min(batch, count - first);
    cv::Mat variants(std::vector<int>{m, 3, height, width}, CV_32F);
    for (int j = 0; j < m; ++j) {
      cv::Mat planes[3];
      for (int k = 0; k < 3; ++k) planes[k] = cv::Mat(height, width, CV_32F, variants.ptr<float>(j, k));
      make(first + j, planes);
    }
    const cv::Mat e = in.embed(variants);
    for (int j = 0; j < m; ++j) values[first + j] = in.target->value(e.ptr<float>(j), in.embedding, d);
  }
  return values;
}

cv::Mat upsample_align_corners(const cv::Mat& src, cv::Size size) {
  cv::Mat out(size, CV_32F);
  const double sy = size.height > 1 ? double(src.rows - 1) / (size.height - 1) : 0;
  const double sx = size.width > 1 ? double(src.cols - 1) / (size.width - 1) : 0;
  for (int y = 0; y < size.height; ++y) {
    const double fy = y * sy;
    const int y0 = std::min(static_cast<int>(fy), src.rows - 1);
    const int y1 = std::min(y0 + 1, src.rows - 1);
    const double ty = fy - y0;
    for (int x = 0; x < size.width; ++x) {
      const double fx = x * sx;
      const int x0 = std::min(static_cast<int>(fx), src.cols - 1);
      const int x1 = std::min(x0 + 1, src.cols - 1);
      const double tx = fx - x0;
      const double top = (1 - tx) * src.at<float>(y0, x0) + tx * src.at<float>(y0, x1);
      const double bottom = (1 - tx) * src.at<float>(y1, x0) + tx * src.at<float>(y1, x1);
      out.at<float>(y, x) = static_cast<float>((1 - ty) * top + ty * bottom);
    }
  }
  return out;
}

}  // namespace amva::cam
