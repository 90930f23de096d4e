#include "amva/analysis/permutation_tests.hpp"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <random>

#include "amva/analysis/regions.hpp"
#include "amva/error.hpp"
#include "amva/stats/distributions.hpp"
#include "amva/stats/random_streams.hpp"
#include "amva/stats/variance_tests.hpp"
#include "region_evaluator.hpp"

namespace amva::analysis {
namespace {

using stats::kNaN;

// The pooled faces' blocks: members of each, in pool order (low first, then high).
std::vector<std::vector<std::size_t>> blocks_of(const PooledGroups& g) {
  const std::size_t n = g.n_low + g.n_high;
  std::vector<std::vector<std::size_t>> blocks;
  if (g.low_identities.empty() && g.high_identities.empty()) {
    for (std::size_t i = 0; i < n; ++i) blocks.push_back({i});
    return blocks;
  }
  if (g.low_identities.size() != g.n_low || g.high_identities.size() != g.n_high) {
    throw Error(ErrorCode::InvalidArgument, "permutation blocks need one identity per face of each group");
  }
  std::map<std::int64_t, std::size_t> number;
  for (std::size_t i = 0; i < n; ++i) {
    const auto id = i < g.n_low ? g.low_identities[i] : g.high_identities[i - g.n_low];
    const auto [it, added] = number.emplace(id, blocks.size());
    if (added) blocks.emplace_back();
    blocks[it->second].push_back(i);
  }
  return blocks;
}

// One permutation: blocks in a random order, dealt to low until its size comes closest to
// n_low while both groups keep two faces. Returns the low group's size.
std::size_t deal(const std::vector<std::vector<std::size_t>>& blocks, std::size_t n, std::size_t n_low,
                 std::mt19937_64& rng, std::vector<std::size_t>& order, std::vector<char>& is_low) {
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::shuffle(order.begin(), order.end(), rng);
  std::size_t best_cut = 0, best_size = 0, size = 0;
  double best_gap = std::numeric_limits<double>::infinity();
  for (std::size_t c = 0; c < order.size(); ++c) {
    size += blocks[order[c]].size();
    if (size < 2 || n - size < 2) continue;
    const double gap = std::abs(static_cast<double>(size) - static_cast<double>(n_low));
    if (gap < best_gap) {
      best_gap = gap;
      best_cut = c + 1;
      best_size = size;
    }
    if (size >= n_low) break;  // the sizes only grow from here
  }
  std::fill(is_low.begin(), is_low.end(), 0);
  for (std::size_t c = 0; c < best_cut; ++c) {
    for (const auto i : blocks[order[c]]) is_low[i] = 1;
  }
  return best_size;
}

// Permutation p of the test seeded `seed`: each draws from its own stream, so the result does
// not depend on the threads. Throws when no cut of the blocks makes two groups of two faces.
std::size_t deal_permutation(const std::vector<std::vector<std::size_t>>& blocks, std::size_t n, std::size_t n_low,
                             std::uint64_t seed, std::size_t p, std::vector<std::size_t>& order,
                             std::vector<char>& is_low) {
  std::mt19937_64 rng(stats::mix64(seed ^ stats::mix64(p)));
  const auto size = deal(blocks, n, n_low, rng, order, is_low);
  if (size == 0) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("the {} faces of the two groups form {} blocks (people), too few to make two groups of "
                            "two faces",
                            n, blocks.size()));
  }
  return size;
}

// Each cell's pool in value order, sorted once, so that a split's two medians are read off in
// one pass over it instead of two selections per split. A cell with a NaN (which has no order)
// keeps the selections.
class SortedCells {
 public:
  SortedCells(const std::vector<double>& by_cell, std::size_t n, std::size_t d)
      : by_cell_(by_cell), n_(n), order_(d * n), sorted_(d) {
    for (std::size_t k = 0; k < d; ++k) {
      const double* v = by_cell.data() + k * n;
      sorted_[k] = std::none_of(v, v + n, [](double x) { return std::isnan(x); });
      if (!sorted_[k]) continue;
      auto* order = order_.data() + k * n;
      std::iota(order, order + n, 0U);
      std::sort(order, order + n, [v](std::uint32_t i, std::uint32_t j) { return v[i] < v[j]; });
    }
  }

  /// Cell k's midpoint medians of the low and the high faces of a split with `n_low` low faces,
  /// as stats::brown_forsythe_statistic would select them; nullopt when the cell is not sorted.
  [[nodiscard]] std::optional<std::pair<double, double>> medians(std::size_t k, const std::vector<char>& is_low,
                                                                 std::size_t n_low) const {
    if (!sorted_[k]) return std::nullopt;
    const double* v = by_cell_.data() + k * n_;
    const std::uint32_t* order = order_.data() + k * n_;
    const std::size_t n_high = n_ - n_low;
    // The values at ranks (m - 1) / 2 and m / 2 of each group: one, or two to average.
    const std::size_t lo[2] = {(n_low - 1) / 2, (n_high - 1) / 2}, hi[2] = {n_low / 2, n_high / 2};
    double at_lo[2] = {0, 0}, at_hi[2] = {0, 0};
    std::size_t seen[2] = {0, 0}, done = 0;
    for (std::size_t r = 0; r < n_ && done < 2; ++r) {
      const std::uint32_t i = order[r];
      const int g = is_low[i] ? 0 : 1;
      const std::size_t rank = seen[g]++;
      if (rank == lo[g]) at_lo[g] = v[i];
      if (rank == hi[g]) {
        at_hi[g] = v[i];
        ++done;
      }
    }
    const auto median = [&](int g, std::size_t m) { return m % 2 ? at_hi[g] : 0.5 * (at_hi[g] + at_lo[g]); };
    return std::pair{median(0, n_low), median(1, n_high)};
  }

 private:
  const std::vector<double>& by_cell_;  // cells x n values, cell-major
  std::size_t n_;
  std::vector<std::uint32_t> order_;  // cell-major: cell k's faces in value order
  std::vector<char> sorted_;
};

// Brown-Forsythe F of every cell for one split of the pool (cells x n values, cell-major).
void cell_statistics(const std::vector<double>& by_cell, const SortedCells& sorted, std::size_t n, std::size_t d,
                     const std::vector<char>& is_low, std::vector<double>& a, std::vector<double>& b, double* out) {
  for (std::size_t k = 0; k < d; ++k) {
    a.clear();
    b.clear();
    const double* v = by_cell.data() + k * n;
    for (std::size_t i = 0; i < n; ++i) (is_low[i] ? a : b).push_back(v[i]);
    const auto m = a.size() >= 2 && b.size() >= 2 ? sorted.medians(k, is_low, a.size()) : std::nullopt;
    out[k] = m ? stats::brown_forsythe_statistic(a, b, m->first, m->second) : stats::brown_forsythe_statistic(a, b);
  }
}

struct RegionDifferences {
  double outside = 0, inside = 0;
};

}  // namespace

PermutationTests permutation_tests(const PooledGroups& g, const Upsampler& up, const PermutationOptions& options) {
  const auto d = static_cast<std::size_t>(up.low_pixels());
  if (g.n_low < 2 || g.n_high < 2) {
    throw Error(ErrorCode::InvalidArgument, "permutation tests need at least two faces in each group");
  }
  if (g.low.size() != g.n_low * d || g.high.size() != g.n_high * d) {
    throw Error(ErrorCode::InvalidArgument, "permutation tests need n x low_pixels maps per group");
  }
  if (options.permutations < 1) throw Error(ErrorCode::InvalidArgument, "permutation tests need permutations >= 1");
  const std::size_t n = g.n_low + g.n_high;
  // Face i of the pool: the low group's faces, then the high group's.
  const auto map_of = [&](std::size_t i) { return i < g.n_low ? &g.low[i * d] : &g.high[(i - g.n_low) * d]; };
  const auto value = [&](std::size_t i, std::size_t k) { return static_cast<double>(map_of(i)[k]); };
  const auto blocks = blocks_of(g);

  PermutationTests t;
  t.permutations = options.permutations;
  t.blocks = blocks.size();
  for (const auto& b : blocks) t.largest_block = std::max(t.largest_block, b.size());

  std::vector<double> by_cell(d * n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < d; ++k) by_cell[k * n + i] = value(i, k);
  }
  const SortedCells sorted(by_cell, n, d);
  // Region features, centred on the pool's mean; the high group's sums are the pool's less the low's.
  const RegionEvaluator eval(up, central_face_mask());
  const auto F = static_cast<std::size_t>(eval.features());
  Eigen::VectorXd centre = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(d));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < d; ++k) centre[static_cast<Eigen::Index>(k)] += value(i, k);
  }
  centre /= static_cast<double>(n);
  std::vector<double> features(n * F);
  std::vector<double> total(F, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    eval.features(map_of(i), centre, features.data() + i * F);
    for (std::size_t f = 0; f < F; ++f) total[f] += features[i * F + f];
  }
  const auto P = static_cast<std::size_t>(up.pixels());
  // Region differences of one split; `pixels` (P values), when given, receives each pixel's AM-V low - high.
  const auto region = [&](const std::vector<char>& is_low, std::size_t n_low, double* pixels) {
    std::vector<double> low(F, 0.0), high(F), low_pixels(pixels ? P : 0), high_pixels(pixels ? P : 0);
    for (std::size_t i = 0; i < n; ++i) {
      if (!is_low[i]) continue;
      const double* f = features.data() + i * F;
      for (std::size_t j = 0; j < F; ++j) low[j] += f[j];
    }
    for (std::size_t j = 0; j < F; ++j) high[j] = total[j] - low[j];
    const auto l = eval.evaluate(low.data(), static_cast<double>(n_low), centre, pixels ? low_pixels.data() : nullptr);
    const auto h =
        eval.evaluate(high.data(), static_cast<double>(n - n_low), centre, pixels ? high_pixels.data() : nullptr);
    for (std::size_t q = 0; pixels && q < P; ++q) pixels[q] = low_pixels[q] - high_pixels[q];
    return RegionDifferences{l.outside_amv - h.outside_amv, l.inside_amv - h.inside_amv};
  };

  // The observed split.
  std::vector<char> observed(n, 0);
  std::fill(observed.begin(), observed.begin() + static_cast<std::ptrdiff_t>(g.n_low), 1);
  std::vector<double> observed_f(d);
  {
    std::vector<double> a, b;
    cell_statistics(by_cell, sorted, n, d, observed, a, b, observed_f.data());
  }
  std::vector<double> observed_pixels(P);
  const auto observed_region = region(observed, g.n_low, observed_pixels.data());
  t.outside_difference = observed_region.outside;
  t.inside_difference = observed_region.inside;

  // A relative tolerance, so that a permutation equal to the observed split counts as extreme.
  const auto at_least = [](double null_value, double observed_value) {
    return null_value >= observed_value - 1e-12 * std::abs(observed_value);
  };
  // Every permutation draws from its own stream, so the result does not depend on the threads.
  const auto B = static_cast<std::size_t>(options.permutations);
  std::vector<double> null_f(B * d), null_outside(B), null_inside(B);
  std::vector<std::size_t> low_sizes(B);
  // Per-pixel sums over fixed chunks of permutations, added in chunk order: the same on any
  // number of threads.
  constexpr std::size_t kChunks = 16;
  const std::size_t band = options.pixel_null ? P : 0;
  std::vector<std::vector<double>> chunk_sum(kChunks, std::vector<double>(band, 0.0)), chunk_sq(chunk_sum);
  std::vector<std::vector<std::size_t>> chunk_extreme(kChunks, std::vector<std::size_t>(band, 0));
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, kChunks, 1), [&](const tbb::blocked_range<std::size_t>& chunks) {
    std::vector<std::size_t> order(blocks.size());
    std::vector<char> is_low(n);
    std::vector<double> a, b, pixels(P);
    for (std::size_t c = chunks.begin(); c < chunks.end(); ++c) {
      for (std::size_t p = c * B / kChunks; p < (c + 1) * B / kChunks; ++p) {
        const auto size = deal_permutation(blocks, n, g.n_low, options.seed, p, order, is_low);
        low_sizes[p] = size;
        cell_statistics(by_cell, sorted, n, d, is_low, a, b, null_f.data() + p * d);
        const auto r = region(is_low, size, options.pixel_null ? pixels.data() : nullptr);
        null_outside[p] = r.outside;
        null_inside[p] = r.inside;
        for (std::size_t q = 0; options.pixel_null && q < P; ++q) {
          chunk_sum[c][q] += pixels[q];
          chunk_sq[c][q] += pixels[q] * pixels[q];
          chunk_extreme[c][q] += at_least(std::abs(pixels[q]), std::abs(observed_pixels[q])) ? 1 : 0;
        }
      }
    }
  });
  const int size = options.pixel_null ? static_cast<int>(std::lround(std::sqrt(static_cast<double>(P)))) : 0;
  t.pixel_difference = cv::Mat(size, size, CV_64F);
  t.pixel_null_sd = cv::Mat(size, size, CV_64F);
  t.pixel_p = cv::Mat(size, size, CV_64F);
  for (std::size_t q = 0; options.pixel_null && q < P; ++q) {
    double sum = 0, sq = 0;
    std::size_t extreme = 0;
    for (std::size_t c = 0; c < kChunks; ++c) {
      sum += chunk_sum[c][q];
      sq += chunk_sq[c][q];
      extreme += chunk_extreme[c][q];
    }
    const double mean = sum / static_cast<double>(B);
    const double var = B > 1 ? (sq - static_cast<double>(B) * mean * mean) / static_cast<double>(B - 1) : 0.0;
    t.pixel_difference.ptr<double>()[q] = observed_pixels[q];
    t.pixel_null_sd.ptr<double>()[q] = std::sqrt(std::max(var, 0.0));
    t.pixel_p.ptr<double>()[q] = static_cast<double>(1 + extreme) / static_cast<double>(1 + B);
  }
  t.low_size_min = *std::min_element(low_sizes.begin(), low_sizes.end());
  t.low_size_max = *std::max_element(low_sizes.begin(), low_sizes.end());

  const auto p_value = [&](std::size_t extreme) {
    return static_cast<double>(1 + extreme) / static_cast<double>(1 + B);
  };
  std::vector<double> max_f(B, -std::numeric_limits<double>::infinity());
  for (std::size_t p = 0; p < B; ++p) {
    for (std::size_t k = 0; k < d; ++k) {
      const double f = null_f[p * d + k];
      if (!std::isnan(f)) max_f[p] = std::max(max_f[p], f);
    }
  }
  const int h = up.low_rows(), w = up.low_cols();
  t.statistic = cv::Mat(h, w, CV_64F);
  t.p = cv::Mat(h, w, CV_64F);
  t.p_family = cv::Mat(h, w, CV_64F);
  for (std::size_t k = 0; k < d; ++k) {
    const double f = observed_f[k];
    t.statistic.ptr<double>()[k] = f;
    if (std::isnan(f)) {
      t.p.ptr<double>()[k] = kNaN;
      t.p_family.ptr<double>()[k] = 1.0;
      continue;
    }
    std::size_t alone = 0, family = 0;
    for (std::size_t p = 0; p < B; ++p) {
      const double nf = null_f[p * d + k];
      alone += !std::isnan(nf) && at_least(nf, f) ? 1 : 0;
      family += at_least(max_f[p], f) ? 1 : 0;
    }
    t.p.ptr<double>()[k] = p_value(alone);
    t.p_family.ptr<double>()[k] = p_value(family);
  }
  std::size_t outside_extreme = 0, inside_extreme = 0;
  for (std::size_t p = 0; p < B; ++p) {
    outside_extreme += at_least(std::abs(null_outside[p]), std::abs(t.outside_difference)) ? 1 : 0;
    inside_extreme += at_least(std::abs(null_inside[p]), std::abs(t.inside_difference)) ? 1 : 0;
  }
  t.p_outside = p_value(outside_extreme);
  t.p_inside = p_value(inside_extreme);
  t.null_outside.resize(B);
  for (std::size_t p = 0; p < B; ++p) t.null_outside[p] = std::abs(null_outside[p]);
  std::sort(t.null_outside.begin(), t.null_outside.end());
  return t;
}

std::vector<OutsideTest> outside_tests(const PooledGroups& g, const Upsampler& up,
                                       const std::vector<cv::Mat>& inside_masks, int permutations, std::uint64_t seed) {
  const auto d = static_cast<std::size_t>(up.low_pixels());
  if (g.n_low < 2 || g.n_high < 2) {
    throw Error(ErrorCode::InvalidArgument, "permutation tests need at least two faces in each group");
  }
  if (g.low.size() != g.n_low * d || g.high.size() != g.n_high * d || inside_masks.empty() || permutations < 1) {
    throw Error(ErrorCode::InvalidArgument,
                "outside tests need n x low_pixels maps per group, a mask and permutations");
  }
  const std::size_t n = g.n_low + g.n_high;
  const auto map_of = [&](std::size_t i) { return i < g.n_low ? &g.low[i * d] : &g.high[(i - g.n_low) * d]; };
  const auto blocks = blocks_of(g);
  // Features centred on the pool's mean, as permutation_tests has them; every mask reads the
  // same per-pixel AM-V, summed over its outside pixels in pixel order.
  const RegionEvaluator eval(up, inside_masks.front());
  const auto F = static_cast<std::size_t>(eval.features());
  Eigen::VectorXd centre = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(d));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < d; ++k) centre[static_cast<Eigen::Index>(k)] += static_cast<double>(map_of(i)[k]);
  }
  centre /= static_cast<double>(n);
  std::vector<double> features(n * F), total(F, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    eval.features(map_of(i), centre, features.data() + i * F);
    for (std::size_t f = 0; f < F; ++f) total[f] += features[i * F + f];
  }
  const auto P = static_cast<std::size_t>(up.pixels());
  const std::size_t M = inside_masks.size();
  std::vector<std::vector<std::size_t>> outside(M);
  for (std::size_t m = 0; m < M; ++m) {
    const auto* mask = inside_masks[m].ptr<std::uint8_t>();
    for (std::size_t q = 0; q < P; ++q) {
      if (mask[q] == 0) outside[m].push_back(q);
    }
    if (outside[m].empty() || outside[m].size() == P) {
      throw Error(ErrorCode::InvalidArgument, "the region mask must split the face");
    }
  }
  // Outside differences (one per mask) of one split.
  const auto differences = [&](const std::vector<char>& is_low, std::size_t n_low, double* out) {
    std::vector<double> low(F, 0.0), high(F), low_amv(P), high_amv(P);
    for (std::size_t i = 0; i < n; ++i) {
      if (!is_low[i]) continue;
      const double* f = features.data() + i * F;
      for (std::size_t j = 0; j < F; ++j) low[j] += f[j];
    }
    for (std::size_t j = 0; j < F; ++j) high[j] = total[j] - low[j];
    // Only the per-pixel AM-V is read: each mask sums its own outside pixels.
    (void)eval.evaluate(low.data(), static_cast<double>(n_low), centre, low_amv.data());
    (void)eval.evaluate(high.data(), static_cast<double>(n - n_low), centre, high_amv.data());
    for (std::size_t m = 0; m < M; ++m) {
      double l = 0, h = 0;
      for (const auto q : outside[m]) {
        l += low_amv[q];
        h += high_amv[q];
      }
      const auto count = static_cast<double>(outside[m].size());
      out[m] = l / count - h / count;
    }
  };
  std::vector<char> observed(n, 0);
  std::fill(observed.begin(), observed.begin() + static_cast<std::ptrdiff_t>(g.n_low), 1);
  std::vector<double> observed_difference(M);
  differences(observed, g.n_low, observed_difference.data());
  const auto B = static_cast<std::size_t>(permutations);
  std::vector<double> null(B * M);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, B), [&](const tbb::blocked_range<std::size_t>& range) {
    std::vector<std::size_t> order(blocks.size());
    std::vector<char> is_low(n);
    for (std::size_t p = range.begin(); p < range.end(); ++p) {
      const auto size = deal_permutation(blocks, n, g.n_low, seed, p, order, is_low);
      differences(is_low, size, null.data() + p * M);
    }
  });
  const auto at_least = [](double null_value, double observed_value) {
    return null_value >= observed_value - 1e-12 * std::abs(observed_value);
  };
  std::vector<OutsideTest> tests(M);
  for (std::size_t m = 0; m < M; ++m) {
    std::size_t extreme = 0;
    for (std::size_t p = 0; p < B; ++p) {
      extreme += at_least(std::abs(null[p * M + m]), std::abs(observed_difference[m])) ? 1 : 0;
    }
    tests[m].difference = observed_difference[m];
    tests[m].p = static_cast<double>(1 + extreme) / static_cast<double>(1 + B);
    for (std::size_t p = 0; p < B; ++p) tests[m].null_outside.push_back(std::abs(null[p * M + m]));
    std::sort(tests[m].null_outside.begin(), tests[m].null_outside.end());
  }
  return tests;
}

double detectable_difference(const PermutationTests& tests, double alpha) {
  return detectable_difference(tests.null_outside, alpha);
}

double detectable_difference(const std::vector<double>& null_outside, double alpha) {
  const auto B = null_outside.size();
  if (B == 0) return kNaN;
  // p(x) = (1 + #{null >= x}) / (1 + B) <= alpha  <=>  #{null >= x} <= k = floor(alpha (1 + B)) - 1,
  // reached just above the (k + 1)-th largest null value.
  const auto k = static_cast<long long>(std::floor(alpha * static_cast<double>(B + 1))) - 1;
  if (k < 0) return std::numeric_limits<double>::infinity();
  if (static_cast<std::size_t>(k) >= B) return 0.0;
  return null_outside[B - static_cast<std::size_t>(k) - 1];
}

}  // namespace amva::analysis
