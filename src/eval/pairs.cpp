#include "amva/eval/pairs.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <fstream>
#include <sstream>

#include "amva/error.hpp"
#include "amva/io/input_file.hpp"

namespace amva::eval {

namespace {
std::string lfw_key(const std::string& name, int number) {
  return fmt::format("{0}/{0}_{1:04d}.jpg", name, number);
}
}  // namespace

std::vector<Pair> read_lfw_pairs(const std::filesystem::path& file) {
  auto in = io::open_input(file, "pairs file");
  std::string line;
  int folds = 0;
  int per_class = 0;
  if (!std::getline(in, line) || !(std::istringstream(line) >> folds >> per_class) || folds <= 0 || per_class <= 0) {
    throw Error(ErrorCode::Parse, fmt::format("{}:1: expected a header 'folds pairs_per_class'", file.string()));
  }
  std::vector<Pair> pairs;
  int number = 1;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream s(line);
    std::vector<std::string> tokens;
    for (std::string t; s >> t;) tokens.push_back(t);
    if (tokens.empty()) continue;
    const auto where = [&] { return fmt::format("{}:{}", file.string(), number); };
    try {
      std::size_t used = 0;
      const auto to_int = [&](const std::string& t) {
        const int v = std::stoi(t, &used);
        if (used != t.size() || v <= 0) throw std::invalid_argument(t);
        return v;
      };
      const int fold = static_cast<int>(pairs.size() / (2 * static_cast<std::size_t>(per_class)));
      if (tokens.size() == 3) {
        pairs.push_back({lfw_key(tokens[0], to_int(tokens[1])), lfw_key(tokens[0], to_int(tokens[2])), true, fold,
                         tokens[0], tokens[0]});
      } else if (tokens.size() == 4) {
        pairs.push_back({lfw_key(tokens[0], to_int(tokens[1])), lfw_key(tokens[2], to_int(tokens[3])), false, fold,
                         tokens[0], tokens[2]});
      } else {
        throw Error(ErrorCode::Parse, fmt::format("{}: expected 'name n1 n2' or 'name1 n1 name2 n2', got {} fields",
                                                  where(), tokens.size()));
      }
    } catch (const std::logic_error&) {
      throw Error(ErrorCode::Parse, fmt::format("{}: image numbers must be positive integers", where()));
    }
  }
  // In 64 bits: a header's numbers may be anything up to INT_MAX each.
  const auto promised = 2 * static_cast<std::int64_t>(folds) * static_cast<std::int64_t>(per_class);
  if (static_cast<std::int64_t>(pairs.size()) != promised) {
    throw Error(ErrorCode::Parse,
                fmt::format("{}: header promises {} pairs, file has {}", file.string(), promised, pairs.size()));
  }
  return pairs;
}

}  // namespace amva::eval
