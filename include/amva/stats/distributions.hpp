#pragma once
// Comparing two samples of values (e.g. the per-pixel values of the AM-V maps of the high and
// the low group) and ranking scores.
#include <limits>
#include <vector>

namespace amva::stats {

/// The value of a statistic that is undefined (too few values, no spread).
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Wasserstein-1 (earth mover's) distance between the empirical distributions of `a` and `b`:
/// the integral of |F_a - F_b|, exact for any sizes (as scipy.stats.wasserstein_distance).
double wasserstein1(std::vector<double> a, std::vector<double> b);

/// Two-sample Kolmogorov-Smirnov statistic: sup |F_a - F_b| (as scipy.stats.ks_2samp's).
double ks_distance(std::vector<double> a, std::vector<double> b);

/// Gaussian kernel density estimate of `sample` evaluated at `grid`, with Scott's bandwidth
/// h = std(sample, ddof 1) * n^(-1/5), as scipy.stats.gaussian_kde in one dimension.
struct Density {
  std::vector<double> values;  // density at each grid point
  double bandwidth = 0;
};
Density gaussian_kde(const std::vector<double>& sample, const std::vector<double>& grid);

/// `count` evenly spaced points from lo to hi inclusive.
std::vector<double> linspace(double lo, double hi, int count);

/// Ranks 1..n with ties given their average rank.
std::vector<double> average_ranks(const std::vector<double>& values);

/// Pearson's correlation of paired samples; NaN when either sample is constant or fewer than
/// two pairs are given.
double pearson(const std::vector<double>& a, const std::vector<double>& b);

/// Spearman's rank correlation (Pearson correlation of average ranks); NaN when either
/// sample is constant or fewer than two pairs are given.
double spearman(const std::vector<double>& a, const std::vector<double>& b);

/// The q-quantile (0..1) of `values` with linear interpolation (NumPy's default).
double quantile(std::vector<double> values, double q);

}  // namespace amva::stats
