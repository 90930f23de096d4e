#pragma once
// The region statistics (mean MAM and AM-V inside and outside a mask of the 112x112 face) of
// any weighting of a set of low-resolution maps, from weighted sums of a few features per
// map: upsampling is linear, so each pixel's mean and variance follow from the low-resolution
// mean and the covariances of the neighbouring pixels it interpolates. The bootstrap
// (group_maps.cpp) and the permutation tests (permutation_tests.cpp) evaluate thousands of
// resamplings this way without touching a 112x112 map.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <map>
#include <opencv2/core.hpp>
#include <utility>
#include <vector>

#include "amva/analysis/group_maps.hpp"
#include "amva/error.hpp"

namespace amva::analysis {

class RegionEvaluator {
 public:
  RegionEvaluator(const Upsampler& up, const cv::Mat& inside_mask) : up_(up) {
    const int d = up.low_pixels();
    std::map<std::pair<int, int>, int> pair_index;
    std::vector<std::vector<std::pair<int, double>>> pixel_terms(static_cast<std::size_t>(up.pixels()));
    inside_.resize(static_cast<std::size_t>(up.pixels()));
    weights_in_ = Eigen::VectorXd::Zero(d);
    weights_out_ = Eigen::VectorXd::Zero(d);
    const auto* mask = inside_mask.ptr<std::uint8_t>();
    for (int p = 0; p < up.pixels(); ++p) {
      const bool in = mask[p] != 0;
      inside_[static_cast<std::size_t>(p)] = in;
      (in ? n_in_ : n_out_) += 1;
      const auto& taps = up.taps(p);
      for (const auto& t : taps) (in ? weights_in_ : weights_out_)[t.index] += t.weight;
      for (std::size_t a = 0; a < taps.size(); ++a) {
        for (std::size_t b = a; b < taps.size(); ++b) {
          const auto key = std::minmax(taps[a].index, taps[b].index);
          auto [it, inserted] = pair_index.emplace(key, static_cast<int>(pairs_.size()));
          if (inserted) pairs_.push_back(key);
          const double coef = taps[a].weight * taps[b].weight * (a == b ? 1.0 : 2.0);
          pixel_terms[static_cast<std::size_t>(p)].push_back({it->second, coef});
        }
      }
    }
    group_pixels(pixel_terms);
    if (n_in_ == 0 || n_out_ == 0) throw Error(ErrorCode::InvalidArgument, "the region mask must split the face");
    weights_in_ /= n_in_;
    weights_out_ /= n_out_;
  }

  [[nodiscard]] int features() const { return up_.low_pixels() + static_cast<int>(pairs_.size()); }

  // Features of one centred map: the values, then the products of the neighbour pairs.
  void features(const float* x, const Eigen::VectorXd& centre, double* out) const {
    const int d = up_.low_pixels();
    for (int a = 0; a < d; ++a) out[a] = x[a] - centre[a];
    for (std::size_t k = 0; k < pairs_.size(); ++k) out[d + k] = out[pairs_[k].first] * out[pairs_[k].second];
  }

  struct Values {
    double inside_am, inside_amv, outside_am, outside_amv;
  };
  // From the weighted feature sums (weights summing to n) of one resampling.
  // `pixel_amv`, when given, receives every pixel's AM-V (pixels() values).
  [[nodiscard]] Values evaluate(const double* sums, double n, const Eigen::VectorXd& centre,
                                double* pixel_amv = nullptr) const {
    const int d = up_.low_pixels();
    Eigen::Map<const Eigen::VectorXd> s1(sums, d);
    const Eigen::VectorXd mu = s1 / n;  // centred mean
    Values v{weights_in_.dot(centre + mu), 0, weights_out_.dot(centre + mu), 0};
    std::vector<double> cov(pairs_.size());
    for (std::size_t k = 0; k < pairs_.size(); ++k) {
      cov[k] = (sums[d + k] - n * mu[pairs_[k].first] * mu[pairs_[k].second]) / (n - 1);
    }
    // Every pixel's variance, group by group: a group's pixels interpolate the same low-resolution
    // pixels, so each of its terms is one covariance times a row of coefficients, a loop the
    // compiler vectorises without gathering. Each pixel's sum still adds its terms in their
    // order from 0, so the result is the same to the last bit as one pixel at a time.
    thread_local std::vector<double> variance, sum;
    variance.resize(inside_.size());
    for (const auto& g : groups_) {
      const std::size_t m = g.pixels.size();
      sum.assign(m, 0.0);
      double* __restrict acc = sum.data();
      const double* __restrict coef = g.coef.data();
      for (std::size_t t = 0; t < g.pairs.size(); ++t, coef += m) {
        const double c = cov[g.pairs[t]];
        for (std::size_t j = 0; j < m; ++j) acc[j] += coef[j] * c;
      }
      for (std::size_t j = 0; j < m; ++j) variance[g.pixels[j]] = acc[j];
    }
    // Then the pixels' AM-V, two square roots per instruction (max(0, v) as std::max(v, 0.0):
    // NaN stays NaN), and the region sums adding them in pixel order.
    thread_local std::vector<double> own_amv;
    double* amv = pixel_amv;
    if (!amv) {
      own_amv.resize(variance.size());
      amv = own_amv.data();
    }
    std::size_t p = 0;
#if defined(__SSE2__)
    const __m128d zero = _mm_setzero_pd();
    for (; p + 2 <= variance.size(); p += 2) {
      _mm_storeu_pd(amv + p, _mm_sqrt_pd(_mm_max_pd(zero, _mm_loadu_pd(variance.data() + p))));
    }
#endif
    for (; p < variance.size(); ++p) amv[p] = std::sqrt(std::max(variance[p], 0.0));
    for (p = 0; p < variance.size(); ++p) (inside_[p] ? v.inside_amv : v.outside_amv) += amv[p];
    v.inside_amv /= n_in_;
    v.outside_amv /= n_out_;
    return v;
  }

  // The same as evaluate, from every pixel's AM-V that another evaluator of the same upsampler
  // returned (the pixels do not depend on the mask): several masks cost one pass over the pixels.
  [[nodiscard]] Values evaluate_from_pixels(const double* sums, double n, const Eigen::VectorXd& centre,
                                            const double* pixel_amv) const {
    const int d = up_.low_pixels();
    Eigen::Map<const Eigen::VectorXd> s1(sums, d);
    const Eigen::VectorXd mu = s1 / n;
    Values v{weights_in_.dot(centre + mu), 0, weights_out_.dot(centre + mu), 0};
    for (std::size_t p = 0; p < inside_.size(); ++p) (inside_[p] ? v.inside_amv : v.outside_amv) += pixel_amv[p];
    v.inside_amv /= n_in_;
    v.outside_amv /= n_out_;
    return v;
  }

 private:
  // Pixels whose variances sum the same pair covariances in the same order (those between the
  // same low-resolution pixels): `coef` holds term t's coefficient of pixel pixels[j] at
  // t * pixels.size() + j.
  struct PixelGroup {
    std::vector<std::size_t> pairs;
    std::vector<std::size_t> pixels;
    std::vector<double> coef;
  };

  // Each pixel's variance is a sum of coefficients times pair covariances (`pixel_terms`).
  void group_pixels(const std::vector<std::vector<std::pair<int, double>>>& pixel_terms) {
    std::map<std::vector<std::size_t>, std::size_t> group_of;
    for (std::size_t p = 0; p < pixel_terms.size(); ++p) {
      std::vector<std::size_t> pairs;
      for (const auto& term : pixel_terms[p]) pairs.push_back(static_cast<std::size_t>(term.first));
      const auto [it, added] = group_of.emplace(pairs, groups_.size());
      if (added) groups_.push_back({std::move(pairs), {}, {}});
      groups_[it->second].pixels.push_back(p);
    }
    for (auto& g : groups_) {
      const std::size_t m = g.pixels.size();
      g.coef.resize(g.pairs.size() * m);
      for (std::size_t j = 0; j < m; ++j) {
        const auto& terms = pixel_terms[g.pixels[j]];
        for (std::size_t t = 0; t < terms.size(); ++t) g.coef[t * m + j] = terms[t].second;
      }
    }
  }

  const Upsampler& up_;
  std::vector<std::pair<int, int>> pairs_;
  std::vector<PixelGroup> groups_;  // every pixel in one (thousands of evaluations run through them)
  std::vector<char> inside_;
  Eigen::VectorXd weights_in_, weights_out_;
  double n_in_ = 0, n_out_ = 0;
};

}  // namespace amva::analysis
