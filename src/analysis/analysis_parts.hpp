#pragma once
// Everything amva analyze computes, before anything is written: analyze.cpp fills it,
// analysis_folder.cpp alone turns it into the output folder's files (file names, CSV columns
// and JSON keys live there only).
#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "amva/analysis/analyze.hpp"
#include "amva/analysis/group_maps.hpp"
#include "amva/analysis/permutation_tests.hpp"
#include "amva/analysis/reference.hpp"
#include "amva/analysis/variance_significance.hpp"
#include "amva/quality/scores.hpp"
#include "amva/stats/distributions.hpp"
#include "amva/stats/groups.hpp"
#include "amva/store/store.hpp"

namespace amva::analysis {

struct GroupResult {
  stats::Group group;
  GroupStatistics stats;
  std::optional<RegionStatistics> region;
  std::vector<float> native_maps;  // normalised, native resolution; the low and high groups', until their test
};

/// Low minus high, each interval from paired bootstrap replicates.
struct LowHighDifferences {
  Interval outside_amv, inside_amv, ratio_amv;
  Interval outside_minus_inside;  // of the two differences above: is the extra variation specific to outside?
  Interval log_ratio;             // log(outside AM-V low / high)
};
/// The differences of two groups' region statistics at `confidence`, replicate by replicate
/// (the groups draw from independent streams, so the pairs are independent draws).
LowHighDifferences low_high_differences(const RegionStatistics& low, const RegionStatistics& high, double confidence);

/// Densities of the per-pixel values of a high and a low map, on one grid.
struct DensityPair {
  std::vector<double> grid;
  stats::Density high, low;
  double wasserstein1 = 0;
  double ks = 0;
};

/// One FIQA method in full.
struct MethodResult {
  quality::ScoreColumn scores;
  std::size_t scored = 0;           // faces with a score
  std::vector<GroupResult> groups;  // every group, lowest quality first
  cv::Mat d_amv, d_mam, d_amv_symmetric;
  cv::Mat d_amv_signed, d_mam_signed;  // low - high
  double d_amv_mean_inside = 0, d_amv_mean_outside = 0;
  std::optional<LowHighDifferences> low_minus_high;  // when the low and the high group have region statistics
  std::optional<CellSignificance> significance;      // when both have two faces
  std::optional<PermutationTests> permutation;       // the block permutation tests, when both have two faces
  DensityPair amv_density, median_density;           // of the high and the low group's AM-V and median maps
  cv::Mat reference_amv;                             // the high group's AM-V, NaN (one face) as 0
  double reference_eps = 0;
  // Every scored face's deviation from the high group; held as numbers, for a million faces
  // and several methods (the writer adds their paths and groups).
  std::vector<std::int64_t> deviation_rows;
  std::vector<double> deviations;
  std::vector<stats::BoundaryTie> ties;  // tied scores that straddle a group boundary
  MethodFinding finding;
  MethodAnalysis typed;  // moved into the AnalysisResult once complete
};

/// Two methods' agreement (a row of agreement.csv).
struct AgreementPair {
  std::string a, b;
  std::size_t pairs = 0;  // faces both scored
  double spearman = 0, low_overlap = 0, low_jaccard = 0;
};

/// The analysis as the output folder holds it.
struct ComputedAnalysis {
  const AnalysisOptions& options;
  const store::StoreMeta& store_meta;
  const std::vector<store::IndexEntry>& index;
  const AnalysisResult& result;                 // its settings, findings and typed methods
  const std::vector<MethodResult>& methods;     // in score-column order
  const std::vector<AgreementPair>& agreement;  // every ordered pair of methods, in that order
  int map_rows = 0, map_cols = 0;               // the maps' native grid
  std::size_t identity_count = 0;               // people the bootstrap's identities name
};

/// What write_analysis_folder wrote: summary.json's content and the figures it drew, as
/// AnalysisResult::figures names them.
struct WrittenAnalysis {
  nlohmann::json summary;
  std::set<std::string> figures;
};

/// Writes every file of the output folder `dir` (each atomically, summary.json after the data
/// and before the figures).
WrittenAnalysis write_analysis_folder(const ComputedAnalysis& analysis, const std::filesystem::path& dir);

}  // namespace amva::analysis
