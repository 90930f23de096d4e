#pragma once
// quality.csv, the built-in FIQA scores of a store: id, path, then one column per method, one
// row per record in index.csv's order, "nan" for a record without a score. Every score in it
// is higher-is-better (a measure whose own scale is lower-is-better is stored negated).
// QualityTable is the one reader and writer of the file; QualityReader streams it for stores
// too large to hold as text.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "amva/io/csv.hpp"
#include "amva/store/record.hpp"

namespace amva::store {

/// One row of quality.csv as written: its id and path, and one cell per method.
struct QualityRow {
  std::string id, path;
  std::vector<std::string> cells;
  std::size_t line = 0;  // in the file, for messages
};

/// Streams a store's quality.csv row by row. Error(NotFound) when the store has none (naming
/// the command that makes it, for `methods`), Error(Parse) when its header is not id, path,
/// methods....
class QualityReader {
 public:
  QualityReader(const std::filesystem::path& store, const std::vector<std::string>& methods);
  [[nodiscard]] const std::filesystem::path& file() const { return file_; }
  [[nodiscard]] const std::vector<std::string>& methods() const { return methods_; }
  bool next(QualityRow& row);

 private:
  std::filesystem::path file_;
  io::CsvReader reader_;
  std::vector<std::string> methods_;
  std::vector<std::string> fields_;
};

class QualityTable {
 public:
  QualityTable() = default;
  /// A table of these methods whose row i is record i's when written.
  QualityTable(std::vector<std::string> methods, std::vector<QualityRow> rows)
      : methods_(std::move(methods)), rows_(std::move(rows)) {}
  /// The store's quality.csv; std::nullopt when it has none. Error(Parse) when its header is
  /// not id, path, methods...
  static std::optional<QualityTable> read(const std::filesystem::path& store);

  [[nodiscard]] const std::vector<std::string>& methods() const { return methods_; }
  [[nodiscard]] const std::vector<QualityRow>& rows() const { return rows_; }
  /// The text of a score as the table writes it: "nan" for a missing one, else the shortest
  /// text that reads back as the same double.
  static std::string cell(double score);
  /// Sets method `name`'s column, one cell per row: replaces it, or adds it after the others.
  /// A table without methods takes its row count from `cells`.
  void set_column(const std::string& name, const std::vector<std::string>& cells);
  /// The methods in name order, as `amva quality` writes them.
  void sort_methods();
  /// Writes quality.csv into `store`, row i with record i's id and path: atomically, and only
  /// under the store's lock or into a store being made (a temporary file a killed writer left
  /// is removed first).
  void write(const std::filesystem::path& store, const std::vector<Record>& records) const;

 private:
  std::vector<std::string> methods_;
  std::vector<QualityRow> rows_;
};

}  // namespace amva::store
