#pragma once
// Private: the concrete methods behind CamMethod::create.
#include <memory>

#include "amva/cam/cam_method.hpp"

namespace amva::cam {
std::unique_ptr<CamMethod> make_scorecam(const CamOptions& options);
std::unique_ptr<CamMethod> make_gradcam();
std::unique_ptr<CamMethod> make_gradcam_plus_plus();
std::unique_ptr<CamMethod> make_xgradcam();
std::unique_ptr<CamMethod> make_layercam();
std::unique_ptr<CamMethod> make_contribution();
std::unique_ptr<CamMethod> make_eigencam();
std::unique_ptr<CamMethod> make_occlusion(const CamOptions& options);
}  // namespace amva::cam
