#pragma once
// Error-versus-discard characteristic (EDC), as Schlett et al. ("Considerations on the
// evaluation of biometric quality assessment algorithms", 2023) and ISO/IEC 29794-1 define it.
//
// Each comparison has a similarity score and a pairwise quality, min(q_a, q_b). The decision
// threshold t is fixed once, on all comparisons, and never refitted: a comparison is a match
// when its score >= t. Comparisons are discarded from the lowest pairwise quality, equal
// qualities together. FNM-EDC: over the mated comparisons, x = the fraction discarded, y =
// the FNMR (score < t) among the rest. FM-EDC: the same over the non-mated comparisons with
// the FMR (score >= t). The curve is stepwise: y holds from one x to the next; a last point
// (1, 0) closes it. pAUC integrates the steps from 0 to a discard limit.
#include <cstdint>
#include <utility>
#include <vector>

namespace amva::eval {

enum class EdcError { Fnmr, Fmr };

struct EdcCurve {
  std::vector<double> discard;  // x: discarded fractions where a step starts (first 0, last 1)
  std::vector<double> error;    // y: error rate of the comparisons kept
  std::size_t comparisons = 0;
  [[nodiscard]] double starting_error() const { return error.empty() ? 0.0 : error.front(); }
  /// y at discard fraction x (the step that holds there).
  [[nodiscard]] double at(double x) const;
};

/// The EDC of comparisons of one kind (all mated for Fnmr, all non-mated for Fmr).
EdcCurve edc_curve(EdcError kind, const std::vector<double>& similarity, const std::vector<double>& pair_quality,
                   double threshold);

/// The EDC of one set of comparisons under many weightings (bootstrap resamples: a weight is how
/// often a comparison is drawn, 0 leaves it out): the comparisons are sorted once, each curve
/// then costs one pass. With every weight 1 the curve is edc_curve's. x = discarded weight /
/// total weight, y = error weight / kept weight, steps where the quality changes.
class WeightedEdc {
 public:
  WeightedEdc(EdcError kind, const std::vector<double>& similarity, const std::vector<double>& pair_quality,
              double threshold);
  /// The same, each comparison given by its two faces (indices into `face_scores`) and its
  /// pairwise quality the lower of their scores: the faces are sorted, not the comparisons, and
  /// the comparisons bucketed by their lower face (faces log faces, then linear), the cost that
  /// matters when one set of comparisons meets many scorings (methods, random orders). Any NaN
  /// score takes the sorting constructor's path.
  WeightedEdc(EdcError kind, const std::vector<double>& similarity,
              const std::vector<std::pair<std::size_t, std::size_t>>& faces, const std::vector<double>& face_scores,
              double threshold);
  /// The curve under `weights`, one per comparison in the order given to the constructor.
  [[nodiscard]] EdcCurve curve(const std::vector<double>& weights) const;
  /// The curve depends on the weights only through each tie group's summed weight and summed
  /// error weight (groups of equal pairwise quality, numbered by ascending quality; there are
  /// at most as many as faces). The bootstrap's inner loop sums those itself and calls this,
  /// writing into `out`, whose storage is reused.
  /// Weights are counts (whole numbers), so every sum is exact whatever its order.
  void curve_from_groups(const double* group_weight, const double* group_errors, EdcCurve& out) const;
  /// The comparisons by ascending pairwise quality (equal qualities in no particular order:
  /// the curve does not depend on it).
  [[nodiscard]] const std::vector<std::size_t>& order() const { return order_; }
  /// In that order: each comparison's tie group, and whether it is an error at the threshold.
  [[nodiscard]] const std::vector<std::uint32_t>& tie_groups() const { return tie_group_; }
  [[nodiscard]] const std::vector<std::uint8_t>& errors() const { return error_; }
  [[nodiscard]] std::size_t groups() const { return tie_group_.empty() ? 0 : tie_group_.back() + 1; }
  [[nodiscard]] std::size_t size() const { return order_.size(); }

 private:
  std::vector<std::size_t> order_;        // comparisons by ascending pairwise quality
  std::vector<std::uint32_t> tie_group_;  // in that order: equal qualities share a number
  std::vector<std::uint8_t> error_;       // in that order
};

/// Area under the stepwise curve from 0 to `limit` (in [0, 1]).
double edc_pauc(const EdcCurve& curve, double limit);

/// Area under the theoretical best curve max(0, e0 - x) from 0 to `limit`, e0 = the starting
/// error: what discarding the erroneous comparisons first would give (as the reference code).
double edc_ideal_area(const EdcCurve& curve, double limit);

/// The smallest threshold whose FMR (share of non-mated scores >= t) is at most `fmr`.
/// Throws Error(InvalidArgument) when fewer than ceil(1 / fmr) non-mated scores are given:
/// an FMR that small cannot be estimated from them.
double threshold_at_fmr(std::vector<double> nonmated, double fmr);

/// The threshold whose FNMR is about `fnmr`: the fnmr-quantile of the mated scores (NumPy's
/// linear quantile, as the reference code's starting_error).
double threshold_at_fnmr(const std::vector<double>& mated, double fnmr);

/// Share of `scores` below (Fnmr) or at least (Fmr) the threshold.
double error_rate(EdcError kind, const std::vector<double>& scores, double threshold);

/// The refitted variant ("ERC" in many FIQA papers), not an EDC: comparisons of both kinds
/// are discarded together by pairwise quality; at every step the threshold is refitted to
/// `fmr` on the non-mated comparisons kept, and y is the FNMR of the mated ones kept.
/// x = discarded fraction of all comparisons.
EdcCurve erc_refit_curve(const std::vector<double>& similarity, const std::vector<double>& pair_quality,
                         const std::vector<bool>& mated, double fmr, int steps = 100);

}  // namespace amva::eval
