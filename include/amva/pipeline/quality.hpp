#pragma once
// Built-in FIQA scores for every face of a store, written to its quality.csv.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "amva/io/list_part.hpp"
#include "amva/model/model_card.hpp"
#include "amva/progress.hpp"
#include "amva/quality/quality_measure.hpp"
#include "amva/store/record.hpp"
#include "amva/team.hpp"

namespace amva::pipeline {

struct QualityOptions {
  std::filesystem::path store;
  std::vector<std::string> methods;  // registry names
  model::ModelCard card;             // the store's model (serfiq needs its head)
  std::filesystem::path cache_dir;   // Jacobian cache
  int threads = 2;
  PluginConfigs measures;  // the FIQA measures' settings, by measure (QualityRegistry::settings)
  io::ListPart part;       // a job array's share: every N-th record, into quality-part-i-of-N.csv
  Progress progress;       // counts stage "quality": faces read so far
};

/// Scores already computed (by the extraction pass), by (path, face), then measure name.
using ScoredFaces = std::map<std::pair<std::string, int>, std::map<std::string, double>>;

struct QualitySummary {
  std::size_t scored = 0;                        // faces with scores
  std::size_t rescored = 0;                      // faces scored by re-reading their image
  std::size_t skipped = 0;                       // failed records (NaN scores)
  std::vector<std::string> columns;              // quality.csv columns after the run
  std::map<std::string, std::size_t> undefined;  // per method: faces it could not score (NaN)
  std::filesystem::path part_file;               // with a part: where its scores went
};

/// Re-reads each image, re-aligns it from the stored landmarks (the pixels extraction saw),
/// scores it with every method and writes `quality.csv` (id, path, one column per method)
/// atomically; columns of other methods already there are kept. Refuses a model card whose
/// model is not the store's (Error(Mismatch)).
/// With a part (i of N), only every N-th record is scored, into quality-part-i-of-N.csv beside
/// quality.csv and without the store's lock, so that the parts of a job array run side by
/// side; the next run without a part takes their scores instead of re-reading those faces,
/// writes quality.csv and removes the part files.
/// With a `team` of N ranks (every rank calls it with the same options), the faces to score are
/// handed out in blocks to whichever rank is free and the root writes the file; on the other
/// ranks the summary counts only their own faces.
QualitySummary compute_quality(const QualityOptions& options, Team* team = nullptr);

/// As compute_quality, but a face's score found in `scored` is used as it is: only the faces
/// without one are re-read and scored. Extraction calls it with the scores of its own pass
/// (and, through add_stored_scores, those quality.csv already holds).
QualitySummary update_quality(const QualityOptions& options, const ScoredFaces& scored, Team* team = nullptr);

/// Adds to `scored` the scores of `methods` that the store's quality.csv already holds, for
/// faces `scored` lacks (a grown store keeps what an earlier run computed).
void add_stored_scores(const std::filesystem::path& store, const std::vector<std::string>& methods,
                       ScoredFaces& scored);

/// Writes the store's quality.csv with the columns `names` (scores[m][row]; NaN written "nan")
/// replaced or added, and the other columns kept when they cover the same rows; returns its
/// header. The caller holds the store's lock.
std::vector<std::string> write_quality_columns(const std::filesystem::path& store,
                                               const std::vector<store::Record>& records,
                                               const std::vector<std::string>& names,
                                               const std::vector<std::vector<double>>& scores);

}  // namespace amva::pipeline
