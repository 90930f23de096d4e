#include "amva/stats/variance_tests.hpp"

#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/fisher_f.hpp>
#include <cmath>
#include <limits>
#include <numeric>

#include "amva/error.hpp"

namespace amva::stats {
namespace {

double midpoint_median(std::vector<double> v) {
  const std::size_t n = v.size();
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(n / 2);
  std::nth_element(v.begin(), mid, v.end());
  const double upper = *mid;
  return n % 2 ? upper : 0.5 * (upper + *std::max_element(v.begin(), mid));
}

// Checked before a median is selected: an empty sample has none.
void require_two_each(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() < 2 || b.size() < 2) {
    throw Error(ErrorCode::InvalidArgument, "the Brown-Forsythe test needs at least two values in each sample");
  }
}

// |x - m| (m the median) and its mean.
std::vector<double> deviations(const std::vector<double>& x, double m, double& mean) {
  std::vector<double> z(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) z[i] = std::abs(x[i] - m);
  mean = std::accumulate(z.begin(), z.end(), 0.0) / static_cast<double>(z.size());
  return z;
}

}  // namespace

double brown_forsythe_statistic(const std::vector<double>& a, const std::vector<double>& b) {
  require_two_each(a, b);
  return brown_forsythe_statistic(a, b, midpoint_median(a), midpoint_median(b));
}

double brown_forsythe_statistic(const std::vector<double>& a, const std::vector<double>& b, double median_a,
                                double median_b) {
  require_two_each(a, b);
  double mean_a = 0, mean_b = 0;
  const auto za = deviations(a, median_a, mean_a);
  const auto zb = deviations(b, median_b, mean_b);
  const auto na = static_cast<double>(za.size());
  const auto nb = static_cast<double>(zb.size());
  const double grand = (na * mean_a + nb * mean_b) / (na + nb);
  const double between = na * (mean_a - grand) * (mean_a - grand) + nb * (mean_b - grand) * (mean_b - grand);
  double within = 0;
  for (const double z : za) within += (z - mean_a) * (z - mean_a);
  for (const double z : zb) within += (z - mean_b) * (z - mean_b);
  if (!(within > 0)) return std::numeric_limits<double>::quiet_NaN();
  return (na + nb - 2) * between / within;
}

TestResult brown_forsythe(const std::vector<double>& a, const std::vector<double>& b) {
  TestResult r;
  r.statistic = brown_forsythe_statistic(a, b);
  if (std::isnan(r.statistic)) {
    r.p = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  const boost::math::fisher_f_distribution<double> f(1.0, static_cast<double>(a.size() + b.size()) - 2);
  r.p = boost::math::cdf(boost::math::complement(f, r.statistic));
  return r;
}

std::vector<double> benjamini_hochberg(const std::vector<double>& p) {
  const std::size_t m = p.size();
  std::vector<double> q(m);
  if (m == 0) return q;
  const auto value = [&](std::size_t i) { return std::isnan(p[i]) ? 1.0 : p[i]; };
  std::vector<std::size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return value(x) < value(y); });
  double running = 1.0;
  for (std::size_t k = m; k-- > 0;) {
    running = std::min(running, value(order[k]) * static_cast<double>(m) / static_cast<double>(k + 1));
    q[order[k]] = running;
  }
  return q;
}

std::vector<double> holm(const std::vector<double>& p) {
  const std::size_t m = p.size();
  std::vector<double> adjusted(m);
  const auto value = [&](std::size_t i) { return std::isnan(p[i]) ? 1.0 : p[i]; };
  std::vector<std::size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return value(x) < value(y); });
  double running = 0;
  for (std::size_t k = 0; k < m; ++k) {
    running = std::max(running, std::min(1.0, value(order[k]) * static_cast<double>(m - k)));
    adjusted[order[k]] = running;
  }
  return adjusted;
}

double binomial_upper_tail(std::size_t k, std::size_t n, double p) {
  if (k == 0) return 1.0;
  if (k > n) return 0.0;
  const boost::math::binomial_distribution<double> b(static_cast<double>(n), p);
  return boost::math::cdf(boost::math::complement(b, static_cast<double>(k - 1)));
}

}  // namespace amva::stats
