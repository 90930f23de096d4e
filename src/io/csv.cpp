#include "amva/io/csv.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "amva/error.hpp"
#include "amva/io/input_file.hpp"

namespace amva::io {

std::string csv_field(std::string_view value, char delimiter) {
  if (value.find_first_of(std::string{delimiter, '"', '\n', '\r'}) == std::string_view::npos) {
    return std::string(value);
  }
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string csv_line(const std::vector<std::string>& fields, char delimiter) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) line += delimiter;
    line += csv_field(fields[i], delimiter);
  }
  return line;
}

std::vector<std::string> split_csv_line(std::string_view line, char delimiter) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == delimiter) {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

std::size_t CsvTable::column(std::string_view name, std::string_view file_label) const {
  auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) {
    throw Error(ErrorCode::NotFound,
                fmt::format("{}: no column '{}' (columns: {})", file_label, name, fmt::join(header, ", ")));
  }
  return static_cast<std::size_t>(it - header.begin());
}

CsvReader::CsvReader(const std::filesystem::path& file, char delimiter)
    : file_(file), in_(open_input(file, "CSV file")) {
  std::string line;
  while (next_record(line)) {
    if (delimiter == 0) {
      const auto count = [&](char d) { return std::count(line.begin(), line.end(), d); };
      delimiter = count('\t') > 0 ? '\t' : count(';') > count(',') ? ';' : ',';
    }
    delimiter_ = delimiter;
    header_ = split_csv_line(line, delimiter);
    return;
  }
  throw Error(ErrorCode::Parse, fmt::format("{}: empty CSV file", file.string()));
}

// The next non-empty record: physical lines are joined while a quoted field is open (an odd
// number of quotes so far; a doubled quote counts twice and changes nothing).
bool CsvReader::next_record(std::string& record) {
  std::string line;
  const auto read_line = [&] {
    if (!std::getline(in_, line)) return false;
    ++line_number_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  };
  do {
    if (!read_line()) return false;
  } while (line.empty());
  record_line_ = line_number_;
  record = line;
  auto quotes = std::count(record.begin(), record.end(), '"');
  while (quotes % 2 == 1) {
    if (!read_line()) {
      throw Error(ErrorCode::Parse, fmt::format("{}:{}: a quoted field is never closed", file_.string(), record_line_));
    }
    record += '\n';
    record += line;
    quotes += std::count(line.begin(), line.end(), '"');
  }
  return true;
}

bool CsvReader::next(std::vector<std::string>& fields) {
  std::string record;
  if (!next_record(record)) return false;
  fields = split_csv_line(record, delimiter_);
  if (fields.size() != header_.size()) {
    throw Error(ErrorCode::Parse, fmt::format("{}:{}: {} fields, header has {}", file_.string(), record_line_,
                                              fields.size(), header_.size()));
  }
  return true;
}

CsvTable read_csv(const std::filesystem::path& file, char delimiter) {
  CsvReader reader(file, delimiter);
  CsvTable table;
  table.header = reader.header();
  table.delimiter = reader.delimiter();
  std::vector<std::string> fields;
  while (reader.next(fields)) {
    table.rows.push_back(std::move(fields));
    table.line_numbers.push_back(reader.line_number());
  }
  return table;
}

}  // namespace amva::io
