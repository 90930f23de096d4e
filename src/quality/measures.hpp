#pragma once
// Private: the built-in measures behind QualityRegistry.
#include <memory>

#include "amva/quality/quality_measure.hpp"

namespace amva::quality {
std::unique_ptr<QualityMeasure> make_sharpness(const MeasureConfig& config);
std::unique_ptr<QualityMeasure> make_brightness(const MeasureConfig& config);
std::unique_ptr<QualityMeasure> make_contrast(const MeasureConfig& config);
std::unique_ptr<QualityMeasure> make_face_size(const MeasureConfig& config);
std::unique_ptr<QualityMeasure> make_magnitude(const MeasureConfig& config);
std::unique_ptr<QualityMeasure> make_brisque(const MeasureConfig& config);
std::unique_ptr<QualityMeasure> make_serfiq(const MeasureConfig& config);
}  // namespace amva::quality
