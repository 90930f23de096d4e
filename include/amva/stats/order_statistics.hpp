#pragma once
// Per-pixel median and spread of a group of maps.
//
// Conventions: for odd counts the median is the middle value. For even counts it is, by
// default, the *lower* of the two middle values, as torch.median returns it and the seed
// paper's code uses (MedianConvention::Lower), or on request their mean, NumPy's convention
// (Midpoint). The MAD is median |x - median| with the same convention at both steps.
// `std_sq_dev_lower_median` is the quantity the seed paper's code calls `std_mad`: the
// unbiased standard deviation of (x - m)^2, m the lower median. It is kept exactly as that
// code computes it, under an honest name.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace amva::stats {

enum class MedianConvention { Lower, Midpoint };
/// "lower" or "midpoint".
std::string to_string(MedianConvention convention);
/// Throws Error(InvalidArgument) for anything but "lower" and "midpoint".
MedianConvention parse_median_convention(const std::string& text);

struct OrderStatistics {
  std::vector<double> median;
  std::vector<double> mad;                      // median |x - median|
  std::vector<double> std_sq_dev_lower_median;  // the authors' "std_mad"
  double median_error_bound = 0;                // 0 when exact; else the largest possible error of the median
  double mad_error_bound = 0;                   // 0 when exact; else that of the MAD
};

/// Exact, from n maps of `pixels` values held in memory (row-major n x pixels).
OrderStatistics exact_order_statistics(const std::vector<float>& maps, std::size_t n, std::size_t pixels,
                                       MedianConvention convention = MedianConvention::Lower);

/// Per-pixel histograms over [lo, hi] of width w = (hi - lo) / bins, for groups too large to
/// hold. Every order statistic is estimated by the centre of the bin that holds its rank, so
/// it is within w/2 of the exact value (the median: w/2; for even counts under Midpoint, the
/// mean of two such estimates, also within w/2). The MAD is the same order statistic of the
/// distances |c - m'| of every value's bin centre c to the estimated median m': each distance
/// differs from the exact |x - m| by at most |x - c| + |m - m'| <= w/2 + w/2, and an order
/// statistic moves no more than the largest change of its inputs, so the MAD is within w.
/// Both bounds hold for values inside [lo, hi]; values outside count in the end bins.
/// std_sq_dev_lower_median is not available from histograms (NaN).
class PixelHistograms {
 public:
  PixelHistograms(std::size_t pixels, int bins, double lo, double hi);
  void add(const float* map);
  /// Adds `count` maps stored one after another (faster than one at a time).
  void add(const float* maps, std::size_t count);
  void merge(const PixelHistograms& other);
  [[nodiscard]] std::size_t count() const { return n_; }
  /// The exact state as bytes, for merging partial results of other processes.
  [[nodiscard]] std::string to_bytes() const;
  /// Throws Error(Mismatch) for bytes that to_bytes() did not make.
  static PixelHistograms from_bytes(std::string_view bytes);
  /// Merges histograms given as bytes into others given as bytes, in place (no copy of the
  /// pixels x bins counts); throws Error(Mismatch) for different layouts.
  static void merge_bytes(char* into, std::size_t into_size, std::string_view other);
  [[nodiscard]] OrderStatistics statistics(MedianConvention convention = MedianConvention::Lower) const;

 private:
  [[nodiscard]] double bin_width() const { return (hi_ - lo_) / bins_; }
  std::size_t pixels_;
  int bins_;
  double lo_;
  double hi_;
  std::size_t n_ = 0;
  std::vector<std::uint32_t> counts_;  // pixels x bins
};

}  // namespace amva::stats
