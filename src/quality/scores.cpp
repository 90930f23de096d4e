#include "amva/quality/scores.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>

#include "amva/error.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/input_file.hpp"
#include "amva/io/numbers.hpp"
#include "amva/io/safe_name.hpp"
#include "amva/quality/quality_measure.hpp"
#include "amva/store/path_matcher.hpp"
#include "amva/store/quality_table.hpp"

namespace amva::quality {
namespace fs = std::filesystem;
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A score is a finite number: NaN, infinities and numbers past a double's range are invalid
// (and counted as such); subnormal values are numbers.
std::optional<double> parse_score(const std::string& text) {
  const auto v = io::to_double(text);
  if (!v || !std::isfinite(*v)) return std::nullopt;
  return v;
}

bool is_path_column(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  static const std::vector<std::string> kNames = {"path",       "file", "filename", "file_name", "image",
                                                  "image_path", "img",  "filepath", "name"};
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

struct RawRow {
  std::string path;
  std::string score;
  int line = 0;
};

// `path score` lines: true when the first non-empty line is exactly that (no header).
bool looks_like_path_score(const fs::path& file) {
  auto in = io::open_input(file, "score file");
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line.find(',') != std::string::npos || line.find(';') != std::string::npos) return false;
    std::stringstream tokens(line);
    std::vector<std::string> t;
    for (std::string s; tokens >> s;) t.push_back(s);
    return t.size() >= 2 && parse_score(t.back()).has_value();
  }
  return false;
}

std::vector<RawRow> read_path_score_lines(const fs::path& file) {
  auto in = io::open_input(file, "score file");
  std::vector<RawRow> rows;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto end = line.find_last_not_of(" \t");
    if (end == std::string::npos) continue;
    line.erase(end + 1);
    const auto split = line.find_last_of(" \t");
    if (split == std::string::npos) {
      throw Error(ErrorCode::Parse, fmt::format("{}:{}: expected 'path score', got '{}'", file.string(), number, line));
    }
    auto path = line.substr(0, split);
    path.erase(path.find_last_not_of(" \t") + 1);
    path.erase(0, path.find_first_not_of(" \t"));
    rows.push_back({path, line.substr(split + 1), number});
  }
  return rows;
}

std::vector<RawRow> read_csv_scores(const fs::path& file, const std::string& wanted, ScoreMatchReport& report) {
  const auto csv = io::read_csv(file);
  const auto& h = csv.header;
  std::size_t path_col = 0;
  for (std::size_t c = 0; c < h.size(); ++c) {
    if (is_path_column(h[c])) {
      path_col = c;
      break;
    }
  }
  std::size_t score_col = h.size();
  if (!wanted.empty()) {
    score_col = csv.column(wanted, file.string());
  } else if (h.size() == 2) {
    score_col = 1 - path_col;
  } else {
    std::vector<std::size_t> numeric;
    for (std::size_t c = 0; c < h.size(); ++c) {
      if (c != path_col && !csv.rows.empty() && parse_score(csv.rows.front()[c])) numeric.push_back(c);
    }
    if (numeric.size() != 1) {
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("{}: several score columns; name one as {}:COLUMN (columns: {})", file.string(),
                              file.string(), fmt::join(h, ", ")));
    }
    score_col = numeric.front();
  }
  if (h.size() < 2)
    throw Error(ErrorCode::Parse, fmt::format("{}: a score file needs a path and a score column", file.string()));
  report.path_column = h[path_col];
  report.score_column = h[score_col];
  std::vector<RawRow> rows;
  rows.reserve(csv.rows.size());
  for (std::size_t i = 0; i < csv.rows.size(); ++i) {
    rows.push_back({csv.rows[i][path_col], csv.rows[i][score_col], csv.line_numbers[i]});
  }
  return rows;
}

}  // namespace

ScoreFileSpec ScoreFileSpec::parse(const std::string& text) {
  ScoreFileSpec spec;
  std::string rest = text;
  if (const auto eq = rest.find('='); eq != std::string::npos && rest.find('/') > eq) {
    spec.name = rest.substr(0, eq);
    rest = rest.substr(eq + 1);
  }
  spec.file = rest;
  // Any reason a path cannot be looked up (too long, no permission) means "not there" here.
  const auto exists = [](const fs::path& p) {
    std::error_code ec;
    return fs::exists(p, ec);
  };
  if (!exists(spec.file)) {
    if (const auto colon = rest.rfind(':'); colon != std::string::npos && exists(rest.substr(0, colon))) {
      spec.file = rest.substr(0, colon);
      spec.column = rest.substr(colon + 1);
    }
  }
  if (!exists(spec.file)) throw Error(ErrorCode::NotFound, fmt::format("{}: score file not found", rest));
  return spec;
}

std::string ScoreMatchReport::describe() const {
  auto s = fmt::format(
      "{} ({}{}): {} rows; matched {} by path, {} by file name; {} unmatched, {} ambiguous, {} "
      "duplicate images, {} invalid scores; {} of {} faces scored ({:.1f} %)",
      file, format, score_column.empty() ? "" : ", column " + score_column, rows, matched_by_path, matched_by_name,
      unmatched, ambiguous, duplicates, invalid, scored_faces, store_faces, 100.0 * matched_fraction());
  if (!unmatched_examples.empty()) s += fmt::format("; unmatched e.g. {}", fmt::join(unmatched_examples, ", "));
  return s;
}

std::vector<ScoreColumn> read_builtin_scores(const fs::path& store, const std::vector<store::IndexEntry>& index,
                                             const std::vector<std::string>& names) {
  store::QualityReader reader(store, names);
  const auto& file = reader.file();
  const auto& methods = reader.methods();
  std::vector<std::size_t> cols;
  std::vector<ScoreColumn> out;
  const auto& wanted = names.empty() ? methods : names;
  for (const auto& name : wanted) {
    const auto it = std::find(methods.begin(), methods.end(), name);
    if (it == methods.end()) {
      throw Error(
          ErrorCode::NotFound,
          fmt::format("{}: no scores of '{}' (it has: {}); make them with: amva quality --store {} --methods {}",
                      file.string(), name, fmt::join(methods, ", "), store.string(), name));
    }
    cols.push_back(static_cast<std::size_t>(it - methods.begin()));
    // quality.csv holds scores already higher-is-better; `negated` says whether that came from
    // negating the measure's own scale (brisque), as it does for external files.
    bool negated = name == kDeviationMethod;
    if (quality::QualityRegistry::instance().contains(name)) {
      negated = quality::QualityRegistry::instance().traits(name).negated;
    }
    out.push_back({name, file.filename().string(), negated, std::vector<double>(index.size(), kNaN)});
  }
  store::QualityRow r;
  std::size_t row = 0;
  while (reader.next(r)) {
    if (row >= index.size() || r.id != std::to_string(row) || r.path != index[row].path) {
      throw Error(ErrorCode::Mismatch,
                  fmt::format("{}:{}: row does not match index.csv (run amva quality again)", file.string(), r.line));
    }
    for (std::size_t m = 0; m < cols.size(); ++m) {
      // Empty and nan are the scores of failed records; anything else that is not a number
      // means the file was damaged or edited by hand.
      const auto& text = r.cells[cols[m]];
      const auto v = io::to_double(text);
      if (!v && text.find_first_not_of(" \t") != std::string::npos) {
        throw Error(ErrorCode::Parse, fmt::format("{}:{}: {} is '{}', not a number (run amva quality again)",
                                                  file.string(), r.line, out[m].name, text));
      }
      out[m].values[row] = v.value_or(kNaN);
    }
    ++row;
  }
  if (row != index.size()) {
    throw Error(ErrorCode::Mismatch, fmt::format("{}: {} rows but index.csv has {} (run amva quality again)",
                                                 file.string(), row, index.size()));
  }
  return out;
}

ScoreColumn load_external_scores(const ScoreFileSpec& spec, const std::vector<store::IndexEntry>& index,
                                 bool lower_is_better, double min_match, ScoreMatchReport& report) {
  report = {};
  report.file = spec.file.string();
  std::vector<RawRow> rows;
  if (spec.column.empty() && looks_like_path_score(spec.file)) {
    report.format = "path score";
    rows = read_path_score_lines(spec.file);
  } else {
    report.format = "csv";
    rows = read_csv_scores(spec.file, spec.column, report);
  }
  report.rows = rows.size();

  ScoreColumn column;
  column.name = !spec.name.empty()       ? spec.name
                : report.format == "csv" ? report.score_column
                                         : spec.file.stem().string();
  column.source = spec.file.string();
  column.negated = lower_is_better;
  column.values.assign(index.size(), kNaN);

  const store::PathMatcher matcher(index);
  std::map<std::string, double> by_key;  // first score given to each image
  std::set<std::string> conflicting;
  for (const auto& r : rows) {
    const auto score = parse_score(r.score);
    if (!score) {
      ++report.invalid;
      continue;
    }
    const auto m = matcher.find(r.path);
    switch (m.how) {
      case store::PathMatcher::How::None:
        ++report.unmatched;
        if (report.unmatched_examples.size() < 5) report.unmatched_examples.push_back(r.path);
        continue;
      case store::PathMatcher::How::Ambiguous:
        ++report.ambiguous;
        continue;
      case store::PathMatcher::How::Path:
        ++report.matched_by_path;
        break;
      case store::PathMatcher::How::Name:
        ++report.matched_by_name;
        break;
    }
    const auto [it, inserted] = by_key.emplace(m.key, *score);
    if (!inserted && it->second != *score) conflicting.insert(m.key);
  }
  report.duplicates = conflicting.size();
  for (const auto& [key, score] : by_key) {
    if (conflicting.count(key)) continue;
    for (const auto row : matcher.rows(key)) {
      if (index[static_cast<std::size_t>(row)].ok)
        column.values[static_cast<std::size_t>(row)] = lower_is_better ? -score : score;
    }
  }
  for (std::size_t i = 0; i < index.size(); ++i) {
    if (!index[i].ok) continue;
    ++report.store_faces;
    if (!std::isnan(column.values[i])) ++report.scored_faces;
  }
  if (report.matched_fraction() < min_match) {
    throw Error(ErrorCode::Mismatch, fmt::format("too few store faces have a score (at least {:.0f} % needed): {}",
                                                 100.0 * min_match, report.describe()));
  }
  return column;
}

namespace {
// Whether a method's scores can rank images: two different values among the scored faces.
bool ranks(const ScoreColumn& c) {
  double first = kNaN;
  for (double v : c.values) {
    if (std::isnan(v)) continue;
    if (std::isnan(first)) first = v;
    if (v != first) return true;
  }
  return false;
}

std::vector<ScoreColumn> load_columns(const fs::path& store, const std::vector<store::IndexEntry>& index,
                                      const ScoreRequest& opt, std::vector<ScoreMatchReport>& reports) {
  std::vector<ScoreColumn> columns;
  // Built-in methods: those named, else every one quality.csv holds, but none when score files
  // are given (as --methods' help says: `--scores X=F` alone analyses X alone).
  if (!opt.methods.empty() || opt.files.empty()) {
    columns = read_builtin_scores(store, index, opt.methods);
  }
  std::set<std::string> external;
  for (const auto& spec : opt.files) {
    ScoreMatchReport rep;
    // The name is known only once the file's format is read; negation is applied after.
    auto column = load_external_scores(spec, index, false, opt.min_match, rep);
    if (std::find(opt.lower_is_better.begin(), opt.lower_is_better.end(), column.name) != opt.lower_is_better.end()) {
      for (auto& v : column.values) v = -v;
      column.negated = true;
    }
    external.insert(column.name);
    reports.push_back(rep);
    columns.push_back(std::move(column));
  }
  for (const auto& name : opt.lower_is_better) {
    if (!external.count(name)) {
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("--lower-is-better {}: no external score file gives method '{}' (built-in scores are "
                              "already higher-is-better)",
                              name, name));
    }
  }
  std::set<std::string> seen;
  for (auto& c : columns) {
    if (!seen.insert(c.name).second) {
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("two FIQA methods are named '{}'; rename one with --scores NAME=FILE", c.name));
    }
    if (!io::is_safe_name(c.name) || c.name.starts_with("reference_")) {
      throw Error(ErrorCode::InvalidArgument, fmt::format("'{}' cannot name a method (it names folders)", c.name));
    }
    for (std::size_t i = 0; i < index.size(); ++i) {
      if (!index[i].ok) c.values[i] = kNaN;
    }
  }
  return columns;
}

}  // namespace

std::vector<ScoreColumn> load_scores(const fs::path& store, const std::vector<store::IndexEntry>& index,
                                     const ScoreRequest& opt, std::vector<ScoreMatchReport>& reports) {
  auto columns = load_columns(store, index, opt, reports);
  for (const auto& c : columns) {
    if (!ranks(c)) {
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("FIQA method '{}' ({}): scores are constant or missing; it cannot rank images", c.name,
                              c.source));
    }
  }
  return columns;
}

std::vector<std::string> unrankable_methods(const fs::path& store, const std::vector<store::IndexEntry>& index,
                                            const ScoreRequest& request) {
  std::vector<ScoreMatchReport> reports;
  std::vector<std::string> names;
  for (const auto& c : load_columns(store, index, request, reports)) {
    if (!ranks(c)) names.push_back(c.name);
  }
  return names;
}

}  // namespace amva::quality
