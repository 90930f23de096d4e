#pragma once
// How well comparison scores separate mated from non-mated pairs: Daugman's decidability
// d' = |mean_m - mean_n| / sqrt((var_m + var_n) / 2), with the comparisons kept per pair of
// identities so that identities, the unit that repeats across comparisons, can be resampled.
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace amva::eval {

struct Separation {
  double mated_mean = 0;
  double nonmated_mean = 0;
  double mated_sd = 0;
  double nonmated_sd = 0;
  double d_prime = 0;  // 0 when either side has no comparison
  double mated = 0;    // comparisons (weighted counts under a bootstrap)
  double nonmated = 0;
};

class IdentityComparisons {
 public:
  /// One comparison between a face of identity `a` and one of `b` (mated when a == b).
  void add(int a, int b, double score);
  /// The separation with every identity counted `weights[k]` times (empty: once each).
  [[nodiscard]] Separation separation(const std::vector<double>& weights = {}) const;
  [[nodiscard]] int identities() const { return identities_; }

 private:
  struct Moments {
    double n = 0, sum = 0, sum_sq = 0;
  };
  std::map<std::pair<int, int>, Moments> cells_;  // (smaller, larger identity)
  int identities_ = 0;
};

/// The share of identity-bootstrap replicates (identities drawn with replacement, the same
/// draw for both) in which `a` separates identities better than `b` (larger d'). Both must
/// hold the same comparisons scored two ways.
double bootstrap_win_share(const IdentityComparisons& a, const IdentityComparisons& b, int replicates,
                           std::uint64_t seed);

}  // namespace amva::eval
