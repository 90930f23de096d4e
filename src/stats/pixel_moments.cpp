#include "amva/stats/pixel_moments.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "amva/error.hpp"

namespace amva::stats {

PixelMoments::PixelMoments(std::size_t pixels) : mean_(pixels, 0.0), m2_(pixels, 0.0) {}

void PixelMoments::add(const float* map) {
  ++n_;
  const double inv = 1.0 / static_cast<double>(n_);
  for (std::size_t i = 0; i < mean_.size(); ++i) {
    const double delta = map[i] - mean_[i];
    mean_[i] += delta * inv;
    m2_[i] += delta * (map[i] - mean_[i]);
  }
}

void PixelMoments::merge(const PixelMoments& other) {
  if (other.pixels() != pixels()) {
    throw Error(ErrorCode::Mismatch,
                fmt::format("cannot merge statistics of {} and {} pixels", pixels(), other.pixels()));
  }
  if (other.n_ == 0) return;
  if (n_ == 0) {
    *this = other;
    return;
  }
  const double na = static_cast<double>(n_);
  const double nb = static_cast<double>(other.n_);
  const double n = na + nb;
  for (std::size_t i = 0; i < mean_.size(); ++i) {
    const double delta = other.mean_[i] - mean_[i];
    mean_[i] += delta * nb / n;
    m2_[i] += other.m2_[i] + delta * delta * na * nb / n;
  }
  n_ += other.n_;
}

std::vector<double> PixelMoments::variance() const {
  std::vector<double> v(mean_.size(), std::numeric_limits<double>::quiet_NaN());
  if (n_ < 2) return v;
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = m2_[i] / static_cast<double>(n_ - 1);
  return v;
}

std::vector<double> PixelMoments::stddev() const {
  auto v = variance();
  for (auto& x : v) x = std::sqrt(x);
  return v;
}

}  // namespace amva::stats
