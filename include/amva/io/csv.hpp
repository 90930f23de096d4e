#pragma once
// Minimal RFC 4180 CSV: quoting on write, quoted fields on read, delimiter detection.
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace amva::io {

/// Quotes a field when it holds the delimiter, a quote or a line break.
std::string csv_field(std::string_view value, char delimiter = ',');
/// Joins fields into one CSV line (no trailing newline).
std::string csv_line(const std::vector<std::string>& fields, char delimiter = ',');
/// Splits one CSV line, honouring double quotes.
std::vector<std::string> split_csv_line(std::string_view line, char delimiter = ',');

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> line_numbers;  // 1-based source line of each row, for error messages
  char delimiter = ',';
  /// Index of a column; throws Error(NotFound) naming `file_label` and the column.
  [[nodiscard]] std::size_t column(std::string_view name, std::string_view file_label = "") const;
};

/// Reads a CSV file with a header one row at a time (for files too large to hold as strings).
/// delimiter 0 detects comma, semicolon or tab from the header line. RFC 4180: a quoted field
/// may hold delimiters, doubled quotes and line breaks, so a record can span several lines
/// (a file name with a newline in it reads back as it was written).
class CsvReader {
 public:
  CsvReader(const std::filesystem::path& file, char delimiter = 0);
  [[nodiscard]] const std::vector<std::string>& header() const { return header_; }
  [[nodiscard]] char delimiter() const { return delimiter_; }
  /// 1-based line where the row last returned by next() starts.
  [[nodiscard]] int line_number() const { return record_line_; }
  /// The next non-empty row; false at the end. Throws Error(Parse) naming the file and line
  /// for a row of the wrong width.
  bool next(std::vector<std::string>& fields);

 private:
  bool next_record(std::string& record);
  std::filesystem::path file_;
  std::ifstream in_;
  std::vector<std::string> header_;
  char delimiter_ = ',';
  int line_number_ = 0;  // physical lines read
  int record_line_ = 0;  // where the last record started
};

/// Reads a CSV file with a header. delimiter 0 detects comma, semicolon or tab from the
/// header line. Throws Error(Parse) naming the file and line for a row of the wrong width.
CsvTable read_csv(const std::filesystem::path& file, char delimiter = 0);

}  // namespace amva::io
