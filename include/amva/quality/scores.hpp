#pragma once
// FIQA scores per store row: built-in ones from the store's quality.csv, and external ones
// from the files other tools write (DESIGN.md, "Built-in FIQA methods").
//
// External files come in two formats, told apart by their first line:
// - `path score` lines without a header, as CR-FIQA writes (the score is the last
//   whitespace-separated token, the path is everything before it);
// - CSV with a header, delimiter detected (comma, semicolon as OFIQ writes, tab). The path
//   column is the first one named path, file, filename, file_name, image, image_path, img,
//   filepath or name (any case), else the first column; the score column is the one named in
//   FILE:COLUMN, else the only other column, else the only numeric one.
// Matching a row to store images: (1) by relative path: the row's path and the store key are
// equal, or one is a component-wise suffix of the other ("lfw/A/A_0001.jpg" matches
// "A/A_0001.jpg"); (2) else by file name. A path that fits several images is ambiguous and
// left out; an image named by several rows with different scores is a duplicate and left out;
// empty, non-numeric and NaN scores are invalid. Every face of a matched image gets its score.
#include <filesystem>
#include <string>
#include <vector>

#include "amva/store/store.hpp"

namespace amva::quality {

struct ScoreColumn {
  std::string name;            // the FIQA method
  std::string source;          // "quality.csv" or the external file
  bool negated = false;        // a lower-is-better source, negated so that higher is better
  std::vector<double> values;  // one per store row; NaN = no score
};

/// FILE[:COLUMN], optionally prefixed NAME=, as given to --scores.
struct ScoreFileSpec {
  std::filesystem::path file;
  std::string column;  // empty: chosen as the header comment says
  std::string name;    // empty: the column name, or the file stem for `path score` files
  static ScoreFileSpec parse(const std::string& text);
};

struct ScoreMatchReport {
  std::string file;
  std::string format;  // "csv" or "path score"
  std::string path_column;
  std::string score_column;
  std::size_t rows = 0;
  std::size_t matched_by_path = 0;
  std::size_t matched_by_name = 0;
  std::size_t unmatched = 0;
  std::size_t ambiguous = 0;
  std::size_t duplicates = 0;  // images named by several rows with different scores
  std::size_t invalid = 0;     // empty, non-numeric or NaN scores
  std::size_t store_faces = 0;
  std::size_t scored_faces = 0;
  std::vector<std::string> unmatched_examples;  // at most 5 paths
  [[nodiscard]] double matched_fraction() const {
    return store_faces ? static_cast<double>(scored_faces) / static_cast<double>(store_faces) : 0.0;
  }
  /// One line for a terminal: "scores.csv: 13233 rows, 13200 by path, ...".
  [[nodiscard]] std::string describe() const;
};

/// Built-in scores of `names` (empty: every method in quality.csv), higher is better.
/// Throws Error(NotFound) naming the missing method or the missing quality.csv (with the
/// command that makes it), Error(Mismatch) when quality.csv belongs to another index.
std::vector<ScoreColumn> read_builtin_scores(const std::filesystem::path& store,
                                             const std::vector<store::IndexEntry>& index,
                                             const std::vector<std::string>& names);

/// Scores of an external file matched to the store's faces (only rows with ok faces get one).
/// Throws Error(Mismatch) with the report when fewer than `min_match` of the store's faces
/// received a score, Error(Parse) naming the file and line for malformed content.
ScoreColumn load_external_scores(const ScoreFileSpec& spec, const std::vector<store::IndexEntry>& index,
                                 bool lower_is_better, double min_match, ScoreMatchReport& report);

/// What FIQA scores a command wants: built-in methods (empty: every method in quality.csv, when
/// there is one or no files are given) and external files.
struct ScoreRequest {
  std::vector<std::string> methods{};  // built-in methods; empty: all of quality.csv, or none beside `files`
  std::vector<ScoreFileSpec> files{};
  std::vector<std::string> lower_is_better{};  // external methods to negate
  double min_match = 0.9;
};

/// Every requested method's scores, NaN for failed records. Throws Error(InvalidArgument) for
/// two methods of one name, a --lower-is-better name no file gives, or a method whose scores
/// are constant (it cannot rank images); the other errors as above.
std::vector<ScoreColumn> load_scores(const std::filesystem::path& store, const std::vector<store::IndexEntry>& index,
                                     const ScoreRequest& request, std::vector<ScoreMatchReport>& reports);

/// The requested methods whose scores cannot rank images (constant, or missing for every
/// face: face_size on pre-aligned crops), which load_scores refuses. amva run leaves them out
/// of the study with a warning instead of stopping before its report.
std::vector<std::string> unrankable_methods(const std::filesystem::path& store,
                                            const std::vector<store::IndexEntry>& index, const ScoreRequest& request);

}  // namespace amva::quality
