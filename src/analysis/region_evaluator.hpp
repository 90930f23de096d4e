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
    term_start_.push_back(0);
    for (const auto& terms : pixel_terms) {
      for (const auto& [k, coef] : terms) {
        term_pair_.push_back(static_cast<std::size_t>(k));
        term_coef_.push_back(coef);
      }
      term_start_.push_back(term_pair_.size());
    }
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
    const std::size_t pixels = term_start_.size() - 1;
    const auto variance = [&](std::size_t p) {
      double var = 0;
      for (std::size_t t = term_start_[p]; t < term_start_[p + 1]; ++t) var += term_coef_[t] * cov[term_pair_[t]];
      return var;
    };
    const auto add = [&](std::size_t p, double var) {
      const double amv = std::sqrt(std::max(var, 0.0));
      if (pixel_amv) pixel_amv[p] = amv;
      (inside_[p] ? v.inside_amv : v.outside_amv) += amv;
    };
    std::size_t p = 0;
    // Four pixels with as many terms at a time: four independent sums keep the core busy where
    // one waits on each addition. Each pixel's sum runs in its own order, so the result is the
    // same to the last bit.
    for (; p + 4 <= pixels; p += 4) {
      const std::size_t* start = &term_start_[p];
      const std::size_t terms = start[1] - start[0];
      if (start[2] - start[1] != terms || start[3] - start[2] != terms || start[4] - start[3] != terms) {
        for (std::size_t q = p; q < p + 4; ++q) add(q, variance(q));
        continue;
      }
      double v0 = 0, v1 = 0, v2 = 0, v3 = 0;
      for (std::size_t t = 0; t < terms; ++t) {
        v0 += term_coef_[start[0] + t] * cov[term_pair_[start[0] + t]];
        v1 += term_coef_[start[1] + t] * cov[term_pair_[start[1] + t]];
        v2 += term_coef_[start[2] + t] * cov[term_pair_[start[2] + t]];
        v3 += term_coef_[start[3] + t] * cov[term_pair_[start[3] + t]];
      }
#if defined(__SSE2__)
      // Two square roots per instruction; max(0, v) as std::max(v, 0.0) (NaN stays NaN).
      alignas(16) double amv[4];
      const __m128d zero = _mm_setzero_pd();
      _mm_store_pd(amv, _mm_sqrt_pd(_mm_max_pd(zero, _mm_set_pd(v1, v0))));
      _mm_store_pd(amv + 2, _mm_sqrt_pd(_mm_max_pd(zero, _mm_set_pd(v3, v2))));
      for (std::size_t q = 0; q < 4; ++q) {
        if (pixel_amv) pixel_amv[p + q] = amv[q];
        (inside_[p + q] ? v.inside_amv : v.outside_amv) += amv[q];
      }
#else
      add(p, v0);
      add(p + 1, v1);
      add(p + 2, v2);
      add(p + 3, v3);
#endif
    }
    for (; p < pixels; ++p) add(p, variance(p));
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
  const Upsampler& up_;
  std::vector<std::pair<int, int>> pairs_;
  // Each pixel's variance as a sum of coefficients times pair covariances, flattened: pixel p's
  // terms are term_start_[p] .. term_start_[p + 1] (thousands of evaluations run through them).
  std::vector<std::size_t> term_start_, term_pair_;
  std::vector<double> term_coef_;
  std::vector<char> inside_;
  Eigen::VectorXd weights_in_, weights_out_;
  double n_in_ = 0, n_out_ = 0;
};

}  // namespace amva::analysis
