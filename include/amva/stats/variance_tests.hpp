#pragma once
// Where do two groups of maps differ in variation beyond noise? A per-cell test of equal
// spread, and control of the false discovery rate over all cells (DESIGN.md, "Groups and
// per-pixel statistics").
#include <cstddef>
#include <vector>

namespace amva::stats {

struct TestResult {
  double statistic = 0;  // F
  double p = 1;          // upper tail of F(1, n_a + n_b - 2); NaN when the test is undefined
};

/// Brown-Forsythe test of equal variances of two samples: Levene's test centred on each
/// sample's median (NumPy's midpoint median, as scipy.stats.levene(center='median')), i.e. a
/// one-way ANOVA of z = |x - median| between the samples. Needs two values in each sample.
/// With no spread of z within the samples (always so for two values per sample) the test is
/// degenerate: SciPy answers F = inf (or NaN), amva calls it undefined (NaN), since zero
/// within-sample spread says nothing about the populations' spread.
TestResult brown_forsythe(const std::vector<double>& a, const std::vector<double>& b);
/// Its F alone (NaN when undefined), for permutation tests that recompute it thousands of
/// times and need no F distribution.
double brown_forsythe_statistic(const std::vector<double>& a, const std::vector<double>& b);
/// The same with the samples' midpoint medians given, by a caller that reads them off a sorted
/// pool instead of selecting them in every sample.
double brown_forsythe_statistic(const std::vector<double>& a, const std::vector<double>& b, double median_a,
                                double median_b);

/// Benjamini-Hochberg adjusted p-values (q-values) of m tests: q_(i) = min over k >= i of
/// m p_(k) / k, at most 1, in the input order. A NaN p (an undefined test) counts as p = 1:
/// it stays in m, so that leaving it out never makes the other cells look more significant.
std::vector<double> benjamini_hochberg(const std::vector<double>& p);

/// Holm's step-down adjusted p-values of m tests (family-wise error control under any
/// dependence): p_(i) times (m - i + 1), made monotone, at most 1, in the input order. NaN
/// counts as 1.
std::vector<double> holm(const std::vector<double>& p);

/// P(X >= k) for X ~ Binomial(n, p): how surprising k false verdicts among n null controls are.
double binomial_upper_tail(std::size_t k, std::size_t n, double p);

}  // namespace amva::stats
