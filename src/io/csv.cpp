#include "amva/io/csv.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "amva/error.hpp"

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

CsvTable read_csv(const std::filesystem::path& file, char delimiter) {
  std::ifstream in(file);
  if (!in) throw Error(ErrorCode::Io, fmt::format("{}: cannot open file", file.string()));
  CsvTable table;
  std::string line;
  int number = 0;
  bool have_header = false;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (!have_header) {
      if (delimiter == 0) {
        const auto count = [&](char d) { return std::count(line.begin(), line.end(), d); };
        delimiter = count('\t') > 0 ? '\t' : count(';') > count(',') ? ';' : ',';
      }
      table.delimiter = delimiter;
      table.header = split_csv_line(line, delimiter);
      have_header = true;
      continue;
    }
    auto fields = split_csv_line(line, delimiter);
    if (fields.size() != table.header.size()) {
      throw Error(ErrorCode::Parse, fmt::format("{}:{}: {} fields, header has {}", file.string(), number, fields.size(),
                                                table.header.size()));
    }
    table.rows.push_back(std::move(fields));
    table.line_numbers.push_back(number);
  }
  if (!have_header) throw Error(ErrorCode::Parse, fmt::format("{}: empty CSV file", file.string()));
  return table;
}

}  // namespace amva::io
