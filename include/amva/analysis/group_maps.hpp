#pragma once
// Per-pixel statistics of a group's activation maps at 112x112 (DESIGN.md, "Groups and
// per-pixel statistics").
//
// Maps are stored at the target layer's resolution (7x7 for MobileFaceNets), normalised per
// map and upsampled bilinearly to 112x112 exactly as cv::resize does. `minmax` is exactly
// what pytorch-grad-cam hands to the seed paper's code: ReLU, min-max at the map's own
// resolution ((x - min) / (max - min + 1e-7), scale_cam_image), bilinear resize, then min-max
// again at 112x112 (its multi-layer aggregation rescales the final map, so the upsampled map
// peaks at 1, not at e.g. 0.991). Bilinear upsampling preserves constants (its weights sum to
// 1), so that second, per-map affine step is applied to the low-resolution map with the
// upsampled map's min and max: the upsampled result is the same (within float rounding), and
// everything downstream stays linear in the low-resolution values. `minmax-native` is the
// first step alone without ReLU, for signed maps (contribution) whose negative part matters.
// Upsampling is linear, so the mean and covariance of the low-resolution maps determine the
// mean and variance of every 112x112 pixel; the bootstrap intervals use that to resample
// thousands of times cheaply.
#include <cstdint>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "amva/stats/order_statistics.hpp"
#include "amva/team.hpp"

namespace amva::analysis {

enum class Normalization { MinMax, MinMaxNative, None };
std::string to_string(Normalization n);
/// "minmax", "minmax-native" or "none"; throws Error(InvalidArgument) otherwise.
Normalization parse_normalization(const std::string& text);
/// A sentence for summaries.
std::string describe(Normalization n);

class Upsampler;
/// Normalises n maps of up.low_pixels() values each, in place (see the top of this file).
void normalize_maps(float* maps, std::size_t n, Normalization normalization, const Upsampler& up);

/// cv::resize(INTER_LINEAR) from h x w to size x size, also as a sparse linear operator.
class Upsampler {
 public:
  Upsampler(int h, int w, int size = 112);
  struct Tap {
    int index;  // low-resolution pixel
    double weight;
  };
  [[nodiscard]] int low_pixels() const { return h_ * w_; }
  [[nodiscard]] int low_rows() const { return h_; }
  [[nodiscard]] int low_cols() const { return w_; }
  [[nodiscard]] int pixels() const { return size_ * size_; }
  /// Output pixel p = sum over taps(p) of weight * low[index].
  [[nodiscard]] const std::vector<Tap>& taps(int p) const { return taps_[static_cast<std::size_t>(p)]; }
  /// Upsamples one map with cv::resize into `out` (pixels() floats).
  void apply(const float* low, float* out) const;

 private:
  int h_, w_, size_;
  std::vector<std::vector<Tap>> taps_;
};

/// Whether a map of d values holds one value everywhere: all zero after the ReLU, or flat; it
/// carries no location, and min-max makes it an all-zero map.
bool is_constant_map(const float* map, std::size_t d);
/// How many of n maps (n x d values) are constant.
std::size_t constant_maps(const std::vector<float>& maps, std::size_t n, std::size_t d);

struct GroupStatistics {
  std::size_t count = 0;
  // 112x112 CV_64F maps; NaN where undefined (std of fewer than two maps)
  cv::Mat mam;                      // per-pixel mean
  cv::Mat amv;                      // per-pixel unbiased standard deviation
  cv::Mat median;                   // lower median for even counts, or the midpoint on request
  cv::Mat mad;                      // median |x - median|, same convention
  cv::Mat std_sq_dev_lower_median;  // the authors' "std_mad"; NaN when histogram-based
  bool order_exact = true;          // median and MAD exact, or from per-pixel histograms
  double median_error_bound = 0;    // largest possible error of the median (0 when exact)
  double mad_error_bound = 0;       // and of the MAD
};

struct GroupStatisticsOptions {
  std::size_t memory_budget = std::size_t{256} << 20;  // bytes for holding the upsampled maps
  int histogram_bins = 1024;
  double value_lo = 0;  // value range for histograms (normalised maps: [0, 1])
  double value_hi = 1;
  stats::MedianConvention median = stats::MedianConvention::Lower;
};

/// Statistics of n normalised low-resolution maps (n x low_pixels, row-major).
GroupStatistics group_statistics(const std::vector<float>& maps, std::size_t n, const Upsampler& up,
                                 const GroupStatisticsOptions& options);

/// One rank's share of a group: its maps `first` to `first + count` (normalised, count x
/// low_pixels) of the group's `total`, in the group's order. One process's slice is the group.
struct GroupSlice {
  const std::vector<float>& maps;
  std::size_t count;
  std::size_t first;
  std::size_t total;
};

/// Collective: group_statistics of the whole group, on the root (empty on the other ranks).
/// A group that fits the memory budget is gathered on the root and computed as above, so its
/// medians stay exact. A larger one is summarised per rank (Welford moments, per-pixel
/// histograms) and merged exactly on the root: Chan's formula for the moments (equal to one
/// process's within rounding) and summed counts for the histograms (identical medians).
GroupStatistics group_statistics(const GroupSlice& slice, const Upsampler& up, const GroupStatisticsOptions& options,
                                 Team& team);

struct Interval {
  double value = 0;
  double lo = 0;  // percentile bootstrap bounds
  double hi = 0;
};

struct BootstrapOptions {
  int replicates = 1000;
  std::uint64_t seed = 29794;  // the user's seed; each group draws from its own stream of it
  double confidence = 0.95;
};

/// Region statistics of a group: means over the region's pixels of MAM and AM-V inside and
/// outside a mask, and the outside / inside ratios, with percentile bootstrap intervals.
/// Resampling: the group's images with replacement, or, when `clusters` (one id per map) is
/// given, its identities with replacement and then, within each drawn identity, its images
/// with replacement (images of one person are not independent). `stream_seed` seeds this
/// group's own random stream (stats::stream_seed of the user's seed and the group's name),
/// so that two groups never share their draws.
struct RegionStatistics {
  Interval inside_am, inside_amv, outside_am, outside_amv, ratio_am, ratio_amv;
  // the bootstrap replicates, for intervals of differences between groups
  std::vector<double> replicates_outside_amv, replicates_inside_amv, replicates_ratio_amv;
  std::size_t clusters = 0;  // identities resampled (0: images)
};
RegionStatistics region_statistics(const std::vector<float>& maps, std::size_t n, const Upsampler& up,
                                   const cv::Mat& inside_mask, const BootstrapOptions& options,
                                   std::uint64_t stream_seed, const std::vector<std::int64_t>& clusters = {});

/// The same for several masks at once (the robustness grid's region margins): one bootstrap,
/// each replicate evaluated under every mask; element k equals region_statistics with mask k.
std::vector<RegionStatistics> region_statistics(const std::vector<float>& maps, std::size_t n, const Upsampler& up,
                                                const std::vector<cv::Mat>& inside_masks,
                                                const BootstrapOptions& options, std::uint64_t stream_seed,
                                                const std::vector<std::int64_t>& clusters = {});

/// Collective: region_statistics of the whole group, on the root (empty on the other ranks).
/// Every rank draws the same bootstrap counts for the whole group (`clusters` has one id per
/// map of the group) and sums its own maps' features; the sums meet on the root, so the
/// replicates equal one process's within rounding.
RegionStatistics region_statistics(const GroupSlice& slice, const Upsampler& up, const cv::Mat& inside_mask,
                                   const BootstrapOptions& options, std::uint64_t stream_seed,
                                   const std::vector<std::int64_t>& clusters, Team& team);
/// Collective, for several masks (empty on the ranks other than the root).
std::vector<RegionStatistics> region_statistics(const GroupSlice& slice, const Upsampler& up,
                                                const std::vector<cv::Mat>& inside_masks,
                                                const BootstrapOptions& options, std::uint64_t stream_seed,
                                                const std::vector<std::int64_t>& clusters, Team& team);

/// The percentile interval of `replicates` around `value`.
Interval percentile_interval(double value, const std::vector<double>& replicates, double confidence);

/// Per map: mean over the 112x112 pixels of |Z|, Z = (AM - mam) / (amv + eps): how far each
/// map lies from a reference group (the single-image deviation score). Runs on all cores.
std::vector<double> deviation_scores(const std::vector<float>& maps, std::size_t n, const Upsampler& up,
                                     const cv::Mat& mam, const cv::Mat& amv, double eps);

}  // namespace amva::analysis
