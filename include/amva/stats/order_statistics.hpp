#pragma once
// Per-pixel median and spread of a group of maps.
//
// Conventions: `median` and `mad` use the middle value for odd counts and the mean of the two
// middle values for even counts (NumPy's convention). `std_sq_dev_lower_median` is the
// quantity the seed paper's code calls `std_mad`: the unbiased standard deviation of
// (x - m)^2, where m is torch.median's *lower* median (the smaller middle value for even
// counts). It is kept exactly as that code computes it, under an honest name.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace amva::stats {

struct OrderStatistics {
  std::vector<double> median;
  std::vector<double> mad;                      // median |x - median|
  std::vector<double> std_sq_dev_lower_median;  // the authors' "std_mad"
  double median_error_bound = 0;                // 0 when exact; else the largest possible error of the median (one bin)
  double mad_error_bound = 0;                   // 0 when exact; else that of the MAD (two bins: median and binning)
};

/// Exact, from n maps of `pixels` values held in memory (row-major n x pixels).
OrderStatistics exact_order_statistics(const std::vector<float>& maps, std::size_t n, std::size_t pixels);

/// Per-pixel histograms over [lo, hi] for groups too large to hold: median and MAD within
/// one bin width of the exact values and the MAD within two (the reported bounds); values outside [lo, hi]
/// count in the end bins. std_sq_dev_lower_median is not available from histograms (NaN).
class PixelHistograms {
 public:
  PixelHistograms(std::size_t pixels, int bins, double lo, double hi);
  void add(const float* map);
  /// Adds `count` maps stored one after another (faster than one at a time).
  void add(const float* maps, std::size_t count);
  void merge(const PixelHistograms& other);
  [[nodiscard]] std::size_t count() const { return n_; }
  [[nodiscard]] OrderStatistics statistics() const;

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
