#include "amva/stats/distributions.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>

#include "amva/error.hpp"

namespace amva::stats {
namespace {

// Calls f(x, next_x, Fa(x), Fb(x)) for every step of the two right-continuous empirical CDFs.
template <class F>
void walk_cdfs(std::vector<double>& a, std::vector<double>& b, F&& f) {
  if (a.empty() || b.empty())
    throw Error(ErrorCode::InvalidArgument, "comparing distributions needs two non-empty samples");
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::vector<double> all;
  all.reserve(a.size() + b.size());
  std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(all));
  std::size_t ia = 0;
  std::size_t ib = 0;
  for (std::size_t k = 0; k < all.size(); ++k) {
    const double x = all[k];
    while (ia < a.size() && a[ia] <= x) ++ia;
    while (ib < b.size() && b[ib] <= x) ++ib;
    const double next = k + 1 < all.size() ? all[k + 1] : x;
    f(x, next, static_cast<double>(ia) / static_cast<double>(a.size()),
      static_cast<double>(ib) / static_cast<double>(b.size()));
  }
}

}  // namespace

double wasserstein1(std::vector<double> a, std::vector<double> b) {
  double area = 0;
  walk_cdfs(a, b, [&](double x, double next, double fa, double fb) { area += std::abs(fa - fb) * (next - x); });
  return area;
}

double ks_distance(std::vector<double> a, std::vector<double> b) {
  double sup = 0;
  walk_cdfs(a, b, [&](double, double, double fa, double fb) { sup = std::max(sup, std::abs(fa - fb)); });
  return sup;
}

Density gaussian_kde(const std::vector<double>& sample, const std::vector<double>& grid) {
  const auto n = static_cast<double>(sample.size());
  if (sample.size() < 2) throw Error(ErrorCode::InvalidArgument, "a density estimate needs at least two values");
  const double mean = std::accumulate(sample.begin(), sample.end(), 0.0) / n;
  double ss = 0;
  for (double x : sample) ss += (x - mean) * (x - mean);
  Density d;
  d.bandwidth = std::sqrt(ss / (n - 1)) * std::pow(n, -0.2);
  d.values.assign(grid.size(), 0.0);
  if (!(d.bandwidth > 0)) return d;  // a constant sample has no density to draw
  const double norm = 1.0 / (n * d.bandwidth * std::sqrt(2 * std::numbers::pi));
  // Grid points in parallel; each point's sum runs over the sample in order, so the values do
  // not depend on the threads.
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, grid.size(), 16), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t g = r.begin(); g < r.end(); ++g) {
      double sum = 0;
      for (double x : sample) {
        const double z = (grid[g] - x) / d.bandwidth;
        sum += std::exp(-0.5 * z * z);
      }
      d.values[g] = sum * norm;
    }
  });
  return d;
}

std::vector<double> linspace(double lo, double hi, int count) {
  std::vector<double> v(static_cast<std::size_t>(std::max(count, 0)));
  for (int i = 0; i < count; ++i) v[static_cast<std::size_t>(i)] = count == 1 ? lo : lo + (hi - lo) * i / (count - 1);
  return v;
}

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return values[i] < values[j]; });
  std::vector<double> ranks(values.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    const double rank = 0.5 * static_cast<double>(i + j) + 1.0;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw Error(ErrorCode::InvalidArgument, "a correlation needs paired samples");
  if (a.size() < 2) return kNaN;
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
  const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : kNaN;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw Error(ErrorCode::InvalidArgument, "spearman needs paired samples");
  if (a.size() < 2) return kNaN;
  return pearson(average_ranks(a), average_ranks(b));
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

}  // namespace amva::stats
