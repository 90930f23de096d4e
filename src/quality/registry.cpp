#include <fmt/format.h>

#include "amva/error.hpp"
#include "measures.hpp"

namespace amva::quality {

QualityRegistry& QualityRegistry::instance() {
  static QualityRegistry registry = [] {
    QualityRegistry r;
    r.add("sharpness", make_sharpness);
    r.add("brightness", make_brightness);
    r.add("contrast", make_contrast);
    r.add("face_size", make_face_size);
    r.add("magnitude", make_magnitude);
    r.add("brisque", make_brisque);
    r.add("serfiq", make_serfiq);
    return r;
  }();
  return registry;
}

void QualityRegistry::add(const std::string& name, Factory factory) {
  factories_[name] = std::move(factory);
}

std::unique_ptr<QualityMeasure> QualityRegistry::create(const std::string& name, const MeasureConfig& config) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("unknown quality measure '{}' (known: {})", name, fmt::join(names(), ", ")));
  }
  return it->second(config);
}

MeasureTraits QualityRegistry::traits(const std::string& name) const {
  const std::lock_guard lock(*traits_mutex_);
  const auto it = traits_.find(name);
  if (it != traits_.end()) return it->second;
  const auto measure = create(name);
  return traits_[name] = {measure->needs_activations(), measure->uses_model(), measure->negated()};
}

std::vector<std::string> QualityRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, f] : factories_) out.push_back(name);
  return out;
}

}  // namespace amva::quality
