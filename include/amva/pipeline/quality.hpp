#pragma once
// Built-in FIQA scores for every face of a store, written to its quality.csv.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "amva/model/model_card.hpp"

namespace amva::pipeline {

struct QualityOptions {
  std::filesystem::path store;
  std::vector<std::string> methods;  // registry names
  model::ModelCard card;             // the store's model (serfiq needs its head)
  std::filesystem::path cache_dir;   // Jacobian cache
  int threads = 2;
};

struct QualitySummary {
  std::size_t scored = 0;                        // faces with scores
  std::size_t skipped = 0;                       // failed records (NaN scores)
  std::vector<std::string> columns;              // quality.csv columns after the run
  std::map<std::string, std::size_t> undefined;  // per method: faces it could not score (NaN)
};

/// Re-reads each image, re-aligns it from the stored landmarks (the pixels extraction saw),
/// scores it with every method and writes `quality.csv` (id, path, one column per method)
/// atomically; columns of other methods already there are kept. Refuses a model card whose
/// model is not the store's (Error(Mismatch)).
QualitySummary compute_quality(const QualityOptions& options);

}  // namespace amva::pipeline
