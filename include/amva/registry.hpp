#pragma once
// Plug-ins by name, each registered with the settings it takes, as OFIQ plugs in its measures:
// one shape for the CAM methods (cam::CamRegistry) and the FIQA measures
// (quality::QualityRegistry). A plug-in's settings are declared beside its factory, so that the
// CLI (flags, environment variables), the Python module and what a store records reach them by
// name, and adding a plug-in with a setting needs no edit outside the plug-in's own area.
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace amva {

/// A plug-in's settings by key, as JSON ({"channels": 16}); a key left out takes its default.
using PluginConfig = nlohmann::json;
/// Several plug-ins' settings, by plug-in name; a plug-in left out takes its defaults.
using PluginConfigs = std::map<std::string, PluginConfig>;

/// The settings `configs` gives plug-in `name` (null when none: its defaults).
inline const PluginConfig& config_for(const PluginConfigs& configs, const std::string& name) {
  static const PluginConfig none;
  const auto it = configs.find(name);
  return it == configs.end() ? none : it->second;
}

/// One setting a plug-in takes.
struct SettingSpec {
  enum class Kind {
    Whole,  // a whole number in [lowest, highest]
    Grid,   // a whole number for both axes, or [rows, cols], each in [lowest, highest]
    Path,   // a file or folder
  };
  std::string key;   // in the plug-in's PluginConfig
  std::string help;  // what it means, for --help
  Kind kind = Kind::Whole;
  int lowest = 0;
  int highest = 0;
  std::string flag;  // the command-line flag that sets it; empty: none
  std::string env;   // the environment variable the CLI takes it from; empty: none

  /// A whole number in [lowest, highest] that `flag` sets.
  static SettingSpec whole(std::string key, std::string help, int lowest, int highest, std::string flag) {
    return {std::move(key), std::move(help), Kind::Whole, lowest, highest, std::move(flag), {}};
  }
  /// A grid's size that `flag` sets for both axes; recorded as [rows, cols].
  static SettingSpec grid(std::string key, std::string help, int lowest, int highest, std::string flag) {
    return {std::move(key), std::move(help), Kind::Grid, lowest, highest, std::move(flag), {}};
  }
  /// A file or folder that the environment variable `env` gives.
  static SettingSpec path(std::string key, std::string help, std::string env) {
    return {std::move(key), std::move(help), Kind::Path, 0, 0, {}, std::move(env)};
  }
};

/// Error(InvalidArgument) naming the plug-in and the key, for a key `specs` does not declare or
/// a value of the wrong kind or out of range; also when `config` is neither null nor an object.
void check_settings(const std::string& name, const std::vector<SettingSpec>& specs, const PluginConfig& config);

/// Error(InvalidArgument): "unknown KIND 'NAME' (one of: KNOWN)".
[[noreturn]] void throw_unknown_plugin(const std::string& kind, const std::string& name,
                                       const std::vector<std::string>& known);

template <class Plugin>
class Registry {
 public:
  /// Makes the plug-in from its settings, already checked against its SettingSpecs.
  using Factory = std::function<std::unique_ptr<Plugin>(const PluginConfig&)>;

  /// `kind` names the plug-ins in messages ("CAM method", "quality measure").
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  /// Adds or replaces a plug-in with the settings it takes.
  void add(const std::string& name, Factory factory, std::vector<SettingSpec> settings = {}) {
    for (auto& e : entries_) {
      if (e.name == name) {
        e = {name, std::move(factory), std::move(settings)};
        return;
      }
    }
    entries_.push_back({name, std::move(factory), std::move(settings)});
  }
  /// The plug-in `name` made with `config` (Error(InvalidArgument) for an unknown name, naming
  /// the known ones, and as check_settings for its settings).
  [[nodiscard]] std::unique_ptr<Plugin> create(const std::string& name, const PluginConfig& config = {}) const {
    const Entry& e = entry(name);
    check_settings(name, e.settings, config);
    return e.factory(config.is_object() ? config : PluginConfig::object());
  }
  /// The registered names, in registration order.
  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.name);
    return out;
  }
  [[nodiscard]] bool contains(const std::string& name) const {
    for (const auto& e : entries_) {
      if (e.name == name) return true;
    }
    return false;
  }
  /// The settings plug-in `name` declares.
  [[nodiscard]] const std::vector<SettingSpec>& settings(const std::string& name) const { return entry(name).settings; }

 private:
  struct Entry {
    std::string name;
    Factory factory;
    std::vector<SettingSpec> settings;
  };
  [[nodiscard]] const Entry& entry(const std::string& name) const {
    for (const auto& e : entries_) {
      if (e.name == name) return e;
    }
    throw_unknown_plugin(kind_, name, names());
  }
  std::string kind_;
  std::vector<Entry> entries_;  // in registration order
};

}  // namespace amva
