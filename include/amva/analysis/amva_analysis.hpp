#pragma once
// Activation Map Variation Analysis over a store: FIQA scores in, quality groups, per-pixel
// statistics per group, intra-FIQA (high against low) and inter-FIQA (methods side by side)
// comparisons, and the reference folders single-image explanation reads.
//
// Output folder (see README, "amva analyze"; AnalysisFolder names each file):
//   summary.json                    every number below, with the settings that made it
//   regions.csv, agreement.csv      region statistics per method and group; method agreement
//   groups.csv                      id, path, method, group, score of every grouped face
//   grid.png/.svg                   inter-FIQA figure grid, one colour scale per column kind
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
#include <string>
#include <vector>

#include "amva/analysis/group_maps.hpp"
#include "amva/eval/identities.hpp"
#include "amva/quality/scores.hpp"
#include "amva/stats/groups.hpp"
#include "amva/team.hpp"
#include "amva/viz/overlay.hpp"

namespace amva::analysis {

inline constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();

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
  eval::BootstrapUnit bootstrap_unit = eval::BootstrapUnit::Auto;  // Auto: identities when given
  stats::MedianConvention median = stats::MedianConvention::Lower;
  double fdr = 0.05;                                   // false discovery rate of the per-cell variance tests
  std::size_t memory_budget = std::size_t{256} << 20;  // for exact medians of one group
  bool figures = true;
  viz::Colormap colormap = viz::Colormap::Jet;       // of the map figures
  bool force = false;                                // write into a non-empty folder amva did not make
  std::function<void(const std::string&)> progress;  // stage messages; may be empty
};

/// One method's low-against-high verdicts (summary.json: methods.<name>.comparison).
struct MethodFinding {
  std::string method;
  std::string finding = "n/a";  // reproduced, reversed, inconclusive; n/a without region statistics
  Interval outside_amv_low_minus_high{kUndefined, kUndefined, kUndefined};
  std::string specificity;  // specific to outside, general, absent; empty without region statistics
  Interval outside_minus_inside{kUndefined, kUndefined, kUndefined};
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
  std::size_t records = 0, faces = 0;
  std::string cam;                      // the maps analysed
  std::string normalization;            // of each map before the statistics
  std::string group_rule;               // e.g. top:10
  double fdr = 0.05;                    // of the per-cell variance tests
  std::vector<MethodFinding> findings;  // one per method, in the order of summary.json's methods
  std::vector<MethodAnalysis> methods;  // in the same order as `findings`
  MethodAgreement agreement;
  std::string bootstrap_unit;        // "identity" or "image"
  std::string bootstrap_identities;  // where the identities came from, when the bootstrap resampled them
  double confidence = 0.95;          // of every interval
  std::string ties;                  // the rule for scores tied at a group boundary
  std::vector<quality::ScoreMatchReport> score_reports;
  std::vector<std::string> warnings;  // e.g. ties at group boundaries, for the terminal
};

/// Runs the analysis and writes the output folder (each file atomically). Throws Error for a
/// store, score file or option that cannot work; files written before a figure error stay.
/// With a team of several ranks it is collective: the root runs the analysis and writes the
/// folder, every rank reads and summarises its share of each group's maps (SharedMaps), and
/// the other ranks return an empty result. Without one, it runs as a team of one.
AnalysisResult analyze(const AnalysisOptions& options, Team* team = nullptr);

}  // namespace amva::analysis
