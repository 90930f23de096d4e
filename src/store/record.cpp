#include "amva/store/record.hpp"

#include <fmt/format.h>

#include "amva/error.hpp"

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
  try {
    Record r;
    r.id = std::stoll(f[0]);
    r.path = f[1];
    r.face = std::stoi(f[2]);
    if (f[3] != "ok" && f[3] != "error") throw std::invalid_argument("status");
    r.ok = f[3] == "ok";
    r.reason = f[4];
    r.error = f[5];
    r.detection.box = cv::Rect2f(std::stof(f[6]), std::stof(f[7]), std::stof(f[8]), std::stof(f[9]));
    r.detection.score = std::stof(f[10]);
    for (int k = 0; k < 5; ++k)
      r.detection.landmarks[k] = cv::Point2f(std::stof(f[11 + 2 * k]), std::stof(f[12 + 2 * k]));
    r.image_width = std::stoi(f[21]);
    r.image_height = std::stoi(f[22]);
    return r;
  } catch (const std::logic_error& e) {
    throw Error(ErrorCode::Parse, fmt::format("{}: malformed index row ({})", where, e.what()));
  }
}

bool canonical_less(const Record& a, const Record& b) {
  return a.path != b.path ? a.path < b.path : a.face < b.face;
}

}  // namespace amva::store
