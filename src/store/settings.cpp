#include "amva/store/settings.hpp"

#include <fmt/format.h>

#include "amva/error.hpp"
#include "amva/store/store_meta.hpp"

namespace amva::store {
namespace {

std::string text_field(const nlohmann::json& object, const char* key, const char* where) {
  if (!object.contains(key) || object[key].is_null()) return {};
  if (!object[key].is_string()) {
    throw Error(ErrorCode::Parse, fmt::format("{}.{}: expected text, found {}", where, key, object[key].dump()));
  }
  return object[key].get<std::string>();
}

}  // namespace

nlohmann::json CamSettings::options(const std::string& method) const {
  return methods.value(method, nlohmann::json());
}

StoreSettings StoreSettings::from_json(const nlohmann::json& settings) {
  StoreSettings s;
  if (settings.is_null()) return s;
  if (!settings.is_object()) throw Error(ErrorCode::Parse, "settings: expected an object");
  s.json = settings;
  s.model_sha256 = text_field(settings, "model_sha256", "settings");
  s.alignment = text_field(settings, "alignment", "settings");
  s.preprocessing = settings.value("preprocessing", nlohmann::json());
  s.detected = settings.contains("detector") && !settings["detector"].is_null();
  s.part = text_field(settings, "part", "settings");
  if (settings.contains("cam") && settings["cam"].is_object()) {
    const auto& c = settings["cam"];
    CamSettings cam;
    if (c.contains("layer")) cam.layer = text_field(c, "layer", "settings.cam");
    cam.map_shape = c.value("map_shape", nlohmann::json());
    if (c.contains("methods")) {
      if (!c["methods"].is_object()) throw Error(ErrorCode::Parse, "settings.cam.methods: expected an object");
      cam.methods = c["methods"];
    }
    s.cam = std::move(cam);
  }
  return s;
}

StoreSettings StoreSettings::with(const std::string& key, const nlohmann::json& value) const {
  nlohmann::json changed = json;
  if (value.is_null()) {
    changed.erase(key);
  } else {
    changed[key] = value;
  }
  return from_json(changed);
}

StoreSettings read_settings(const std::filesystem::path& dir) {
  return read_meta(dir).settings;
}

}  // namespace amva::store
