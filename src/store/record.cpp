#include "amva/store/record.hpp"

#include <fmt/format.h>

#include <limits>

#include "amva/error.hpp"
#include "amva/io/numbers.hpp"

namespace amva::store {

const std::vector<std::string>& index_columns() {
  static const std::vector<std::string> kColumns = {"id",    "path",  "face",  "status",      "reason",      "error",
                                                    "box_x", "box_y", "box_w", "box_h",       "score",       "le_x",
                                                    "le_y",  "re_x",  "re_y",  "nose_x",      "nose_y",      "lm_x",
                                                    "lm_y",  "rm_x",  "rm_y",  "image_width", "image_height"};
  return kColumns;
}

std::vector<std::string> to_fields(const Record& r) {
  // Shortest text that reads back to the same float: re-aligning from index.csv gives the
  // very pixels extraction saw.
  const auto num = [](float v) { return fmt::format("{}", v); };
  const auto& d = r.detection;
  std::vector<std::string> f = {
      std::to_string(r.id), r.path,       std::to_string(r.face), r.ok ? "ok" : "error", r.reason,    r.error,
      num(d.box.x),         num(d.box.y), num(d.box.width),       num(d.box.height),     num(d.score)};
  for (const auto& p : d.landmarks) {
    f.push_back(num(p.x));
    f.push_back(num(p.y));
  }
  f.push_back(std::to_string(r.image_width));
  f.push_back(std::to_string(r.image_height));
  return f;
}

Record record_from_fields(const std::vector<std::string>& f, const std::string& where) {
  if (f.size() != index_columns().size()) {
    throw Error(ErrorCode::Parse, fmt::format("{}: {} fields, expected {}", where, f.size(), index_columns().size()));
  }
  const auto field = [&](std::size_t k) -> double {
    const auto v = io::to_double(f[k]);
    if (!v) {
      throw Error(ErrorCode::Parse,
                  fmt::format("{}: column {} ({}) is '{}', not a number", where, k + 1, index_columns()[k], f[k]));
    }
    return *v;
  };
  const auto integer = [&](std::size_t k, std::int64_t least) -> std::int64_t {
    const auto v = io::to_integer(f[k]);
    if (!v || *v < least || *v > std::numeric_limits<int>::max()) {
      throw Error(ErrorCode::Parse, fmt::format("{}: column {} ({}) is '{}', not a whole number", where, k + 1,
                                                index_columns()[k], f[k]));
    }
    return *v;
  };
  Record r;
  r.id = integer(0, 0);
  r.path = f[1];
  r.face = static_cast<int>(integer(2, -1));
  if (f[3] != "ok" && f[3] != "error") {
    throw Error(ErrorCode::Parse, fmt::format("{}: status is '{}', not ok or error", where, f[3]));
  }
  r.ok = f[3] == "ok";
  r.reason = f[4];
  r.error = f[5];
  const auto flt = [&](std::size_t k) { return static_cast<float>(field(k)); };
  r.detection.box = cv::Rect2f(flt(6), flt(7), flt(8), flt(9));
  r.detection.score = flt(10);
  for (std::size_t k = 0; k < 5; ++k) r.detection.landmarks[k] = cv::Point2f(flt(11 + 2 * k), flt(12 + 2 * k));
  r.image_width = static_cast<int>(integer(21, 0));
  r.image_height = static_cast<int>(integer(22, 0));
  return r;
}

bool canonical_less(const Record& a, const Record& b) {
  return a.path != b.path ? a.path < b.path : a.face < b.face;
}

}  // namespace amva::store
