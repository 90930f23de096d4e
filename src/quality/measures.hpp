#pragma once
// Private: the built-in measures behind QualityRegistry.
#include <memory>
#include <vector>

#include "amva/quality/quality_measure.hpp"

namespace amva::quality {
std::unique_ptr<QualityMeasure> make_sharpness(const PluginConfig& config);
std::unique_ptr<QualityMeasure> make_brightness(const PluginConfig& config);
std::unique_ptr<QualityMeasure> make_contrast(const PluginConfig& config);
std::unique_ptr<QualityMeasure> make_face_size(const PluginConfig& config);
std::unique_ptr<QualityMeasure> make_magnitude(const PluginConfig& config);
std::unique_ptr<QualityMeasure> make_brisque(const PluginConfig& config);
/// brisque's model_dir: where OpenCV's BRISQUE model and range are.
std::vector<SettingSpec> brisque_settings();
std::unique_ptr<QualityMeasure> make_serfiq(const PluginConfig& config);
}  // namespace amva::quality
