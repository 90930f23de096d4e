#pragma once
// Built-in FIQA scores for every face of a store, written to its quality.csv.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "amva/model/model_card.hpp"

namespace amva::pipeline {

struct QualityOptions {
  std::filesystem::path store;
  std::vector<std::string> methods;  // registry names
  model::ModelCard card;             // the store's model (serfiq needs its head)
  std::filesystem::path cache_dir;   // Jacobian cache
  int threads = 2;
  std::function<void(std::size_t done, std::size_t total)> progress;  // faces read so far; may be empty
};

/// Scores already computed (by the extraction pass), by (path, face), then measure name.
using ScoredFaces = std::map<std::pair<std::string, int>, std::map<std::string, double>>;

struct QualitySummary {
  std::size_t scored = 0;                        // faces with scores
  std::size_t rescored = 0;                      // faces scored by re-reading their image
  std::size_t skipped = 0;                       // failed records (NaN scores)
  std::vector<std::string> columns;              // quality.csv columns after the run
  std::map<std::string, std::size_t> undefined;  // per method: faces it could not score (NaN)
};

/// Re-reads each image, re-aligns it from the stored landmarks (the pixels extraction saw),
/// scores it with every method and writes `quality.csv` (id, path, one column per method)
/// atomically; columns of other methods already there are kept. Refuses a model card whose
/// model is not the store's (Error(Mismatch)).
QualitySummary compute_quality(const QualityOptions& options);

/// As compute_quality, but a face's score found in `scored` is used as it is: only the faces
/// without one are re-read and scored. Extraction calls it with the scores of its own pass
/// (and, through add_stored_scores, those quality.csv already holds).
QualitySummary update_quality(const QualityOptions& options, const ScoredFaces& scored);

/// Adds to `scored` the scores of `methods` that the store's quality.csv already holds, for
/// faces `scored` lacks (a grown store keeps what an earlier run computed).
void add_stored_scores(const std::filesystem::path& store, const std::vector<std::string>& methods,
                       ScoredFaces& scored);

}  // namespace amva::pipeline
