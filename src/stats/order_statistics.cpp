#include "amva/stats/order_statistics.hpp"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "amva/error.hpp"

namespace amva::stats {
namespace {

struct Medians {
  double midpoint, lower;
  [[nodiscard]] double in(MedianConvention c) const { return c == MedianConvention::Lower ? lower : midpoint; }
};

// Reorders v. Selection, not a full sort: O(n).
Medians medians(std::vector<double>& v) {
  const std::size_t n = v.size();
  const auto upper_it = v.begin() + static_cast<std::ptrdiff_t>(n / 2);
  std::nth_element(v.begin(), upper_it, v.end());
  const double upper = *upper_it;
  // For even n the lower middle value is the largest of the lower half.
  const double lower = n % 2 ? upper : *std::max_element(v.begin(), upper_it);
  return {0.5 * (lower + upper), lower};
}

// The zero-based ranks whose values make the median of n values: one, or two to average.
std::pair<std::size_t, std::size_t> median_ranks(std::size_t n, MedianConvention c) {
  if (n % 2 || c == MedianConvention::Lower) return {(n - 1) / 2, (n - 1) / 2};
  return {n / 2 - 1, n / 2};
}

// The value at zero-based `rank` of a multiset given as (value, count) sorted by value.
double value_at_rank(const std::vector<std::pair<double, std::uint32_t>>& sorted, std::size_t rank) {
  std::size_t cumulative = 0;
  for (const auto& [value, count] : sorted) {
    cumulative += count;
    if (cumulative > rank) return value;
  }
  return sorted.empty() ? std::numeric_limits<double>::quiet_NaN() : sorted.back().first;
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

std::string to_string(MedianConvention convention) {
  return convention == MedianConvention::Lower ? "lower" : "midpoint";
}

MedianConvention parse_median_convention(const std::string& text) {
  if (text == "lower") return MedianConvention::Lower;
  if (text == "midpoint") return MedianConvention::Midpoint;
  throw Error(ErrorCode::InvalidArgument, fmt::format("median convention '{}': use lower or midpoint", text));
}

OrderStatistics exact_order_statistics(const std::vector<float>& maps, std::size_t n, std::size_t pixels,
                                       MedianConvention convention) {
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
      const auto m = medians(work);
      const double median = m.in(convention);
      const double lower = m.lower;
      s.median[p] = median;
      for (std::size_t i = 0; i < n; ++i) work[i] = std::abs(column[i] - median);
      s.mad[p] = medians(work).in(convention);
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

namespace {
struct HistogramLayout {
  std::uint64_t pixels, n;
  std::int64_t bins;
  double lo, hi;
};
}  // namespace

std::string PixelHistograms::to_bytes() const {
  const HistogramLayout layout{pixels_, n_, bins_, lo_, hi_};
  std::string bytes(sizeof layout + counts_.size() * sizeof(std::uint32_t), '\0');
  std::memcpy(bytes.data(), &layout, sizeof layout);
  std::memcpy(bytes.data() + sizeof layout, counts_.data(), counts_.size() * sizeof(std::uint32_t));
  return bytes;
}

PixelHistograms PixelHistograms::from_bytes(std::string_view bytes) {
  HistogramLayout layout{};
  if (bytes.size() >= sizeof layout) std::memcpy(&layout, bytes.data(), sizeof layout);
  if (bytes.size() < sizeof layout || layout.bins < 1 ||
      bytes.size() != sizeof layout + layout.pixels * static_cast<std::uint64_t>(layout.bins) * sizeof(std::uint32_t)) {
    throw Error(ErrorCode::Mismatch, fmt::format("{} bytes are not pixel histograms", bytes.size()));
  }
  PixelHistograms h(layout.pixels, static_cast<int>(layout.bins), layout.lo, layout.hi);
  h.n_ = layout.n;
  std::memcpy(h.counts_.data(), bytes.data() + sizeof layout, h.counts_.size() * sizeof(std::uint32_t));
  return h;
}

void PixelHistograms::merge_bytes(char* into, std::size_t into_size, std::string_view other) {
  HistogramLayout a{}, b{};
  if (into_size < sizeof a || other.size() != into_size) {
    throw Error(ErrorCode::Mismatch, "cannot merge histograms of different layouts");
  }
  std::memcpy(&a, into, sizeof a);
  std::memcpy(&b, other.data(), sizeof b);
  if (a.pixels != b.pixels || a.bins != b.bins || a.lo != b.lo || a.hi != b.hi) {
    throw Error(ErrorCode::Mismatch, "cannot merge histograms of different layouts");
  }
  a.n += b.n;
  std::memcpy(into, &a, sizeof a);
  const std::size_t counts = (into_size - sizeof a) / sizeof(std::uint32_t);
  for (std::size_t i = 0; i < counts; ++i) {
    std::uint32_t x = 0, y = 0;
    std::memcpy(&x, into + sizeof a + i * sizeof x, sizeof x);
    std::memcpy(&y, other.data() + sizeof a + i * sizeof y, sizeof y);
    x += y;
    std::memcpy(into + sizeof a + i * sizeof x, &x, sizeof x);
  }
}

// See the header for the bounds and their proof.
OrderStatistics PixelHistograms::statistics(MedianConvention convention) const {
  OrderStatistics s;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double w = bin_width();
  s.median.assign(pixels_, nan);
  s.mad.assign(pixels_, nan);
  s.std_sq_dev_lower_median.assign(pixels_, nan);
  s.median_error_bound = w / 2;
  s.mad_error_bound = w;
  if (n_ == 0) return s;
  const auto [r0, r1] = median_ranks(n_, convention);
  std::vector<std::pair<double, std::uint32_t>> centres(static_cast<std::size_t>(bins_));
  std::vector<std::pair<double, std::uint32_t>> distances(static_cast<std::size_t>(bins_));
  for (std::size_t p = 0; p < pixels_; ++p) {
    const std::uint32_t* c = counts_.data() + p * static_cast<std::size_t>(bins_);
    for (int b = 0; b < bins_; ++b) centres[static_cast<std::size_t>(b)] = {lo_ + (b + 0.5) * w, c[b]};
    const double median = 0.5 * (value_at_rank(centres, r0) + value_at_rank(centres, r1));
    s.median[p] = median;
    for (int b = 0; b < bins_; ++b) {
      distances[static_cast<std::size_t>(b)] = {std::abs(centres[static_cast<std::size_t>(b)].first - median), c[b]};
    }
    std::sort(distances.begin(), distances.end());
    s.mad[p] = 0.5 * (value_at_rank(distances, r0) + value_at_rank(distances, r1));
  }
  return s;
}

}  // namespace amva::stats
