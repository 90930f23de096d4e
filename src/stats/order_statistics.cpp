#include "amva/stats/order_statistics.hpp"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "amva/error.hpp"

namespace amva::stats {
namespace {

// Reorders v; returns {numpy median, lower median}. Selection, not a full sort: O(n).
std::pair<double, double> medians(std::vector<double>& v) {
  const std::size_t n = v.size();
  const auto upper_it = v.begin() + static_cast<std::ptrdiff_t>(n / 2);
  std::nth_element(v.begin(), upper_it, v.end());
  const double upper = *upper_it;
  // For even n the lower middle value is the largest of the lower half.
  const double lower = n % 2 ? upper : *std::max_element(v.begin(), upper_it);
  return {0.5 * (lower + upper), lower};
}

double unbiased_std(const std::vector<double>& v) {
  if (v.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

}  // namespace

OrderStatistics exact_order_statistics(const std::vector<float>& maps, std::size_t n, std::size_t pixels) {
  if (maps.size() != n * pixels) throw Error(ErrorCode::InvalidArgument, "maps must hold n x pixels values");
  OrderStatistics s;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  s.median.assign(pixels, nan);
  s.mad.assign(pixels, nan);
  s.std_sq_dev_lower_median.assign(pixels, nan);
  if (n == 0) return s;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, pixels), [&](const tbb::blocked_range<std::size_t>& range) {
    std::vector<double> column(n);
    std::vector<double> work(n);
    for (std::size_t p = range.begin(); p < range.end(); ++p) {
      for (std::size_t i = 0; i < n; ++i) column[i] = maps[i * pixels + p];
      work = column;
      const auto [median, lower] = medians(work);
      s.median[p] = median;
      for (std::size_t i = 0; i < n; ++i) work[i] = std::abs(column[i] - median);
      s.mad[p] = medians(work).first;
      for (std::size_t i = 0; i < n; ++i) work[i] = (column[i] - lower) * (column[i] - lower);
      s.std_sq_dev_lower_median[p] = unbiased_std(work);
    }
  });
  return s;
}

PixelHistograms::PixelHistograms(std::size_t pixels, int bins, double lo, double hi)
    : pixels_(pixels), bins_(bins), lo_(lo), hi_(hi), counts_(pixels * static_cast<std::size_t>(bins), 0) {
  if (bins < 1 || !(hi > lo)) throw Error(ErrorCode::InvalidArgument, "histograms need bins >= 1 and hi > lo");
}

void PixelHistograms::add(const float* map) {
  add(map, 1);
}

// Pixel by pixel over the whole batch, so that one pixel's bins stay in cache: map by map,
// every pixel would touch another cache line of the pixels x bins table.
void PixelHistograms::add(const float* maps, std::size_t count) {
  n_ += count;
  const double scale = 1.0 / bin_width();
  for (std::size_t p = 0; p < pixels_; ++p) {
    std::uint32_t* row = counts_.data() + p * static_cast<std::size_t>(bins_);
    for (std::size_t i = 0; i < count; ++i) {
      const double x = std::floor((maps[i * pixels_ + p] - lo_) * scale);
      ++row[static_cast<std::size_t>(std::clamp(x, 0.0, static_cast<double>(bins_ - 1)))];
    }
  }
}

void PixelHistograms::merge(const PixelHistograms& other) {
  if (other.pixels_ != pixels_ || other.bins_ != bins_ || other.lo_ != lo_ || other.hi_ != hi_) {
    throw Error(ErrorCode::Mismatch, "cannot merge histograms of different layouts");
  }
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  n_ += other.n_;
}

// The median is interpolated inside the bin that holds the middle rank; the MAD comes from
// the distances of bin centres to that median. The median is within one bin width of the exact
// value; the MAD within two (the median's error plus the binning of the distances).
OrderStatistics PixelHistograms::statistics() const {
  OrderStatistics s;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  s.median.assign(pixels_, nan);
  s.mad.assign(pixels_, nan);
  s.std_sq_dev_lower_median.assign(pixels_, nan);
  s.median_error_bound = bin_width();
  s.mad_error_bound = 2 * bin_width();
  if (n_ == 0) return s;
  const double half = 0.5 * static_cast<double>(n_);
  std::vector<std::pair<double, std::uint32_t>> distances(static_cast<std::size_t>(bins_));
  for (std::size_t p = 0; p < pixels_; ++p) {
    const std::uint32_t* c = counts_.data() + p * static_cast<std::size_t>(bins_);
    double cumulative = 0;
    for (int b = 0; b < bins_; ++b) {
      if (cumulative + c[b] >= half && c[b] > 0) {
        s.median[p] = lo_ + (b + (half - cumulative) / c[b]) * bin_width();
        break;
      }
      cumulative += c[b];
    }
    for (int b = 0; b < bins_; ++b) distances[b] = {std::abs(lo_ + (b + 0.5) * bin_width() - s.median[p]), c[b]};
    std::sort(distances.begin(), distances.end());
    cumulative = 0;
    for (const auto& [d, k] : distances) {
      cumulative += k;
      if (cumulative >= half) {
        s.mad[p] = d;
        break;
      }
    }
  }
  return s;
}

}  // namespace amva::stats
