#pragma once
// Everything amva edc computes, before anything is written: edc_study.cpp fills it,
// edc_folder.cpp alone turns it into the output folder's files (file names, CSV columns and
// JSON keys live there only).
#include <cstddef>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "amva/eval/comparisons.hpp"
#include "amva/eval/edc.hpp"
#include "amva/eval/edc_bootstrap.hpp"
#include "amva/eval/edc_study.hpp"
#include "amva/eval/identities.hpp"
#include "amva/stats/distributions.hpp"
#include "amva/store/store.hpp"

namespace amva::eval {

/// One kind of comparison's similarity density within a quality group.
struct SimilarityDensity {
  std::string label;  // e.g. "low mated (n=120)"
  std::vector<double> values;
  bool low = false;  // of the low group
};

/// One method's curves and the similarity densities of its low and high groups.
struct MethodCurves {
  EdcCurve fnm, fm;
  std::optional<EdcCurve> erc_refit;  // the refitted-threshold ERC, when asked for
  std::string low_group, high_group;
  std::vector<SimilarityDensity> densities;
};

/// The ideal and the random-order baseline of one curve kind (FNM, FM).
struct EdcBaseline {
  bool fnm = true;
  double starting_error = 0;
  std::vector<double> random, ideal;            // on EdcStudy::grid
  std::vector<double> random_pauc, ideal_area;  // per discard limit
};

/// One EDC study: what every step reads, and what each adds.
struct EdcStudy {
  EdcStudy(const EdcOptions& options, const std::vector<store::IndexEntry>& rows) : opt(options), index(rows) {}
  const EdcOptions& opt;
  const std::vector<store::IndexEntry>& index;
  ComparisonSet set;
  Identities identities;
  std::vector<quality::ScoreColumn> columns;
  std::vector<double> grid = stats::linspace(0.0, 1.0, 201);  // discard fractions of the bands and baselines
  double threshold = 0, fnmr0 = 0, fmr0 = 0;
  std::size_t mated = 0, nonmated = 0, false_matches = 0;
  bool by_identity = false;
  EdcReplicates reps;
  std::vector<MethodCurves> curves;    // one per column
  std::vector<EdcBaseline> baselines;  // FNM, then FM
  [[nodiscard]] std::pair<double, double> ci_of(const std::vector<double>& r) const {
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    const double tail = (1 - opt.confidence) / 2;
    return r.empty() ? std::pair{kNaN, kNaN} : std::pair{stats::quantile(r, tail), stats::quantile(r, 1 - tail)};
  }
};

/// The similarities at which the group densities are drawn.
inline std::vector<double> similarity_grid() {
  return stats::linspace(-0.3, 1.0, 261);
}

/// How the threshold was fixed, in words.
std::string threshold_rule(const EdcOptions& opt);

/// Writes every file of the output folder `dir` (each atomically, edc.json after the tables
/// and before the figures) and returns edc.json's content.
nlohmann::json write_edc_folder(const EdcStudy& study, const EdcResult& result, const std::filesystem::path& dir);

}  // namespace amva::eval
