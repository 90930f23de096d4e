#pragma once
// A store's meta.json, typed: what made the store (its settings, compared on resume and
// merge) and what describes it (version, time, image source, model, detector). from_json and
// to_json round-trip: a field amva does not know (a later version's, a user's note) is kept
// in `other` and written back.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "amva/store/settings.hpp"

namespace amva::store {

struct StoreModel {
  std::string name;  // the model card's
  std::string file;  // the model file's name
  bool operator==(const StoreModel&) const = default;
};

struct StoreMeta {
  std::optional<std::string> amva_version;
  std::optional<std::string> created;        // UTC, ISO 8601
  std::optional<std::string> images;         // the folder or list the records' paths are relative to
  std::optional<std::string> imported_from;  // the maps a store of imported maps was made from
  std::optional<StoreModel> model;           // the FR model that made the embeddings and maps
  std::optional<std::string> detector;       // the face detector, in words ("none": faces given aligned)
  std::optional<int> embedding_size;
  std::optional<double> head_affinity_error;            // of the affine head the maps were made through
  std::optional<std::vector<std::string>> merged_from;  // the stores `amva store merge` joined
  StoreSettings settings;
  nlohmann::json other = nlohmann::json::object();  // every other field, as read

  /// meta.json's object; keys in JSON's (sorted) order, so equal metas write equal files.
  [[nodiscard]] nlohmann::json to_json() const;
  /// From meta.json's object. Throws Error(Parse) naming `file` and the field when a field
  /// amva reads has the wrong type or settings.model_sha256 is missing.
  static StoreMeta from_json(const nlohmann::json& meta, const std::filesystem::path& file = "meta.json");
};

/// The first setting in which two settings objects differ, as "key: a vs b" with the key's
/// path down to the values that differ ("cam.methods.gradcam.target: ..."); empty when they
/// agree.
std::string settings_difference(const nlohmann::json& a, const nlohmann::json& b);
/// The same for two stores' settings: what resuming and merging compare.
std::string settings_mismatch(const StoreMeta& a, const StoreMeta& b);

/// A store's meta.json. Throws Error(NotFound) when `dir` is not a store, Error(Parse) as
/// StoreMeta::from_json.
StoreMeta read_meta(const std::filesystem::path& dir);

}  // namespace amva::store
