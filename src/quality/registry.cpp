#include <fmt/format.h>

#include "amva/error.hpp"
#include "measures.hpp"

namespace amva::quality {

QualityRegistry& QualityRegistry::instance() {
  // In the order of their names, as quality.csv lists its columns.
  static QualityRegistry registry = [] {
    QualityRegistry r;
    r.add("brightness", make_brightness);
    r.add("brisque", make_brisque, brisque_settings());
    r.add("contrast", make_contrast);
    r.add("face_size", make_face_size);
    r.add("magnitude", make_magnitude);
    r.add("serfiq", make_serfiq);
    r.add("sharpness", make_sharpness);
    return r;
  }();
  return registry;
}

MeasureTraits QualityRegistry::traits(const std::string& name) const {
  const std::lock_guard lock(*traits_mutex_);
  const auto it = traits_.find(name);
  if (it != traits_.end()) return it->second;
  const auto measure = create(name);
  return traits_[name] = {measure->needs_activations(), measure->uses_model(), measure->negated()};
}

}  // namespace amva::quality
