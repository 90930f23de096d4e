#include "amva/registry.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "amva/error.hpp"

namespace amva {
namespace {

bool whole_in_range(const nlohmann::json& v, const SettingSpec& spec) {
  if (!v.is_number_integer()) return false;
  const auto n = v.get<std::int64_t>();
  return n >= spec.lowest && n <= spec.highest;
}

bool fits(const nlohmann::json& value, const SettingSpec& spec) {
  if (spec.kind == SettingSpec::Kind::Path) return value.is_string() && !value.get<std::string>().empty();
  if (whole_in_range(value, spec)) return true;
  return spec.kind == SettingSpec::Kind::Grid && value.is_array() && value.size() == 2 &&
         whole_in_range(value[0], spec) && whole_in_range(value[1], spec);
}

}  // namespace

void check_settings(const std::string& name, const std::vector<SettingSpec>& specs, const PluginConfig& config) {
  if (config.is_null()) return;
  if (!config.is_object()) {
    throw Error(ErrorCode::InvalidArgument, fmt::format("{}: settings must be an object of key: value", name));
  }
  for (const auto& item : config.items()) {
    // Not a structured binding: clang 14 does not let a lambda capture one.
    const std::string& key = item.key();
    const auto& value = item.value();
    const auto spec = std::find_if(specs.begin(), specs.end(), [&](const auto& s) { return s.key == key; });
    if (spec == specs.end()) {
      std::vector<std::string> keys;
      for (const auto& s : specs) keys.push_back(s.key);
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("{} has no setting '{}' ({})", name, key,
                              keys.empty() ? "it takes none" : fmt::format("its settings: {}", fmt::join(keys, ", "))));
    }
    if (!fits(value, *spec)) {
      const std::string expected =
          spec->kind == SettingSpec::Kind::Path
              ? "a path"
              : fmt::format("a whole number from {} to {}{}", spec->lowest, spec->highest,
                            spec->kind == SettingSpec::Kind::Grid ? ", or [rows, cols] of them" : "");
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("{}: setting '{}' must be {}, not {}", name, key, expected, value.dump()));
    }
  }
}

void throw_unknown_plugin(const std::string& kind, const std::string& name, const std::vector<std::string>& known) {
  throw Error(ErrorCode::InvalidArgument,
              fmt::format("unknown {} '{}' (one of: {})", kind, name, fmt::join(known, ", ")));
}

}  // namespace amva
