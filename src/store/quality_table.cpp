#include "amva/store/quality_table.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/store/store_folder.hpp"

namespace amva::store {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> methods_of(const std::vector<std::string>& header, const fs::path& file) {
  if (header.size() < 2 || header[0] != "id" || header[1] != "path") {
    throw Error(ErrorCode::Parse, fmt::format("{}: expected columns id, path, methods...", file.string()));
  }
  return {header.begin() + 2, header.end()};
}

fs::path existing_quality_file(const fs::path& store, const std::vector<std::string>& methods) {
  const auto file = StoreFolder{store}.quality();
  if (!fs::exists(file)) {
    throw Error(ErrorCode::NotFound,
                fmt::format("{}: no built-in FIQA scores (make them with: amva quality --store {} --methods {})",
                            file.string(), store.string(),
                            methods.empty() ? "serfiq,brisque" : fmt::format("{}", fmt::join(methods, ","))));
  }
  return file;
}

}  // namespace

QualityReader::QualityReader(const fs::path& store, const std::vector<std::string>& methods)
    : file_(existing_quality_file(store, methods)),
      reader_(file_, ','),
      methods_(methods_of(reader_.header(), file_)) {}

bool QualityReader::next(QualityRow& row) {
  if (!reader_.next(fields_)) return false;
  row.id = fields_[0];
  row.path = fields_[1];
  row.cells.assign(fields_.begin() + 2, fields_.end());
  row.line = static_cast<std::size_t>(reader_.line_number());
  return true;
}

std::optional<QualityTable> QualityTable::read(const fs::path& store) {
  if (!fs::exists(StoreFolder{store}.quality())) return std::nullopt;
  QualityReader reader(store, {});
  std::vector<QualityRow> rows;
  for (QualityRow row; reader.next(row);) rows.push_back(row);
  return QualityTable(reader.methods(), std::move(rows));
}

std::string QualityTable::cell(double score) {
  return std::isnan(score) ? "nan" : fmt::format("{}", score);
}

void QualityTable::set_column(const std::string& name, const std::vector<std::string>& cells) {
  if (methods_.empty()) rows_.resize(cells.size());
  if (cells.size() != rows_.size()) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("quality.csv: {} has {} scores for {} rows", name, cells.size(), rows_.size()));
  }
  const auto at = static_cast<std::size_t>(std::find(methods_.begin(), methods_.end(), name) - methods_.begin());
  if (at == methods_.size()) methods_.push_back(name);
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    auto& row_cells = rows_[r].cells;
    if (at == row_cells.size()) {
      row_cells.push_back(cells[r]);
    } else {
      row_cells[at] = cells[r];
    }
  }
}

void QualityTable::sort_methods() {
  std::vector<std::size_t> order(methods_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return methods_[a] < methods_[b]; });
  const auto permuted = [&](const std::vector<std::string>& v) {
    std::vector<std::string> out;
    for (const auto i : order) out.push_back(v[i]);
    return out;
  };
  methods_ = permuted(methods_);
  for (auto& row : rows_) row.cells = permuted(row.cells);
}

void QualityTable::write(const fs::path& store, const std::vector<Record>& records) const {
  if (records.size() != rows_.size()) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{}: {} score rows for {} records", store.string(), rows_.size(), records.size()));
  }
  std::vector<std::string> header{"id", "path"};
  header.insert(header.end(), methods_.begin(), methods_.end());
  std::string text = io::csv_line(header) + "\n";
  for (std::size_t i = 0; i < records.size(); ++i) {
    std::vector<std::string> row{std::to_string(records[i].id), records[i].path};
    row.insert(row.end(), rows_[i].cells.begin(), rows_[i].cells.end());
    text += io::csv_line(row) + "\n";
  }
  const auto file = StoreFolder{store}.quality();
  // Under the store's lock no other writer's temporary file is live: one left here is a killed
  // run's, which would otherwise stay for good.
  io::remove_temporaries_of(file);
  io::write_text_atomically(file, text);
}

}  // namespace amva::store
