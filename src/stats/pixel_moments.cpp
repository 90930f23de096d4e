#include "amva/stats/pixel_moments.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstring>
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

std::string PixelMoments::to_bytes() const {
  const std::uint64_t n = n_, pixels = mean_.size();
  std::string bytes(2 * sizeof(std::uint64_t) + 2 * pixels * sizeof(double), '\0');
  char* at = bytes.data();
  for (const auto v : {n, pixels}) at = static_cast<char*>(std::memcpy(at, &v, sizeof v)) + sizeof v;
  for (const auto* v : {&mean_, &m2_}) {
    if (pixels == 0) break;
    std::memcpy(at, v->data(), pixels * sizeof(double));
    at += pixels * sizeof(double);
  }
  return bytes;
}

PixelMoments PixelMoments::from_bytes(std::string_view bytes) {
  std::uint64_t n = 0, pixels = 0;
  if (bytes.size() >= 2 * sizeof n) {
    std::memcpy(&n, bytes.data(), sizeof n);
    std::memcpy(&pixels, bytes.data() + sizeof n, sizeof pixels);
  }
  if (bytes.size() < 2 * sizeof n || bytes.size() != 2 * sizeof n + 2 * pixels * sizeof(double)) {
    throw Error(ErrorCode::Mismatch, fmt::format("{} bytes are not pixel moments", bytes.size()));
  }
  PixelMoments m(pixels);
  m.n_ = n;
  const char* at = bytes.data() + 2 * sizeof n;
  if (pixels == 0) return m;
  std::memcpy(m.mean_.data(), at, pixels * sizeof(double));
  std::memcpy(m.m2_.data(), at + pixels * sizeof(double), pixels * sizeof(double));
  return m;
}

}  // namespace amva::stats
