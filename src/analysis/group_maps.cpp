#include "amva/analysis/group_maps.hpp"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <random>
#include <string_view>

#include "amva/error.hpp"
#include "amva/stats/distributions.hpp"
#include "amva/stats/order_statistics.hpp"
#include "amva/stats/pixel_moments.hpp"
#include "region_evaluator.hpp"
#include "team_values.hpp"

namespace amva::analysis {
namespace {

using stats::kNaN;

cv::Mat to_mat(const std::vector<double>& v, int size) {
  cv::Mat m(size, size, CV_64F);
  std::copy(v.begin(), v.end(), m.ptr<double>());
  return m;
}

}  // namespace

std::string to_string(Normalization n) {
  switch (n) {
    case Normalization::MinMax:
      return "minmax";
    case Normalization::MinMaxNative:
      return "minmax-native";
    case Normalization::None:
      return "none";
  }
  return {};
}

Normalization parse_normalization(const std::string& text) {
  if (text == "minmax") return Normalization::MinMax;
  if (text == "minmax-native") return Normalization::MinMaxNative;
  if (text == "none") return Normalization::None;
  throw Error(ErrorCode::InvalidArgument, fmt::format("normalisation '{}': use minmax, minmax-native or none", text));
}

std::string describe(Normalization n) {
  switch (n) {
    case Normalization::MinMax:
      return "pytorch-grad-cam's output maps: ReLU, (x - min) / (max - min + 1e-7) at the map's own resolution, "
             "bilinear upsampling to 112x112 (cv::resize), then (x - min) / (max - min + 1e-7) again at 112x112 "
             "(its multi-layer aggregation's final scale_cam_image); the maps the seed paper's code analyses";
    case Normalization::MinMaxNative:
      return "(x - min) / (max - min + 1e-7) at the map's own resolution, no ReLU, then bilinear upsampling to "
             "112x112 (keeps the negative part of signed maps)";
    case Normalization::None:
      return "raw map values, bilinear upsampling to 112x112";
  }
  return {};
}

namespace {
void minmax_in_place(float* m, std::size_t d, float lo, float hi) {
  const float scale = 1.0f / (1e-7f + (hi - lo));
  for (std::size_t k = 0; k < d; ++k) m[k] = (m[k] - lo) * scale;
}
}  // namespace

void normalize_maps(float* maps, std::size_t n, Normalization normalization, const Upsampler& up) {
  if (normalization == Normalization::None) return;
  const auto d = static_cast<std::size_t>(up.low_pixels());
  std::vector<float> upsampled(normalization == Normalization::MinMax ? static_cast<std::size_t>(up.pixels()) : 0);
  for (std::size_t i = 0; i < n; ++i) {
    float* m = maps + i * d;
    if (normalization == Normalization::MinMax) {
      for (std::size_t k = 0; k < d; ++k) m[k] = std::max(m[k], 0.0f);
    }
    const auto [lo, hi] = std::minmax_element(m, m + d);
    minmax_in_place(m, d, *lo, *hi);
    if (normalization == Normalization::MinMax) {
      up.apply(m, upsampled.data());
      const auto [ulo, uhi] = std::minmax_element(upsampled.begin(), upsampled.end());
      minmax_in_place(m, d, *ulo, *uhi);
    }
  }
}

bool is_constant_map(const float* map, std::size_t d) {
  const auto [lo, hi] = std::minmax_element(map, map + d);
  return *lo == *hi;
}

std::size_t constant_maps(const std::vector<float>& maps, std::size_t n, std::size_t d) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) count += is_constant_map(maps.data() + i * d, d) ? 1 : 0;
  return count;
}

Upsampler::Upsampler(int h, int w, int size) : h_(h), w_(w), size_(size) {
  if (h < 1 || w < 1 || size < 1) throw Error(ErrorCode::InvalidArgument, "upsampling needs positive sizes");
  taps_.resize(static_cast<std::size_t>(size) * static_cast<std::size_t>(size));
  cv::Mat basis(h, w, CV_64F);
  cv::Mat up;
  for (int i = 0; i < h * w; ++i) {
    basis.setTo(0);
    basis.at<double>(i / w, i % w) = 1.0;
    cv::resize(basis, up, cv::Size(size, size), 0, 0, cv::INTER_LINEAR);
    const auto* v = up.ptr<double>();
    for (int p = 0; p < size * size; ++p) {
      if (v[p] != 0) taps_[static_cast<std::size_t>(p)].push_back({i, v[p]});
    }
  }
}

void Upsampler::apply(const float* low, float* out) const {
  const cv::Mat src(h_, w_, CV_32F, const_cast<float*>(low));
  cv::Mat dst(size_, size_, CV_32F, out);
  cv::resize(src, dst, dst.size(), 0, 0, cv::INTER_LINEAR);
}

namespace {

std::string double_bytes(const double* values, std::size_t n) {
  return {reinterpret_cast<const char*>(values), n * sizeof(double)};
}
std::vector<double> bytes_doubles(const std::string& bytes) {
  std::vector<double> v(bytes.size() / sizeof(double));
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * sizeof(double));  // empty on all but the root
  return v;
}
// Element-wise sum of two partial results of equal length, for Team::reduce.
std::string add_doubles(std::string lower, const std::string& higher) {
  if (lower.size() != higher.size()) throw Error(ErrorCode::Mismatch, "partial sums of different lengths");
  auto* a = reinterpret_cast<double*>(lower.data());
  const auto b = bytes_doubles(higher);
  for (std::size_t k = 0; k < b.size(); ++k) a[k] += b[k];
  return lower;
}

bool fits_exact(std::size_t n, std::size_t pixels, const GroupStatisticsOptions& options) {
  return n * pixels * sizeof(float) <= options.memory_budget;
}

// Moments of n maps, and either every upsampled map (exact order statistics) or histograms.
struct PartialStatistics {
  stats::PixelMoments moments;
  std::vector<float> upsampled;
  std::optional<stats::PixelHistograms> histograms;
};

PartialStatistics summarise(const float* maps, std::size_t n, const Upsampler& up,
                            const GroupStatisticsOptions& options, bool exact) {
  const auto P = static_cast<std::size_t>(up.pixels());
  const auto d = static_cast<std::size_t>(up.low_pixels());
  PartialStatistics p{stats::PixelMoments(P), std::vector<float>(exact ? n * P : 0), std::nullopt};
  if (!exact) p.histograms.emplace(P, options.histogram_bins, options.value_lo, options.value_hi);
  constexpr std::size_t kBatch = 256;  // upsampled maps handed to the histograms at once
  std::vector<float> buffer(exact ? 0 : kBatch * P);
  for (std::size_t i = 0; i < n; ++i) {
    float* out = exact ? p.upsampled.data() + i * P : buffer.data() + (i % kBatch) * P;
    up.apply(maps + i * d, out);
    p.moments.add(out);
    if (!exact && (i % kBatch == kBatch - 1 || i + 1 == n)) p.histograms->add(buffer.data(), i % kBatch + 1);
  }
  return p;
}

GroupStatistics finish_statistics(const PartialStatistics& p, std::size_t n, const Upsampler& up,
                                  const GroupStatisticsOptions& options) {
  const auto P = static_cast<std::size_t>(up.pixels());
  const int size = static_cast<int>(std::lround(std::sqrt(static_cast<double>(P))));
  const bool exact = !p.histograms;
  GroupStatistics s;
  s.count = n;
  s.mam = to_mat(n ? p.moments.mean() : std::vector<double>(P, kNaN), size);
  s.amv = to_mat(p.moments.stddev(), size);
  const auto order = exact ? stats::exact_order_statistics(p.upsampled, n, P, options.median)
                           : p.histograms->statistics(options.median);
  s.median = to_mat(order.median, size);
  s.mad = to_mat(order.mad, size);
  s.std_sq_dev_lower_median = to_mat(order.std_sq_dev_lower_median, size);
  s.order_exact = exact;
  s.median_error_bound = order.median_error_bound;
  s.mad_error_bound = order.mad_error_bound;
  return s;
}

// A rank's moments and histograms as one string: the moments' length, the moments, the histograms.
std::string partial_bytes(const stats::PixelMoments& moments, const stats::PixelHistograms& histograms) {
  const auto m = moments.to_bytes();
  const auto h = histograms.to_bytes();
  const std::uint64_t length = m.size();
  std::string bytes(sizeof length + m.size() + h.size(), '\0');
  std::memcpy(bytes.data(), &length, sizeof length);
  std::memcpy(bytes.data() + sizeof length, m.data(), m.size());
  std::memcpy(bytes.data() + sizeof length + m.size(), h.data(), h.size());
  return bytes;
}
std::uint64_t moments_length(std::string_view bytes) {
  std::uint64_t length = 0;
  if (bytes.size() >= sizeof length) std::memcpy(&length, bytes.data(), sizeof length);
  if (bytes.size() < sizeof length + length) throw Error(ErrorCode::Mismatch, "truncated partial statistics");
  return length;
}
PartialStatistics partial_of(std::string_view bytes) {
  const auto length = moments_length(bytes);
  return {stats::PixelMoments::from_bytes(bytes.substr(sizeof length, length)),
          {},
          stats::PixelHistograms::from_bytes(bytes.substr(sizeof length + length))};
}
// Team::reduce's merge: the moments by Chan's formula, the histogram counts summed in place
// (they are pixels x bins: 51 MB at 112x112 and 1024 bins).
std::string merge_partials(std::string lower, const std::string& higher) {
  const auto length = moments_length(lower);
  if (moments_length(higher) != length) throw Error(ErrorCode::Mismatch, "partial statistics of different sizes");
  const std::string_view a(lower), b(higher);
  auto moments = stats::PixelMoments::from_bytes(a.substr(sizeof length, length));
  moments.merge(stats::PixelMoments::from_bytes(b.substr(sizeof length, length)));
  const auto merged = moments.to_bytes();
  std::memcpy(lower.data() + sizeof length, merged.data(), merged.size());
  stats::PixelHistograms::merge_bytes(lower.data() + sizeof length + length, lower.size() - sizeof length - length,
                                      b.substr(sizeof length + length));
  return lower;
}

}  // namespace

GroupStatistics group_statistics(const std::vector<float>& maps, std::size_t n, const Upsampler& up,
                                 const GroupStatisticsOptions& options) {
  const auto d = static_cast<std::size_t>(up.low_pixels());
  if (maps.size() != n * d) throw Error(ErrorCode::InvalidArgument, "maps must hold n x low_pixels values");
  const bool exact = fits_exact(n, static_cast<std::size_t>(up.pixels()), options);
  return finish_statistics(summarise(maps.data(), n, up, options, exact), n, up, options);
}

GroupStatistics group_statistics(const GroupSlice& slice, const Upsampler& up, const GroupStatisticsOptions& options,
                                 Team& team) {
  const auto d = static_cast<std::size_t>(up.low_pixels());
  if (slice.maps.size() != slice.count * d || slice.first + slice.count > slice.total) {
    throw Error(ErrorCode::InvalidArgument, "a group slice must hold count x low_pixels values within the group");
  }
  if (team.size() == 1) return group_statistics(slice.maps, slice.total, up, options);
  if (fits_exact(slice.total, static_cast<std::size_t>(up.pixels()), options)) {
    // Small enough to hold upsampled on one machine: gathered in the group's order, computed
    // as one process computes it (exact medians).
    const auto all = gathered_on_root(team, slice.maps);
    if (!team.is_root()) return {};
    if (all.size() != slice.total * d) throw Error(ErrorCode::Mismatch, "group slices do not make up the group");
    return group_statistics(all, slice.total, up, options);
  }
  auto mine = summarise(slice.maps.data(), slice.count, up, options, false);
  const auto merged = team.reduce(partial_bytes(mine.moments, *mine.histograms), merge_partials);
  if (!team.is_root()) return {};
  return finish_statistics(partial_of(merged), slice.total, up, options);
}

Interval percentile_interval(double value, const std::vector<double>& replicates, double confidence) {
  if (replicates.empty()) return {value, kNaN, kNaN};
  const double tail = (1 - confidence) / 2;
  return {value, stats::quantile(replicates, tail), stats::quantile(replicates, 1 - tail)};
}

RegionStatistics region_statistics(const std::vector<float>& maps, std::size_t n, const Upsampler& up,
                                   const cv::Mat& inside_mask, const BootstrapOptions& options,
                                   std::uint64_t stream_seed, const std::vector<std::int64_t>& clusters) {
  const auto d = static_cast<std::size_t>(up.low_pixels());
  if (maps.size() != n * d) throw Error(ErrorCode::InvalidArgument, "maps must hold n x low_pixels values");
  const auto alone = solo_team();
  return region_statistics(GroupSlice{maps, n, 0, n}, up, inside_mask, options, stream_seed, clusters, *alone);
}

std::vector<RegionStatistics> region_statistics(const std::vector<float>& maps, std::size_t n, const Upsampler& up,
                                                const std::vector<cv::Mat>& inside_masks,
                                                const BootstrapOptions& options, std::uint64_t stream_seed,
                                                const std::vector<std::int64_t>& clusters) {
  const auto d = static_cast<std::size_t>(up.low_pixels());
  if (maps.size() != n * d) throw Error(ErrorCode::InvalidArgument, "maps must hold n x low_pixels values");
  const auto alone = solo_team();
  return region_statistics(GroupSlice{maps, n, 0, n}, up, inside_masks, options, stream_seed, clusters, *alone);
}

namespace {
// The members of each bootstrap cluster (one cluster per image when resampling images).
std::vector<std::vector<std::size_t>> cluster_members(const std::vector<std::int64_t>& clusters, std::size_t n) {
  std::vector<std::vector<std::size_t>> members;
  if (clusters.empty()) {
    for (std::size_t i = 0; i < n; ++i) members.push_back({i});
    return members;
  }
  std::map<std::int64_t, std::size_t> number;
  for (std::size_t i = 0; i < n; ++i) {
    const auto [it, added] = number.emplace(clusters[i], members.size());
    if (added) members.emplace_back();
    members[it->second].push_back(i);
  }
  return members;
}
}  // namespace

RegionStatistics region_statistics(const GroupSlice& slice, const Upsampler& up, const cv::Mat& inside_mask,
                                   const BootstrapOptions& options, std::uint64_t stream_seed,
                                   const std::vector<std::int64_t>& clusters, Team& team) {
  auto one = region_statistics(slice, up, std::vector<cv::Mat>{inside_mask}, options, stream_seed, clusters, team);
  return one.empty() ? RegionStatistics{} : std::move(one.front());
}

std::vector<RegionStatistics> region_statistics(const GroupSlice& slice, const Upsampler& up,
                                                const std::vector<cv::Mat>& inside_masks,
                                                const BootstrapOptions& options, std::uint64_t stream_seed,
                                                const std::vector<std::int64_t>& clusters, Team& team) {
  const auto d = static_cast<std::size_t>(up.low_pixels());
  const std::size_t n = slice.total;
  if (slice.maps.size() != slice.count * d || slice.first + slice.count > n) {
    throw Error(ErrorCode::InvalidArgument, "a group slice must hold count x low_pixels values within the group");
  }
  if (n < 2) throw Error(ErrorCode::InvalidArgument, "region statistics need at least two maps");
  if (!clusters.empty() && clusters.size() != n) {
    throw Error(ErrorCode::InvalidArgument, "a cluster bootstrap needs one cluster id per map");
  }
  if (inside_masks.empty()) throw Error(ErrorCode::InvalidArgument, "region statistics need a region mask");
  // One evaluator per mask; the features depend on the upsampler alone, so they are shared.
  std::vector<RegionEvaluator> evaluators;
  evaluators.reserve(inside_masks.size());
  for (const auto& mask : inside_masks) evaluators.emplace_back(up, mask);
  const RegionEvaluator& eval = evaluators.front();
  const auto F = static_cast<std::size_t>(eval.features());
  const auto sum_on_root = [&](const double* values, std::size_t count) {
    return bytes_doubles(team.reduce(double_bytes(values, count), add_doubles));
  };

  Eigen::VectorXd centre = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(d));
  for (std::size_t i = 0; i < slice.count; ++i) {
    for (std::size_t a = 0; a < d; ++a) centre[static_cast<Eigen::Index>(a)] += slice.maps[i * d + a];
  }
  const auto total = sum_on_root(centre.data(), d);
  if (team.is_root()) centre = Eigen::Map<const Eigen::VectorXd>(total.data(), static_cast<Eigen::Index>(d));
  centre /= static_cast<double>(n);
  const auto shared = bytes_doubles(team.broadcast(double_bytes(centre.data(), d)));
  centre = Eigen::Map<const Eigen::VectorXd>(shared.data(), static_cast<Eigen::Index>(d));

  // Feature sums for R weightings at once: sums (F x R) = features^T (n x F) * weights (n x R),
  // computed over this rank's maps in chunks, so that memory does not grow with the features,
  // then summed over the ranks on the root.
  constexpr std::size_t kChunk = 2048;
  const auto weighted_sums = [&](const Eigen::MatrixXd& weights) {
    const auto R = weights.cols();
    Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(F), R);
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> chunk(kChunk, F);
    for (std::size_t first = 0; first < slice.count; first += kChunk) {
      const std::size_t count = std::min(kChunk, slice.count - first);
      for (std::size_t i = 0; i < count; ++i)
        eval.features(slice.maps.data() + (first + i) * d, centre, chunk.row(static_cast<Eigen::Index>(i)).data());
      sums.noalias() +=
          chunk.topRows(static_cast<Eigen::Index>(count)).transpose() *
          weights.middleRows(static_cast<Eigen::Index>(slice.first + first), static_cast<Eigen::Index>(count));
    }
    const auto all = sum_on_root(sums.data(), static_cast<std::size_t>(sums.size()));
    if (team.is_root()) sums = Eigen::Map<const Eigen::MatrixXd>(all.data(), static_cast<Eigen::Index>(F), R);
    return sums;
  };

  const double nd = static_cast<double>(n);
  const Eigen::MatrixXd point_sums = weighted_sums(Eigen::MatrixXd::Ones(static_cast<Eigen::Index>(n), 1));
  const std::size_t masks = evaluators.size();
  std::vector<RegionStatistics> results(masks);
  // Every rank draws the same counts, so that each weights its own maps as one process would.
  const auto members = cluster_members(clusters, n);
  for (auto& r : results) r.clusters = clusters.empty() ? 0 : members.size();
  std::vector<std::vector<double>> in_am(masks), out_am(masks), ratio_am(masks);
  std::vector<double> pixel_amv(masks > 1 ? static_cast<std::size_t>(up.pixels()) : 0);
  std::mt19937_64 rng(stream_seed);
  std::uniform_int_distribution<std::size_t> pick_cluster(0, members.size() - 1);
  constexpr int kBatch = 32;
  for (int done = 0; done < options.replicates; done += kBatch) {
    const int R = std::min(kBatch, options.replicates - done);
    Eigen::MatrixXd counts = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n), R);
    for (int b = 0; b < R; ++b) {
      for (std::size_t k = 0; k < members.size(); ++k) {
        const auto& m = members[pick_cluster(rng)];
        if (m.size() == 1) {
          counts(static_cast<Eigen::Index>(m.front()), b) += 1;
          continue;
        }
        std::uniform_int_distribution<std::size_t> pick_member(0, m.size() - 1);
        for (std::size_t j = 0; j < m.size(); ++j) counts(static_cast<Eigen::Index>(m[pick_member(rng)]), b) += 1;
      }
    }
    const Eigen::MatrixXd sums = weighted_sums(counts);
    if (!team.is_root()) continue;
    for (int b = 0; b < R; ++b) {
      // A cluster resample's size varies with the identities drawn (always >= 2 for n >= 2).
      const double weight = counts.col(b).sum();
      if (masks > 1) (void)eval.evaluate(sums.col(b).data(), weight, centre, pixel_amv.data());
      for (std::size_t k = 0; k < masks; ++k) {
        auto& r = results[k];
        const auto v = masks > 1 ? evaluators[k].evaluate_from_pixels(sums.col(b).data(), weight, centre,
                                                                      pixel_amv.data())
                                 : eval.evaluate(sums.col(b).data(), weight, centre);
        in_am[k].push_back(v.inside_am);
        out_am[k].push_back(v.outside_am);
        ratio_am[k].push_back(v.outside_am / v.inside_am);
        r.replicates_inside_amv.push_back(v.inside_amv);
        r.replicates_outside_amv.push_back(v.outside_amv);
        r.replicates_ratio_amv.push_back(v.outside_amv / v.inside_amv);
      }
    }
  }
  if (!team.is_root()) return {};
  const double c = options.confidence;
  for (std::size_t k = 0; k < masks; ++k) {
    auto& r = results[k];
    const auto point = evaluators[k].evaluate(point_sums.col(0).data(), nd, centre);
    r.inside_am = percentile_interval(point.inside_am, in_am[k], c);
    r.outside_am = percentile_interval(point.outside_am, out_am[k], c);
    r.ratio_am = percentile_interval(point.outside_am / point.inside_am, ratio_am[k], c);
    r.inside_amv = percentile_interval(point.inside_amv, r.replicates_inside_amv, c);
    r.outside_amv = percentile_interval(point.outside_amv, r.replicates_outside_amv, c);
    r.ratio_amv = percentile_interval(point.outside_amv / point.inside_amv, r.replicates_ratio_amv, c);
  }
  return results;
}

std::vector<double> deviation_scores(const std::vector<float>& maps, std::size_t n, const Upsampler& up,
                                     const cv::Mat& mam, const cv::Mat& amv, double eps) {
  const auto P = static_cast<std::size_t>(up.pixels());
  const auto d = static_cast<std::size_t>(up.low_pixels());
  if (maps.size() != n * d || mam.total() != P || amv.total() != P || mam.type() != CV_64F || amv.type() != CV_64F) {
    throw Error(ErrorCode::InvalidArgument, "deviation scores need n maps and 112x112 CV_64F reference maps");
  }
  std::vector<double> inv_scale(P);
  for (std::size_t p = 0; p < P; ++p) inv_scale[p] = 1.0 / (amv.ptr<double>()[p] + eps);
  std::vector<double> scores(n);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& range) {
    std::vector<float> am(P);
    for (std::size_t i = range.begin(); i < range.end(); ++i) {
      up.apply(maps.data() + i * d, am.data());
      double sum = 0;
      for (std::size_t p = 0; p < P; ++p) sum += std::abs((am[p] - mam.ptr<double>()[p]) * inv_scale[p]);
      scores[i] = sum / static_cast<double>(P);
    }
  });
  return scores;
}

}  // namespace amva::analysis
