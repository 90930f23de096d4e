#pragma once
// The FIQA method `deviation`: each face's explanation deviation (mean |Z|, as amva explain
// measures it) from a high-quality reference that holds neither the face nor its person,
// written negated to the store's quality.csv (higher is better, as every column there). A stage
// after extraction, since a reference needs the maps of every face: the store must hold maps
// of the deviation's CAM method (occlusion by default; amva run extracts them in its one pass
// when --methods names deviation).
//
// References: cross-fitted by default (analysis/cross_fitting.hpp: identities in K folds, each
// scored against the other folds' high group), or one saved reference_<method>/ folder, refused
// when it holds a face it would score or, with identities known, that face's person.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "amva/analysis/cross_fitting.hpp"
#include "amva/eval/identities.hpp"
#include "amva/progress.hpp"
#include "amva/quality/quality_measure.hpp"

namespace amva::pipeline {

struct DeviationOptions {
  std::filesystem::path store;
  std::string cam = "occlusion";  // the maps that define it
  analysis::CrossFitOptions cross_fit;
  // The quality.csv method whose high group (cross_fit.high_group of the other folds' faces)
  // makes each reference; "all": every face of the other folds.
  std::string reference_method = "serfiq";
  std::filesystem::path reference;  // a saved reference_<method>/ folder instead of cross-fitting
  eval::IdentitySource identities;
  bool identities_from_evident_folders = true;  // as amva analyze: LFW-style folders name people
  // Where each fold's reference is saved as a reference folder (fold_<k>/) that amva explain
  // reads, with deviation.json; empty: not saved.
  std::filesystem::path references_out;
  Progress progress;  // stage messages
};

struct DeviationSummary {
  std::size_t scored = 0;                              // faces with a deviation
  std::size_t identities = 0;                          // people known (0: each face its own unit)
  int folds = 0;                                       // 0 with a saved reference
  std::string reference;                               // in words
  std::vector<double> deviation;                       // per store row: mean |Z|, NaN when not scored
  std::vector<int> fold_of_row;                        // -1: not scored, or scored against a saved reference (0)
  std::vector<std::filesystem::path> fold_references;  // saved, one per fold
  double seconds = 0;
};

/// Scores every face with a map and writes quality.csv's `deviation` column (the negated mean
/// |Z|; NaN for faces without a map), keeping the other columns. Throws Error(NotFound) when the
/// store holds no maps of `cam` (naming the command that makes them) or no scores of the
/// reference method; Error(InvalidArgument) for a saved reference that holds a face it would
/// score or its person, or folds whose references would hold fewer than 2 faces;
/// Error(Mismatch) for a saved reference of another model or CAM method.
DeviationSummary compute_deviation(const DeviationOptions& options);

/// deviation.json, written into the store and beside the fold references: how the scores were
/// made (map kind, reference, folds, seed), for whoever reads quality.csv later.
nlohmann::json deviation_json(const DeviationOptions& options, const DeviationSummary& summary);

}  // namespace amva::pipeline
