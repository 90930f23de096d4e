#pragma once
// Private: the built-in measures behind QualityRegistry.
#include <memory>

#include "amva/quality/quality_measure.hpp"

namespace amva::quality {
std::unique_ptr<QualityMeasure> make_sharpness();
std::unique_ptr<QualityMeasure> make_brightness();
std::unique_ptr<QualityMeasure> make_contrast();
std::unique_ptr<QualityMeasure> make_face_size();
std::unique_ptr<QualityMeasure> make_magnitude();
std::unique_ptr<QualityMeasure> make_brisque();
std::unique_ptr<QualityMeasure> make_serfiq();
}  // namespace amva::quality
