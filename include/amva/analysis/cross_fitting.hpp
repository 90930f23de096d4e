#pragma once
// The explanation deviation as a quality score without circularity (DESIGN.md, "Deviation as a
// FIQA method"). A face's deviation (mean |Z| against a high-quality reference, as amva explain
// measures it) scores the face only when the reference holds neither the face nor its person:
// the identities are split into K folds, and each fold is scored against a reference made from
// the other folds' faces alone. Everything here depends on the maps only through the reference
// of another fold and the face's own map, so changing the maps of a person's other faces never
// moves a face's score.
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "amva/analysis/group_maps.hpp"
#include "amva/stats/groups.hpp"

namespace amva::analysis {

/// The fold of each unit: the distinct units (identities, or a face's own negative unit) in a
/// seeded random order, dealt round-robin to `folds` folds, so that fold sizes in units differ
/// by at most one. Throws Error(InvalidArgument) for folds < 2 or fewer units than folds.
std::vector<int> assign_folds(const std::vector<std::int64_t>& unit_of_row, int folds, std::uint64_t seed);

struct CrossFitOptions {
  int folds = 5;
  std::uint64_t seed = 29794;
  // Which of the other folds' faces make a fold's reference: the high group of the reference
  // scores under this rule (the last group it makes), or every face when `all_faces`.
  stats::GroupRule high_group;
  bool all_faces = false;
  Normalization normalization = Normalization::MinMax;
};

/// The reference one fold is scored against.
struct FoldReference {
  int fold = 0;
  std::vector<std::int64_t> reference_rows;  // the faces it is made of (none of this fold)
  std::vector<std::int64_t> scored_rows;     // the fold's faces it scores
  double score_min = 0, score_max = 0;       // of the reference scores over reference_rows (NaN: all faces)
  cv::Mat mam, amv, median;                  // 112x112 CV_64F; amv without NaN
  double eps = 0;                            // reference_eps(mam, amv)
  std::vector<double> reference_deviations;  // of reference_rows against it (in-sample, for percentiles)
};

struct CrossFitResult {
  std::vector<double> deviation;  // per row: mean |Z| against its fold's reference; NaN when not scored
  std::vector<int> fold_of_row;   // -1 for rows without a map
  std::vector<FoldReference> folds;
};

/// Cross-fitted deviations of the rows whose `has_map` is true. `maps` holds one native map of
/// h x w values per row (as stored, not normalised); `reference_scores` ranks the candidates of
/// a reference (NaN: never in one; unused with all_faces); `unit_of_row` as eval::Identities.
/// Throws Error(InvalidArgument) when a fold's reference would hold fewer than 2 faces.
CrossFitResult cross_fitted_deviations(const std::vector<float>& maps, int h, int w, const std::vector<bool>& has_map,
                                       const std::vector<double>& reference_scores,
                                       const std::vector<std::int64_t>& unit_of_row, const CrossFitOptions& options);

/// A face's deviation from a reference's MAM and AM-V, as cross_fitted_deviations and amva
/// explain measure it, for maps of h x w values normalised here.
std::vector<double> deviations_from(const std::vector<float>& maps, int h, int w, Normalization normalization,
                                    const cv::Mat& mam, const cv::Mat& amv, double eps);

}  // namespace amva::analysis
