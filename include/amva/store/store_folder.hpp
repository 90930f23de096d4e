#pragma once
// The files of a store folder (DESIGN.md, "The store"), named in this one place: code outside
// store/ asks a StoreFolder for a file instead of spelling its name, as the analysis and the
// EDC do with AnalysisFolder and EdcFolder.
#include <filesystem>
#include <string>

namespace amva::store {

/// The array of the face embeddings (embeddings.npy), N x D float32, NaN rows for failures.
inline constexpr const char* kEmbeddings = "embeddings";

/// The name of a CAM method's maps array ("maps_<cam>").
std::string maps_array(const std::string& cam);

struct StoreFolder {
  std::filesystem::path dir;

  /// Settings, versions and hashes that made the store; its "settings" must match to resume or merge.
  [[nodiscard]] std::filesystem::path meta() const { return dir / "meta.json"; }
  /// One record per row, in canonical order (path, face); id = row.
  [[nodiscard]] std::filesystem::path index() const { return dir / "index.csv"; }
  /// A float32 array whose first axis is the row (`name` as in Table::arrays).
  [[nodiscard]] std::filesystem::path array(const std::string& name) const { return dir / (name + ".npy"); }
  [[nodiscard]] std::filesystem::path embeddings() const { return array(kEmbeddings); }
  [[nodiscard]] std::filesystem::path maps(const std::string& cam) const { return array(maps_array(cam)); }
  /// The built-in FIQA scores (QualityTable), one column per method.
  [[nodiscard]] std::filesystem::path quality() const { return dir / "quality.csv"; }
  /// How the deviation column of quality.csv was made (pipeline/deviation.hpp).
  [[nodiscard]] std::filesystem::path deviation() const { return dir / "deviation.json"; }
  /// Completed chunks of an unfinished extraction, each a folder of its own index.csv and arrays.
  [[nodiscard]] std::filesystem::path shards() const { return dir / "shards"; }
  /// Only while a commit runs, or after one was interrupted (store.cpp).
  [[nodiscard]] std::filesystem::path commit() const { return dir / ".commit"; }
};

}  // namespace amva::store
