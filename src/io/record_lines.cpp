#include "amva/io/record_lines.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "amva/error.hpp"
#include "amva/io/input_file.hpp"

namespace amva::io {

std::vector<std::string> record_fields(std::string line) {
  if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
  std::replace(line.begin(), line.end(), ',', ' ');
  std::replace(line.begin(), line.end(), '\t', ' ');
  std::istringstream s(line);
  std::vector<std::string> t;
  for (std::string x; s >> x;) t.push_back(x);
  return t;
}

void for_each_record(const std::filesystem::path& file, const std::string& what, const std::string& format,
                     const std::function<void(const std::vector<std::string>&, int)>& f) {
  auto in = open_input(file, what);
  const auto fields = static_cast<std::size_t>(std::count(format.begin(), format.end(), ' ') + 1);
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto t = record_fields(line);
    if (t.empty()) continue;
    if (t.size() != fields) {
      throw Error(ErrorCode::Parse,
                  fmt::format("{}:{}: expected '{}', got {} fields", file.string(), number, format, t.size()));
    }
    f(t, number);
  }
}

}  // namespace amva::io
