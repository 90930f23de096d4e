#include "amva/store/store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <numeric>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/fault_injection.hpp"
#include "amva/io/json_fields.hpp"
#include "amva/io/json_values.hpp"
#include "amva/io/npy.hpp"
#include "amva/io/numbers.hpp"

namespace amva::store {
namespace fs = std::filesystem;

std::size_t RowArray::row_size() const {
  return static_cast<std::size_t>(
      std::accumulate(row_shape.begin(), row_shape.end(), std::int64_t{1}, std::multiplies<>()));
}

std::string maps_array(const std::string& cam) {
  return "maps_" + cam;
}

std::vector<std::string> cams(const fs::path& dir) {
  std::vector<std::string> found;
  if (!fs::is_directory(dir)) return found;
  for (const auto& item : fs::directory_iterator(dir)) {
    const auto name = item.path().filename().string();
    if (name.starts_with("maps_") && name.ends_with(".npy")) found.push_back(name.substr(5, name.size() - 9));
  }
  std::sort(found.begin(), found.end());
  return found;
}

void Table::append(const Table& other) {
  if (records.empty() && arrays.empty()) {
    *this = other;
    return;
  }
  for (const auto& [name, array] : other.arrays) {
    auto it = arrays.find(name);
    if (it == arrays.end() || it->second.row_shape != array.row_shape) {
      throw Error(ErrorCode::Mismatch, fmt::format("array '{}' is missing or has another row shape", name));
    }
    it->second.data.insert(it->second.data.end(), array.data.begin(), array.data.end());
  }
  if (arrays.size() != other.arrays.size()) throw Error(ErrorCode::Mismatch, "tables hold different arrays");
  records.insert(records.end(), other.records.begin(), other.records.end());
}

void Table::canonicalize() {
  std::vector<std::size_t> order(records.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return canonical_less(records[a], records[b]); });
  std::vector<Record> sorted;
  sorted.reserve(records.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    sorted.push_back(records[order[i]]);
    sorted.back().id = static_cast<std::int64_t>(i);
    if (i > 0 && sorted[i - 1].path == sorted[i].path && sorted[i - 1].face == sorted[i].face) {
      throw Error(ErrorCode::Mismatch,
                  fmt::format("image '{}' (face {}) appears twice", sorted[i].path, sorted[i].face));
    }
  }
  for (auto& [name, array] : arrays) {
    const std::size_t w = array.row_size();
    std::vector<float> data(array.data.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      std::copy_n(array.data.begin() + static_cast<std::ptrdiff_t>(order[i] * w), w,
                  data.begin() + static_cast<std::ptrdiff_t>(i * w));
    }
    array.data = std::move(data);
  }
  records = std::move(sorted);
}

namespace {

// A step of the commit protocol, where the tests inject a kill or a full disk.
void commit_step(const std::string& what) {
  io::fault_point("AMVA_FAULT_COMMIT_STEP", what);
}

// index.csv and the arrays of `table` in `dir`; `step` is called before each file.
void write_table_files(const fs::path& dir, const Table& table, const std::function<void(const fs::path&)>& step) {
  const StoreFolder folder{dir};
  fs::create_directories(dir);
  for (const auto& [name, array] : table.arrays) {
    std::vector<std::int64_t> shape{static_cast<std::int64_t>(table.records.size())};
    shape.insert(shape.end(), array.row_shape.begin(), array.row_shape.end());
    if (array.rows() != table.records.size()) {
      throw Error(ErrorCode::Mismatch,
                  fmt::format("array '{}' has {} rows for {} records", name, array.rows(), table.records.size()));
    }
    step(folder.array(name));
    io::write_npy(folder.array(name), shape, array.data.data());
  }
  step(folder.index());
  io::write_atomically(folder.index(), [&](std::ostream& out) {
    out << io::csv_line(index_columns()) << '\n';
    for (const auto& r : table.records) out << io::csv_line(to_fields(r)) << '\n';
  });
}

// The commit protocol. The consolidated table is first written whole into .commit/, and a
// marker says it is complete; only then are its files renamed over the store's, the shards
// removed, and .commit/ removed. Each rename is atomic, so whatever instant a kill or a full
// disk strikes, the next open finds either no marker (the old files and the shards are
// untouched: .commit/ is discarded and the commit redone) or the marker (the consolidated
// files are all there, in .commit/ or already moved: the moves are finished).
constexpr const char* kComplete = "COMPLETE";

void publish_commit(const fs::path& dir) {
  const StoreFolder folder{dir};
  const fs::path staging = folder.commit();
  std::vector<fs::path> files;
  for (const auto& item : fs::directory_iterator(staging)) {
    if (item.path().filename() != kComplete) files.push_back(item.path());
  }
  // index.csv last: a reader that looks before recovery sees the old index with new arrays,
  // which read_table refuses by row count rather than misreads.
  const auto index_name = folder.index().filename();
  std::sort(files.begin(), files.end(), [&](const fs::path& a, const fs::path& b) {
    return std::pair{a.filename() == index_name, a} < std::pair{b.filename() == index_name, b};
  });
  for (const auto& f : files) {
    commit_step(f.string());
    fs::rename(f, dir / f.filename());
  }
  commit_step(folder.shards().string());
  fs::remove_all(folder.shards());
  commit_step(staging.string());
  fs::remove_all(staging);
}

// Finishes a commit that was interrupted after its marker, or discards one interrupted before.
void recover_commit(const fs::path& dir) {
  const fs::path staging = StoreFolder{dir}.commit();
  if (!fs::exists(staging)) return;
  if (fs::exists(staging / kComplete)) {
    publish_commit(dir);
  } else {
    fs::remove_all(staging);
  }
}

}  // namespace

void write_table(const fs::path& dir, const Table& table) {
  write_table_files(dir, table, [](const fs::path&) {});
}

Table read_table(const fs::path& dir) {
  const fs::path index = StoreFolder{dir}.index();
  if (!fs::exists(index)) throw Error(ErrorCode::NotFound, fmt::format("{}: no index.csv", dir.string()));
  const io::CsvTable csv = io::read_csv(index, ',');
  if (csv.header != index_columns()) {
    throw Error(ErrorCode::Parse, fmt::format("{}: unexpected columns", index.string()));
  }
  Table t;
  for (std::size_t i = 0; i < csv.rows.size(); ++i) {
    t.records.push_back(record_from_fields(csv.rows[i], fmt::format("{}:{}", index.string(), csv.line_numbers[i])));
  }
  for (const auto& item : fs::directory_iterator(dir)) {
    if (item.path().extension() != ".npy") continue;
    io::NpyArray a = io::read_npy(item.path());
    if (a.rows() != static_cast<std::int64_t>(t.records.size())) {
      throw Error(ErrorCode::Mismatch,
                  fmt::format("{}: {} rows but index.csv has {}", item.path().string(), a.rows(), t.records.size()));
    }
    t.arrays[item.path().stem().string()] = {std::vector<std::int64_t>(a.shape.begin() + 1, a.shape.end()),
                                             std::move(a.data)};
  }
  return t;
}

const RowArray& Table::array(const std::string& name) const {
  const auto it = arrays.find(name);
  if (it == arrays.end()) {
    throw Error(ErrorCode::NotFound,
                fmt::format("the store has no {}.npy (extract again with the options that make it)", name));
  }
  return it->second;
}

std::vector<IndexEntry> read_index_entries(const fs::path& dir) {
  recover_if_interrupted(dir);
  const fs::path file = StoreFolder{dir}.index();
  if (!fs::exists(file)) {
    throw Error(ErrorCode::NotFound, fmt::format("{}: extraction not finished (no index.csv; run amva extract "
                                                 "again to resume)",
                                                 dir.string()));
  }
  io::CsvReader reader(file, ',');
  const auto& columns = index_columns();
  if (reader.header() != columns) throw Error(ErrorCode::Parse, fmt::format("{}: unexpected header", file.string()));
  std::vector<IndexEntry> entries;
  std::vector<std::string> f;
  while (reader.next(f)) {
    if (f[0] != std::to_string(entries.size())) {
      throw Error(ErrorCode::Parse, fmt::format("{}:{}: id {} out of order (expected {})", file.string(),
                                                reader.line_number(), f[0], entries.size()));
    }
    // As record_from_fields (extract and quality): a status other than ok or error means a
    // damaged index, named with its row, not a face quietly left out.
    if (f[3] != "ok" && f[3] != "error") {
      throw Error(ErrorCode::Parse,
                  fmt::format("{}:{}: status is '{}', not ok or error", file.string(), reader.line_number(), f[3]));
    }
    entries.push_back({std::move(f[1]), f[3] == "ok"});
  }
  return entries;
}

namespace {
std::vector<fs::path> shard_dirs(const fs::path& dir) {
  const StoreFolder folder{dir};
  std::vector<fs::path> shards;
  if (!fs::is_directory(folder.shards())) return shards;
  for (const auto& item : fs::directory_iterator(folder.shards())) {
    const auto name = item.path().filename().string();
    // Only the writer's own numbered folders: anything else there is not a shard.
    const bool numbered = !name.empty() && name.size() < 10 &&
                          std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (item.is_directory() && numbered) shards.push_back(item.path());
  }
  std::sort(shards.begin(), shards.end());
  return shards;
}
}  // namespace

StoreContent read_store(const fs::path& dir) {
  const StoreFolder folder{dir};
  if (!fs::exists(folder.meta())) {
    throw Error(ErrorCode::NotFound, fmt::format("{}: not an amva store (no meta.json)", dir.string()));
  }
  recover_if_interrupted(dir);
  StoreContent s{read_meta(dir), {}};
  if (!fs::exists(folder.index())) {
    throw Error(ErrorCode::NotFound, fmt::format("{}: extraction not finished (no index.csv; run amva extract "
                                                 "again to resume)",
                                                 dir.string()));
  }
  s.table = read_table(dir);
  return s;
}

StoreLock::StoreLock(const fs::path& dir) : lock_(dir, "store") {}

void recover_if_interrupted(const fs::path& dir) {
  if (!fs::exists(StoreFolder{dir}.commit())) return;
  const StoreLock lock(dir);
  recover_commit(dir);
}

StoreWriter::StoreWriter(fs::path dir, StoreMeta meta, std::shared_ptr<StoreLock> lock)
    : dir_(std::move(dir)), meta_(std::move(meta)), lock_(std::move(lock)) {}

StoreWriter StoreWriter::open(const fs::path& dir, const StoreMeta& meta) {
  const StoreFolder folder{dir};
  if (!fs::exists(folder.meta())) {
    // A folder holding only the lock and a killed first meta.json's temporary file is a store
    // being born (by another process, whose lock then says so, or by a dead one).
    if (fs::exists(dir) && !io::holds_only_an_interrupted_write(dir, folder.meta().filename().string())) {
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("{}: folder exists, is not empty and is not an amva store", dir.string()));
    }
    fs::create_directories(dir);
  }
  // The lock first: a second process creating the same store is told it is in use, and the
  // settings are read, or meta.json written, by the lock's holder alone.
  auto lock = std::make_shared<StoreLock>(dir);
  if (fs::exists(folder.meta())) {
    const auto existing = read_meta(dir);
    if (auto diff = settings_mismatch(existing, meta); !diff.empty()) {
      throw Error(ErrorCode::Mismatch,
                  fmt::format("{}: store was made with other settings ({}); use another --out", dir.string(), diff));
    }
  } else {
    io::remove_temporaries_of(folder.meta());
    io::write_text_atomically(folder.meta(), io::json_text(meta.to_json(), 2) + "\n");
  }
  recover_commit(dir);
  StoreWriter w(dir, meta, std::move(lock));
  if (fs::exists(folder.index())) {
    for (const auto& r : read_table(dir).records) w.done_.insert(r.path);
  }
  for (const auto& shard : shard_dirs(dir)) {
    for (const auto& r : read_table(shard).records) w.done_.insert(r.path);
    w.next_shard_ = std::max(w.next_shard_, std::stoi(shard.filename().string()) + 1);
  }
  return w;
}

void write_shard(const fs::path& dir, int number, const Table& shard) {
  const StoreFolder folder{dir};
  const fs::path final_dir = folder.shards() / fmt::format("{:05d}", number);
  const fs::path temp_dir = folder.shards() / fmt::format(".tmp-{:05d}", number);
  fs::remove_all(temp_dir);
  write_table(temp_dir, shard);
  io::fault_point("AMVA_FAULT_SHARD_STEP", final_dir.string());
  fs::rename(temp_dir, final_dir);
}

void StoreWriter::write_shard(const Table& shard) {
  store::write_shard(dir_, next_shard_, shard);
  ++next_shard_;
  for (const auto& r : shard.records) done_.insert(r.path);
}

StoreContent StoreWriter::finalize() {
  const StoreFolder folder{dir_};
  StoreContent s{read_meta(dir_), {}};
  if (fs::exists(folder.index())) s.table = read_table(dir_);
  const auto shards = shard_dirs(dir_);
  for (const auto& shard : shards) s.table.append(read_table(shard));
  s.table.canonicalize();
  if (!shards.empty() || !fs::exists(folder.index())) {
    const fs::path staging = folder.commit();
    fs::remove_all(staging);
    write_table_files(staging, s.table, [](const fs::path& f) { commit_step(f.string()); });
    commit_step((staging / kComplete).string());
    io::write_text_atomically(staging / kComplete, "");
    publish_commit(dir_);
  } else {
    fs::remove_all(folder.shards());
  }
  return s;
}

namespace {

// A store's settings without its job-array part: the parts of one run merge.
StoreMeta without_part(StoreMeta meta) {
  meta.settings = meta.settings.with("part", nullptr);
  return meta;
}

// Each input's quality.csv, keyed by (path, face) so that it follows the records to their ids
// in the merged store. Every input must score the same measures: a column some parts lack
// would otherwise become a column of holes. None when no input has one.
std::optional<QualityTable> merged_quality(const std::vector<fs::path>& inputs,
                                           const std::vector<StoreContent>& contents, const Table& merged) {
  std::vector<std::string> columns;
  bool any = false;
  std::map<std::pair<std::string, int>, std::vector<std::string>> rows;
  for (std::size_t s = 0; s < inputs.size(); ++s) {
    const auto table = QualityTable::read(inputs[s]);
    const auto these = table ? table->methods() : std::vector<std::string>{};
    if (s > 0 && (table.has_value() != any || these != columns)) {
      throw Error(
          ErrorCode::Mismatch,
          fmt::format("{}: cannot merge, its quality.csv columns [{}] differ from {}'s [{}]; score every "
                      "store with the same --quality (or none) before merging, or add measures to the "
                      "merged store with amva quality",
                      inputs[s].string(), fmt::join(these, ", "), inputs.front().string(), fmt::join(columns, ", ")));
    }
    any = table.has_value();
    columns = these;
    if (!table) continue;
    const auto& records = contents[s].table.records;
    for (const auto& row : table->rows()) {
      const auto id = io::to_integer(row.id);
      if (!id || *id < 0 || static_cast<std::size_t>(*id) >= records.size() ||
          records[static_cast<std::size_t>(*id)].path != row.path) {
        throw Error(ErrorCode::Mismatch, fmt::format("{}:{}: quality row names no record of its store",
                                                     StoreFolder{inputs[s]}.quality().string(), row.line));
      }
      const auto& record = records[static_cast<std::size_t>(*id)];
      rows[{record.path, record.face}] = row.cells;
    }
  }
  if (!any) return std::nullopt;
  std::vector<QualityRow> ordered;
  for (const auto& r : merged.records) {
    const auto found = rows.find({r.path, r.face});
    if (found == rows.end()) {
      throw Error(ErrorCode::Mismatch, fmt::format("{}: cannot merge, face {} has no quality.csv row", r.path, r.face));
    }
    ordered.push_back({std::to_string(r.id), r.path, found->second});
  }
  return QualityTable(columns, std::move(ordered));
}

}  // namespace

StoreContent merge_stores(const std::vector<fs::path>& inputs, const fs::path& out) {
  if (inputs.empty()) throw Error(ErrorCode::InvalidArgument, "merge needs at least one store");
  std::vector<StoreContent> contents;
  for (const auto& in : inputs) contents.push_back(read_store(in));
  StoreContent merged{without_part(contents.front().meta), contents.front().table};
  merged.table.canonicalize();  // a store written by other tools may hold its rows in another order
  for (std::size_t i = 1; i < inputs.size(); ++i) {
    const StoreContent& next = contents[i];
    if (auto diff = settings_mismatch(merged.meta, without_part(next.meta)); !diff.empty()) {
      throw Error(ErrorCode::Mismatch, fmt::format("{}: cannot merge, settings differ from {} ({})", inputs[i].string(),
                                                   inputs.front().string(), diff));
    }
    try {
      merged.table.append(next.table);
      merged.table.canonicalize();
    } catch (const Error& e) {
      throw Error(ErrorCode::Mismatch, fmt::format("{}: cannot merge ({})", inputs[i].string(), e.what()));
    }
  }
  const auto quality = merged_quality(inputs, contents, merged.table);
  merged.meta.merged_from.emplace();
  for (const auto& in : inputs) merged.meta.merged_from->push_back(fs::absolute(in).string());
  write_new_store(out, merged.meta, merged.table, quality);
  return merged;
}

void write_new_store(const fs::path& out, const StoreMeta& meta, const Table& table,
                     const std::optional<QualityTable>& quality) {
  const auto refuse_if_taken = [&] {
    std::error_code ec;
    if (fs::exists(out, ec) && (!fs::is_directory(out, ec) || !fs::is_empty(out, ec))) {
      throw Error(ErrorCode::InvalidArgument, fmt::format("{}: output folder exists and is not empty", out.string()));
    }
  };
  refuse_if_taken();
  fs::path target = fs::absolute(out).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "store/" names "store"
  const fs::path partial = target.parent_path() / fmt::format(".{}.amva-partial", target.filename().string());
  fs::create_directories(partial);
  // Two commands making one store at once shared this folder, each deleting the other's files.
  const io::FolderLock one_writer(partial, fmt::format("the new store {}", out.string()));
  refuse_if_taken();  // made by a writer that finished while this one waited for the lock
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(partial)) {
    if (entry.path().filename() != io::kLockName) fs::remove_all(entry.path(), ec);  // a killed run's
  }
  try {
    write_table(partial, table);
    if (quality) quality->write(partial, table.records);
    io::write_text_atomically(StoreFolder{partial}.meta(), io::json_text(meta.to_json(), 2) + "\n");
    io::fault_point("AMVA_FAULT_NEW_STORE_STEP", out.string());
    fs::remove(out, ec);  // an empty folder the user made for it
    fs::rename(partial, out, ec);
    if (ec) {
      throw Error(ErrorCode::Io,
                  fmt::format("{}: cannot move the new store into place ({})", out.string(), ec.message()));
    }
  } catch (...) {
    fs::remove_all(partial, ec);  // a failed command leaves no part of a store behind
    throw;
  }
}

}  // namespace amva::store
