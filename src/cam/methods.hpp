#pragma once
// Private: the concrete methods behind CamMethod::create.
#include <functional>
#include <memory>
#include <vector>

#include "amva/cam/cam_method.hpp"

namespace amva::cam {
std::unique_ptr<CamMethod> make_scorecam(const PluginConfig& config);
std::vector<SettingSpec> scorecam_settings();
std::unique_ptr<CamMethod> make_gradcam();
std::unique_ptr<CamMethod> make_gradcam_plus_plus();
std::unique_ptr<CamMethod> make_xgradcam();
std::unique_ptr<CamMethod> make_layercam();
std::unique_ptr<CamMethod> make_contribution();
std::unique_ptr<CamMethod> make_eigencam();
std::unique_ptr<CamMethod> make_occlusion(const PluginConfig& config);
std::vector<SettingSpec> occlusion_settings();

/// Masked (scorecam) or occluded (occlusion) inputs per forward pass.
inline constexpr int kVariantsPerForward = 64;

/// The forward-only methods' loop: the target at `count` variants of the face's input,
/// forwarded `batch` at a time. `make(i, planes)` writes variant i into its three H x W planes.
std::vector<double> target_of_variants(const CamInput& in, int count, int batch,
                                       const std::function<void(int, cv::Mat (&planes)[3])>& make);
}  // namespace amva::cam
