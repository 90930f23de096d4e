#include "amva/store/store_meta.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "amva/error.hpp"
#include "amva/io/json_fields.hpp"
#include "amva/io/json_values.hpp"
#include "amva/store/store_folder.hpp"

namespace amva::store {
namespace fs = std::filesystem;

nlohmann::json StoreMeta::to_json() const {
  nlohmann::json j = other;
  if (amva_version) j["amva_version"] = *amva_version;
  if (created) j["created"] = *created;
  if (images) j["images"] = *images;
  if (imported_from) j["imported_from"] = *imported_from;
  if (model) j["model"] = {{"name", model->name}, {"file", model->file}};
  if (detector) j["detector"] = *detector;
  if (embedding_size) j["embedding_size"] = *embedding_size;
  if (head_affinity_error) j["head_affinity_error"] = *head_affinity_error;
  if (merged_from) j["merged_from"] = *merged_from;
  j["settings"] = settings.json;
  return j;
}

StoreMeta StoreMeta::from_json(const nlohmann::json& meta, const fs::path& file) {
  if (!meta.is_object()) throw Error(ErrorCode::Parse, fmt::format("{}: not a JSON object", file.string()));
  const io::JsonFields fields(meta, file);
  StoreMeta m;
  m.other = meta;
  // Fields no command reads are typed when they have their type and kept as they are in
  // `other` when not: a note a user wrote there never stops a command.
  const auto text = [&](const char* key, auto& into) {
    if (meta.contains(key) && meta[key].is_string()) {
      into = meta[key].get<std::string>();
      m.other.erase(key);
    }
  };
  text("amva_version", m.amva_version);
  text("created", m.created);
  text("imported_from", m.imported_from);
  text("detector", m.detector);
  if (meta.contains("model") && meta["model"].is_object() && meta["model"].size() == 2 &&
      meta["model"].value("name", nlohmann::json()).is_string() &&
      meta["model"].value("file", nlohmann::json()).is_string()) {
    m.model = StoreModel{meta["model"]["name"].get<std::string>(), meta["model"]["file"].get<std::string>()};
    m.other.erase("model");
  }
  if (meta.contains("head_affinity_error") && meta["head_affinity_error"].is_number_float()) {
    m.head_affinity_error = meta["head_affinity_error"].get<double>();
    m.other.erase("head_affinity_error");
  }
  if (meta.contains("merged_from") && meta["merged_from"].is_array() &&
      std::all_of(meta["merged_from"].begin(), meta["merged_from"].end(),
                  [](const auto& v) { return v.is_string(); })) {
    m.merged_from = meta["merged_from"].get<std::vector<std::string>>();
    m.other.erase("merged_from");
  }
  // The fields the commands read, with the types they read them as: a hand-edited or damaged
  // meta.json is refused here, naming the field, not deep inside a command.
  if (fields.has("images")) {
    m.images = fields.string("images");
    m.other.erase("images");
  }
  if (fields.has("embedding_size")) {
    const double size = fields.number("embedding_size");
    if (meta["embedding_size"].is_number_integer() && size >= 0 && size <= 1e9) {
      m.embedding_size = static_cast<int>(size);
      m.other.erase("embedding_size");
    }
  }
  (void)fields.object("settings");
  (void)fields.string("settings.model_sha256");
  if (fields.has("settings.detector")) (void)fields.object("settings.detector");
  if (fields.has("settings.cam")) {
    (void)fields.object("settings.cam");
    (void)fields.object("settings.cam.methods");
    if (fields.has("settings.cam.layer")) (void)fields.string("settings.cam.layer");
  }
  m.settings = StoreSettings::from_json(meta["settings"]);
  m.other.erase("settings");
  return m;
}

std::string settings_difference(const nlohmann::json& a, const nlohmann::json& b) {
  std::set<std::string> keys;
  for (const auto& [k, v] : a.items()) keys.insert(k);
  for (const auto& [k, v] : b.items()) keys.insert(k);
  for (const auto& k : keys) {
    const auto va = a.value(k, nlohmann::json());
    const auto vb = b.value(k, nlohmann::json());
    if (va == vb) continue;
    if (va.is_object() && vb.is_object()) return k + "." + settings_difference(va, vb);
    return fmt::format("{}: {} vs {}", k, io::json_text(va, -1), io::json_text(vb, -1));
  }
  return {};
}

std::string settings_mismatch(const StoreMeta& a, const StoreMeta& b) {
  return settings_difference(a.settings.json, b.settings.json);
}

StoreMeta read_meta(const fs::path& dir) {
  const fs::path file = StoreFolder{dir}.meta();
  if (!fs::exists(file)) {
    throw Error(ErrorCode::NotFound, fmt::format("{}: not an amva store (no meta.json)", dir.string()));
  }
  return StoreMeta::from_json(io::parse_json_file(file), file);
}

}  // namespace amva::store
