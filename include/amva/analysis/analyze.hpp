#pragma once
// Activation Map Variation Analysis over a store: FIQA scores in, quality groups, per-pixel
// statistics per group, intra-FIQA (high against low) and inter-FIQA (methods side by side)
// comparisons, and the reference folders single-image explanation reads.
//
// Output folder (see docs/definitions.md, "Analysis"; AnalysisFolder names each file):
//   summary.json                    every number below, with the settings that made it
//   regions.csv, agreement.csv      region statistics per method and group; method agreement
//   groups.csv                      id, path, method, group, score of every grouped face
//   grid.png (.svg on request)      inter-FIQA figure grid, one colour scale per column kind
//   <method>/                       per-group maps (.npy, 112x112 float32), D-AM-V, D-MAM,
//                                   symmetrised D-AM-V, significance.npy (-log10 q of the
//                                   per-cell variance test), densities.csv, profiles.csv, figures
//   reference_<method>/             high group's MAM and AM-V, reference.json, deviations.csv
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "amva/analysis/group_maps.hpp"
#include "amva/analysis/null_controls.hpp"
#include "amva/analysis/robustness.hpp"
#include "amva/eval/identities.hpp"
#include "amva/progress.hpp"
#include "amva/quality/scores.hpp"
#include "amva/stats/groups.hpp"
#include "amva/team.hpp"
#include "amva/viz/figures.hpp"

namespace amva::analysis {

inline constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();

/// How the low-against-high verdicts are tested (issue 28; verdicts.hpp defines the words).
struct VerdictOptions {
  // The per-cell test: the block permutation test with max-T (permutation_tests.hpp), or the
  // parametric Brown-Forsythe test with Benjamini-Hochberg, which treats images as independent.
  enum class CellTest { Permutation, BrownForsythe };
  CellTest cell_test = CellTest::Permutation;
  int permutations = 1000;  // of every permutation test
  // Holm across the run's methods for the region verdicts, with intervals at 1 - alpha / m.
  bool family_correction = true;
  double smallest_effect = 0.1;  // |log(outside AM-V low / high)| below which an effect is negligible
  int null_controls = 20;        // built-in null control methods (null_controls.hpp); 0: none
};

struct AnalysisOptions {
  std::filesystem::path store;
  std::filesystem::path out;
  quality::ScoreRequest scores;  // built-in methods (empty: all of quality.csv, none
                                 // when score files are given) and external files
  std::string cam;               // maps_<cam>.npy; empty: the store's only map, or gradcam
  stats::GroupRule group;
  Normalization normalization = Normalization::MinMax;
  BootstrapOptions bootstrap;
  // Who is in each image: when known, the bootstrap resamples people, then their images.
  eval::IdentitySource identities;
  // Without identities given: take them from the folders when the folders evidently name
  // people (eval::folders_name_people), as the terminal and summary.json then say.
  bool identities_from_evident_folders = true;
  eval::BootstrapUnit bootstrap_unit = eval::BootstrapUnit::Auto;  // Auto: identities when given
  stats::MedianConvention median = stats::MedianConvention::Lower;
  double fdr = 0.05;  // level of the per-cell variance tests (family-wise for the permutation test, so FDR too)
  VerdictOptions verdicts;
  std::size_t memory_budget = std::size_t{256} << 20;  // for exact medians of one group
  // Leave out every face whose map holds one value everywhere (all zero after the ReLU, or
  // flat): it carries no location, yet adds zeros to its group's statistics.
  bool drop_constant_maps = false;
  // The verdicts recomputed over a grid of the analyst's choices (robustness.hpp); absent: off.
  std::optional<RobustnessGrid> robustness;
  viz::FigureOptions figures;
  bool force = false;  // write into a non-empty folder amva did not make
  Progress progress;   // stage messages
};

/// One method's low-against-high verdicts (summary.json: methods.<name>.comparison).
struct MethodFinding {
  std::string method;
  std::string finding = "n/a";  // a word of finding_words() (verdicts.hpp); n/a without region statistics
  Interval outside_amv_low_minus_high{kUndefined, kUndefined, kUndefined};  // at the family's level
  std::string specificity;  // a word of specificity_words(); empty without region statistics
  Interval outside_minus_inside{kUndefined, kUndefined, kUndefined};
  double p_outside = kUndefined;         // permutation p of the outside difference, alone
  double p_outside_family = kUndefined;  // after the family correction (Holm) across the run's methods
  Interval log_ratio{kUndefined, kUndefined, kUndefined};  // log(outside AM-V low / high)
  double detectable_difference = kUndefined;               // smallest outside difference the design detects
  double detectable_log_ratio = kUndefined;                // the same as a log ratio over the high group's AM-V
};
/// A group's mean MAM and AM-V inside and outside the central face, and outside over inside,
/// each with its bootstrap interval (summary.json: methods.<name>.groups.<group>.region).
struct RegionIntervals {
  Interval inside_am, inside_amv, outside_am, outside_amv, ratio_am, ratio_amv;
};
/// One quality group of a method.
struct GroupSummary {
  std::string name;
  std::size_t faces = 0;
  double score_min = kUndefined, score_max = kUndefined;
  std::optional<RegionIntervals> region;  // with at least two faces
  std::vector<std::int64_t> rows;         // its faces' store rows, ascending
  std::vector<double> scores;             // their scores, in the same order
};
/// The per-cell variance test of the low against the high group: cells tested and cells found
/// to differ, inside and outside the central face.
struct VarianceTestCounts {
  std::size_t cells_inside = 0, cells_outside = 0, significant_inside = 0, significant_outside = 0;
  std::string test;  // "permutation" or "brown-forsythe"
};
/// Maps with one value everywhere (all zero after the ReLU, or flat), which carry no location:
/// the low and the high group's counts.
struct DegenerateMaps {
  std::size_t low = 0, high = 0;
};
/// How far apart the per-pixel values of the high and the low group's map lie.
struct MapDistances {
  double wasserstein1 = kUndefined, ks = kUndefined;
};
/// One method's groups and its low-against-high comparison; its verdicts are a MethodFinding.
struct MethodAnalysis {
  std::string name;
  std::string source;                               // where its scores came from
  std::vector<GroupSummary> groups;                 // in the rule's order, lowest quality first
  std::vector<stats::BoundaryTie> ties;             // tied scores that straddle a group boundary
  std::optional<VarianceTestCounts> variance_test;  // when both groups have two faces
  MapDistances amv, median;                         // of the AM-V and the median maps
  std::optional<DegenerateMaps> degenerate;         // when both groups were compared
  /// Whether the low and the high group both have region statistics, so that the finding's
  /// low-against-high intervals are defined.
  [[nodiscard]] bool compared() const { return !groups.empty() && groups.front().region && groups.back().region; }
};
/// Every ordered pair of methods: Spearman's rho of their scores, and the share of the first
/// method's low group that is also in the second's.
struct MethodAgreement {
  std::vector<std::string> methods;
  std::vector<std::vector<double>> spearman, low_overlap;  // [a][b], in the order of `methods`
};
struct AnalysisResult {
  std::filesystem::path out;  // the output folder (AnalysisFolder names its files)
  nlohmann::json summary;     // as written to summary.json
  // The figures drawn, as paths below `out` without their extension ("brisque/signed",
  // "grid"); none with --no-figures.
  std::set<std::string> figures;
  /// Whether the figure `kind` ("intra", "signed", ...) of `method` was drawn.
  [[nodiscard]] bool drew(const std::string& method, const std::string& kind) const;
  std::size_t records = 0, faces = 0;
  std::string cam;                      // the maps analysed
  std::string normalization;            // of each map before the statistics
  std::string group_rule;               // e.g. top:10
  double fdr = 0.05;                    // of the per-cell variance tests
  std::vector<MethodFinding> findings;  // one per method, in the order of summary.json's methods
  std::vector<MethodAnalysis> methods;  // in the same order as `findings`
  MethodAgreement agreement;
  std::string bootstrap_unit;                    // "identity" or "image"
  std::string bootstrap_identities;              // where the identities came from, when the bootstrap resampled them
  bool identities_from_evident_folders = false;  // taken from the folders without being asked
  std::size_t constant_maps_dropped = 0;         // faces left out by drop_constant_maps
  double confidence = 0.95;                      // of every interval
  std::string ties;                              // the rule for scores tied at a group boundary
  std::vector<quality::ScoreMatchReport> score_reports;
  std::vector<std::string> warnings;  // e.g. ties at group boundaries, for the terminal
  std::optional<analysis::NullControls> null_controls;
  std::string family;  // the correction across methods: "holm" or "none"
  std::size_t family_size = 0;
  double alpha = 0.05;    // of the region verdicts
  std::string cell_test;  // "permutation" or "brown-forsythe"
  int permutations = 0;
  double smallest_effect = 0.1;
  std::optional<Robustness> robustness;  // with AnalysisOptions::robustness
};

/// Runs the analysis and writes the output folder (each file atomically). Throws Error for a
/// store, score file or option that cannot work; files written before a figure error stay.
/// With a team of several ranks it is collective: the root runs the analysis and writes the
/// folder, every rank reads and summarises its share of each group's maps (SharedMaps), and
/// the other ranks return an empty result. Without one, it runs as a team of one.
AnalysisResult analyze(const AnalysisOptions& options, Team* team = nullptr);

}  // namespace amva::analysis
