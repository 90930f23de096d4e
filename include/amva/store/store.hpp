#pragma once
// The store: a directory holding everything extraction produces (see DESIGN.md, "The store";
// StoreFolder names each file).
//   meta.json        settings that made the store; its "settings" object must match to resume
//                    or merge
//   index.csv        one Record per row, in canonical order (path, face); id = row
//   <name>.npy       float32 arrays whose first axis is the row: embeddings, maps_<cam>, ...
//   quality.csv      built-in FIQA scores, one column per method (QualityTable)
//   deviation.json   how quality.csv's deviation column was made, when it has one
//   shards/NNNNN/    completed chunks of an unfinished extraction, each with its own
//                    index.csv and arrays; finalize() folds them into the files above
//   .commit/         only while a commit runs (or after one was interrupted): the folded
//                    files and, once they are complete, a marker; see store.cpp
//   .lock            the writer's lock (flock), with its process id
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "amva/io/folder_lock.hpp"
#include "amva/store/quality_table.hpp"
#include "amva/store/record.hpp"
#include "amva/store/store_folder.hpp"
#include "amva/store/store_meta.hpp"

namespace amva::store {

/// Rows of one named array: shape of one row (e.g. {512} or {7, 7}) and the data, C order.
struct RowArray {
  std::vector<std::int64_t> row_shape;
  std::vector<float> data;
  [[nodiscard]] std::size_t row_size() const;
  [[nodiscard]] std::size_t rows() const { return row_size() ? data.size() / row_size() : 0; }
  [[nodiscard]] const float* row(std::size_t i) const { return data.data() + i * row_size(); }
};

/// The CAM methods whose maps a store folder holds (every maps_<cam>.npy), sorted; none when
/// the folder does not exist.
std::vector<std::string> cams(const std::filesystem::path& dir);

/// Records and their arrays: a shard, or a whole store.
struct Table {
  std::vector<Record> records;
  std::map<std::string, RowArray> arrays;  // key: file stem, e.g. "embeddings"
  /// The array `name` ("embeddings", "maps_gradcam"); Error(NotFound) naming its .npy file
  /// when the store has none.
  [[nodiscard]] const RowArray& array(const std::string& name) const;
  /// The activation maps of CAM method `cam` (the array maps_<cam>).
  [[nodiscard]] const RowArray& maps(const std::string& cam) const { return array(maps_array(cam)); }
  /// Appends `other`; arrays must have the same names and row shapes.
  void append(const Table& other);
  /// Sorts into canonical order and renumbers ids; throws Error(Mismatch) on a duplicate.
  void canonicalize();
};

struct StoreContent {
  StoreMeta meta;
  Table table;
};

/// One writer per store (io::FolderLock on the store folder): Error(InvalidArgument) "store in
/// use by process N" when another process holds it.
class StoreLock {
 public:
  explicit StoreLock(const std::filesystem::path& dir);

 private:
  io::FolderLock lock_;
};

/// Completes or discards a commit that a kill or a full disk interrupted (under the lock);
/// readers call it, so that they never see a half-committed store.
void recover_if_interrupted(const std::filesystem::path& dir);

class StoreWriter {
 public:
  /// Creates `dir` with `meta`, or reopens it to resume, holding the store's lock until the
  /// writer is gone. An existing store whose settings differ is refused with Error(Mismatch)
  /// naming the setting, and left untouched. An interrupted commit is completed first.
  static StoreWriter open(const std::filesystem::path& dir, const StoreMeta& meta);

  /// Paths already extracted (finalized or in shards): the resume set.
  [[nodiscard]] const std::set<std::string>& done_paths() const { return done_; }
  /// Writes a completed chunk as a new shard, atomically (directory rename).
  void write_shard(const Table& shard);
  /// The number the next shard gets; the ranks of a team number theirs from here.
  [[nodiscard]] int next_shard() const { return next_shard_; }
  /// Folds the shards into the store's top-level files and removes them, by a commit that
  /// survives a kill or a full disk at any instant (the next open completes it).
  StoreContent finalize();
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

 private:
  StoreWriter(std::filesystem::path dir, StoreMeta meta, std::shared_ptr<StoreLock> lock);
  std::filesystem::path dir_;
  StoreMeta meta_;
  std::shared_ptr<StoreLock> lock_;
  std::set<std::string> done_;
  int next_shard_ = 0;
};

/// Writes `shard` as shard `number` of the store in `dir`, atomically (directory rename), without
/// the store's lock: for the ranks of a team whose root holds the StoreWriter and hands out
/// distinct numbers. finalize() folds it in like any other shard.
void write_shard(const std::filesystem::path& dir, int number, const Table& shard);

/// What analyses need of an index row; far smaller than a Record for million-image stores.
struct IndexEntry {
  std::string path;
  bool ok = false;
};
/// Streams index.csv into one entry per row (entry i is row id i).
std::vector<IndexEntry> read_index_entries(const std::filesystem::path& dir);

/// Reads a finalized store. Throws Error naming the file that is missing or inconsistent.
StoreContent read_store(const std::filesystem::path& dir);
/// Reads the records and arrays in one directory (a store or one shard).
Table read_table(const std::filesystem::path& dir);
/// Writes a table into `dir` (index.csv and the arrays), each file atomically.
void write_table(const std::filesystem::path& dir, const Table& table);

/// Writes a new store at `out` as one unit: into a hidden folder beside it (named after it,
/// so that a rerun removes what a killed or failed run left there), then one rename. A kill or
/// a full disk at any instant leaves no part of a store at `out`, and the same command run
/// again succeeds. Throws Error(InvalidArgument) when `out` exists and is not empty.
void write_new_store(const std::filesystem::path& out, const StoreMeta& meta, const Table& table,
                     const std::optional<QualityTable>& quality = std::nullopt);

/// Joins stores made separately into `out`. Their settings must agree and no image path may
/// appear in two of them (Error(Mismatch) naming the store and the path).
StoreContent merge_stores(const std::vector<std::filesystem::path>& inputs, const std::filesystem::path& out);

}  // namespace amva::store
