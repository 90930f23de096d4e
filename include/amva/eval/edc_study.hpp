#pragma once
// The FR implications of FIQA decisions for a store: comparisons, the EDC of every FIQA
// method against the same fixed threshold, the ideal and random baselines, and the errors
// within each method's quality groups (`amva edc`).
//
// Output folder (EdcFolder names each file): edc.json (settings, threshold, per method: starting errors, pAUC raw and
// minus the ideal area at each discard limit with bootstrap intervals, the curve points, group
// errors; paired intervals of every pair of methods' pAUC difference), edc.csv (every curve
// point), pauc.csv (the pAUC table with intervals), pauc_differences.csv, comparisons.csv,
// groups.csv, edc.png (curves with their bootstrap bands) and distributions.png, with .svg beside them on request.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "amva/eval/identities.hpp"
#include "amva/progress.hpp"
#include "amva/quality/scores.hpp"
#include "amva/stats/groups.hpp"
#include "amva/viz/figures.hpp"

namespace amva::eval {

struct EdcOptions {
  std::filesystem::path store;
  std::filesystem::path out;
  std::filesystem::path pairs;       // LFW pairs.txt or an `a b is_same` list
  std::filesystem::path labels;      // `path identity` lines
  bool labels_from_folders = false;  // identities from parent folders
  std::size_t max_nonmated = 200000;
  std::uint64_t seed = 29794;
  quality::ScoreRequest scores;
  bool with_random = false;  // adds a "random" FIQA method: uniform scores drawn with `seed`
  double fmr = 1e-3;
  std::optional<double> start_fnmr;  // fix the threshold at this FNMR instead of the FMR
  std::vector<double> discard_limits = {0.20};
  bool erc_refit = false;
  stats::GroupRule group;
  int random_orders = 100;  // random-order discards averaged for the baseline
  int bootstrap = 1000;     // replicates for the pAUC intervals (0: none)
  double confidence = 0.95;
  BootstrapUnit bootstrap_unit = BootstrapUnit::Auto;  // Auto: identities when the comparisons know them
  viz::FigureOptions figures;
  bool force = false;  // write into a non-empty folder amva did not make
  Progress progress;  // stage messages
};

/// A pAUC with its bootstrap interval (NaN bounds without a bootstrap).
struct Pauc {
  double value = 0, lo = 0, hi = 0;
};
/// The errors at the fixed threshold among the comparisons of one quality group (low: either
/// face in the group; high: both faces in it).
struct EdcGroupErrors {
  std::size_t faces = 0, mated = 0, nonmated = 0;
  double fnmr = 0, fmr = 0;  // NaN without comparisons of that kind
  double score_min = 0, score_max = 0;
};
/// One FIQA method's pAUC at each of EdcOptions::discard_limits, raw and minus the ideal area,
/// and the errors within its low and high quality groups.
struct EdcMethod {
  std::string name;
  std::vector<Pauc> fnm, fm;
  std::vector<Pauc> fnm_above_ideal, fm_above_ideal;
  EdcGroupErrors low, high;
};
/// The comparisons a study used.
struct EdcComparisons {
  std::string source;  // how they were chosen, in words
  std::size_t used = 0, mated = 0, nonmated = 0, excluded = 0;
};
/// pAUC(method_a) - pAUC(method_b) on the same bootstrap replicates, at one discard limit.
struct PaucDifference {
  bool fnm = true;  // FNM-EDC, else FM-EDC
  double limit = 0;
  std::string method_a, method_b;
  Pauc difference;
  std::string verdict;  // "<a> better", "<b> better" or "no difference shown"
};
struct EdcResult {
  std::filesystem::path out;   // the output folder (EdcFolder names its files)
  nlohmann::json summary;      // as written to edc.json
  std::string threshold_rule;  // how the threshold was fixed, in words
  double threshold = 0;
  double fnmr_at_threshold = 0;
  double fmr_at_threshold = 0;
  std::size_t false_matches_at_threshold = 0;
  EdcComparisons comparisons;
  bool bootstrap_identities = false;  // the bootstrap resampled identities, not images
  std::vector<double> discard_limits;
  std::vector<EdcMethod> methods;                       // in the order of the score columns ("random" last)
  std::vector<double> random_fnm_pauc, random_fm_pauc;  // mean pAUC of random orders, per limit
  bool bootstrap = false;                               // whether the Pauc intervals are defined
  double confidence = 0.95;                             // of the Pauc intervals
  std::vector<PaucDifference> differences;              // every pair of methods, with a bootstrap
  std::vector<quality::ScoreMatchReport> score_reports;
  std::vector<std::string> excluded;  // pairs left out, with the reason
  std::vector<std::string> warnings;  // e.g. a threshold resting on few false matches
};

/// Runs the study and writes the output folder. Throws Error(InvalidArgument) when too few
/// comparisons remain to estimate the requested FMR (naming how many are needed), or naming a
/// method whose scores are constant or missing for faces in the comparisons.
EdcResult run_edc(const EdcOptions& options);

}  // namespace amva::eval
