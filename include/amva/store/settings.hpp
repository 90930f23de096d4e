#pragma once
// The settings that made a store (meta.json's "settings"), typed for the code that reads them.
// The whole object stays as JSON too: it is what resuming and merging compare
// (settings_mismatch), and what a reference keeps of its store (reference.json's
// store_settings), so that a field added later is compared without a change here.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace amva::store {

struct CamSettings {
  std::optional<std::string> layer;                   // the target layer ("imported" for maps made elsewhere)
  nlohmann::json map_shape;                           // [h, w] when recorded, else null
  nlohmann::json methods = nlohmann::json::object();  // method name -> its options
  [[nodiscard]] bool has(const std::string& method) const { return methods.contains(method); }
  /// The method's options; null when the store has no such maps.
  [[nodiscard]] nlohmann::json options(const std::string& method) const;
};

struct StoreSettings {
  std::string model_sha256;      // of the FR model ("none: ..." for imported maps)
  std::string alignment;         // how faces were brought to the model's input, in words
  nlohmann::json preprocessing;  // the model card's preprocessing, null when not recorded
  bool detected = false;         // faces found and aligned by a detector; else given aligned
  std::optional<CamSettings> cam;
  std::string part;                                // "i/N" for a job array's part; empty for a whole store
  nlohmann::json json = nlohmann::json::object();  // the whole object, as stored

  /// From a "settings" object (meta.json's, or a reference's store_settings). Fields that are
  /// absent stay empty; throws Error(Parse) for a field of the wrong type.
  static StoreSettings from_json(const nlohmann::json& settings);
  /// These settings with `key` set to `value`, or without it when `value` is null.
  [[nodiscard]] StoreSettings with(const std::string& key, const nlohmann::json& value) const;
};

/// The settings in a store's meta.json. Throws Error(NotFound) when `dir` is not a store.
StoreSettings read_settings(const std::filesystem::path& dir);

}  // namespace amva::store
