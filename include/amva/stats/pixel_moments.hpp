#pragma once
// Per-pixel streaming mean and variance of a group of maps: Welford's update per map, and
// Chan et al.'s pairwise formula to merge partial results exactly (shards, threads).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace amva::stats {

class PixelMoments {
 public:
  explicit PixelMoments(std::size_t pixels = 0);
  /// Adds one map of pixels() values.
  void add(const float* map);
  /// Adds the maps summarised by `other` (same pixel count).
  void merge(const PixelMoments& other);

  [[nodiscard]] std::size_t pixels() const { return mean_.size(); }
  [[nodiscard]] std::size_t count() const { return n_; }
  [[nodiscard]] const std::vector<double>& mean() const { return mean_; }
  /// Unbiased variance (divides by n - 1); NaN when fewer than two maps.
  [[nodiscard]] std::vector<double> variance() const;
  /// Unbiased standard deviation: the AM-V map.
  [[nodiscard]] std::vector<double> stddev() const;

  /// The exact state as bytes, for merging partial results of other processes.
  [[nodiscard]] std::string to_bytes() const;
  /// Throws Error(Mismatch) for bytes that to_bytes() did not make.
  static PixelMoments from_bytes(std::string_view bytes);

 private:
  std::size_t n_ = 0;
  std::vector<double> mean_;
  std::vector<double> m2_;  // sum of squared deviations from the mean
};

}  // namespace amva::stats
