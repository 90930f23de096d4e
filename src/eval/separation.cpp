#include "amva/eval/separation.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "amva/error.hpp"

namespace amva::eval {

void IdentityComparisons::add(int a, int b, double score) {
  if (a < 0 || b < 0) throw Error(ErrorCode::InvalidArgument, "IdentityComparisons: negative identity");
  auto& m = cells_[{std::min(a, b), std::max(a, b)}];
  m.n += 1;
  m.sum += score;
  m.sum_sq += score * score;
  identities_ = std::max(identities_, std::max(a, b) + 1);
}

Separation IdentityComparisons::separation(const std::vector<double>& weights) const {
  const auto weight = [&](int k) { return weights.empty() ? 1.0 : weights[static_cast<std::size_t>(k)]; };
  Moments mated, nonmated;
  for (const auto& [ids, m] : cells_) {
    const bool is_mated = ids.first == ids.second;
    // Drawing identity k w_k times repeats its mated comparisons w_k times and those between
    // k and j w_k * w_j times.
    const double w = is_mated ? weight(ids.first) : weight(ids.first) * weight(ids.second);
    if (w == 0) continue;
    auto& side = is_mated ? mated : nonmated;
    side.n += w * m.n;
    side.sum += w * m.sum;
    side.sum_sq += w * m.sum_sq;
  }
  Separation s;
  s.mated = mated.n;
  s.nonmated = nonmated.n;
  if (mated.n == 0 || nonmated.n == 0) return s;
  s.mated_mean = mated.sum / mated.n;
  s.nonmated_mean = nonmated.sum / nonmated.n;
  const double var_m = std::max(0.0, mated.sum_sq / mated.n - s.mated_mean * s.mated_mean);
  const double var_n = std::max(0.0, nonmated.sum_sq / nonmated.n - s.nonmated_mean * s.nonmated_mean);
  s.mated_sd = std::sqrt(var_m);
  s.nonmated_sd = std::sqrt(var_n);
  const double pooled = std::sqrt((var_m + var_n) / 2);
  s.d_prime = pooled > 0 ? (s.mated_mean - s.nonmated_mean) / pooled : 0;
  return s;
}

double bootstrap_win_share(const IdentityComparisons& a, const IdentityComparisons& b, int replicates,
                           std::uint64_t seed) {
  const int n = std::max(a.identities(), b.identities());
  if (n == 0 || replicates <= 0) return 0;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> draw(0, n - 1);
  std::vector<double> weights(static_cast<std::size_t>(n));
  int wins = 0;
  for (int r = 0; r < replicates; ++r) {
    std::fill(weights.begin(), weights.end(), 0.0);
    for (int i = 0; i < n; ++i) weights[static_cast<std::size_t>(draw(rng))] += 1;
    if (a.separation(weights).d_prime > b.separation(weights).d_prime) ++wins;
  }
  return static_cast<double>(wins) / replicates;
}

}  // namespace amva::eval
