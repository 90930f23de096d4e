#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <random>

#include "amva/analysis/group_maps.hpp"
#include "amva/analysis/regions.hpp"
#include "support.hpp"

using namespace amva;
using namespace amva::analysis;

namespace {
std::vector<float> random_maps(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::gamma_distribution<float> gamma(0.8f, 0.3f);
  std::vector<float> v(n * 49);
  for (auto& x : v) x = gamma(rng);
  return v;
}
}  // namespace

// Hand-drawn expectation: with the template's inter-eye distance d = 35.24 px, the box is
// x in [29.49, 82.34], y in [42.69, 101.17]: columns 30..82 and rows 43..101.
TEST(Regions, CentralFaceMaskMatchesTheHandDrawnBox) {
  const auto& m = central_face_mask();
  EXPECT_EQ(cv::countNonZero(m), 53 * 59);
  const auto inside = [&](int x, int y) { return m.at<std::uint8_t>(y, x) != 0; };
  EXPECT_TRUE(inside(56, 70));
  EXPECT_TRUE(inside(30, 43));
  EXPECT_TRUE(inside(82, 101));
  EXPECT_FALSE(inside(29, 70));
  EXPECT_FALSE(inside(83, 70));
  EXPECT_FALSE(inside(56, 42));
  EXPECT_FALSE(inside(56, 102));
  EXPECT_FALSE(inside(0, 0));
}

TEST(Regions, FacePartsCoverTheFaceOncePerPixel) {
  const auto& l = face_part_labels();
  const auto part = [&](int x, int y) { return static_cast<FacePart>(l.at<std::uint8_t>(y, x)); };
  EXPECT_EQ(part(38, 52), FacePart::LeftEye);
  EXPECT_EQ(part(74, 51), FacePart::RightEye);
  EXPECT_EQ(part(56, 72), FacePart::Nose);
  EXPECT_EQ(part(56, 92), FacePart::Mouth);
  EXPECT_EQ(part(56, 58), FacePart::RestOfFace);  // between the eyes, 13.7 px above the nose tip
  EXPECT_EQ(part(5, 5), FacePart::Outside);
  // The parts other than "outside" are exactly the central region.
  cv::Mat face = l != static_cast<int>(FacePart::Outside);
  EXPECT_EQ(cv::countNonZero(face != central_face_mask()), 0);
  EXPECT_EQ(to_string(FacePart::RestOfFace), "rest_of_face");
}

TEST(GroupMaps, UpsamplerTapsReproduceCvResize) {
  const Upsampler up(7, 7);
  const auto maps = random_maps(1, 1);
  std::vector<float> out(112 * 112);
  up.apply(maps.data(), out.data());
  double worst = 0;
  for (int p = 0; p < up.pixels(); ++p) {
    double v = 0;
    for (const auto& t : up.taps(p)) v += t.weight * maps[static_cast<std::size_t>(t.index)];
    worst = std::max(worst, std::abs(v - out[static_cast<std::size_t>(p)]));
  }
  EXPECT_LT(worst, 1e-6);
  EXPECT_LE(up.taps(0).size(), 4u);
}

TEST(GroupMaps, MinMaxNormalisationAsPytorchGradCam) {
  std::vector<float> m = {2, 4, 6, 3};
  normalize_maps(m.data(), 1, 4, Normalization::MinMax);
  EXPECT_FLOAT_EQ(m[0], 0.f);
  EXPECT_NEAR(m[2], 1.f, 1e-6);
  EXPECT_NEAR(m[3], 0.25f, 1e-6);
  EXPECT_THROW(parse_normalization("zscore"), Error);
}

// The bootstrap evaluates region statistics from the low-resolution mean and covariance; with
// every image weighted once it must equal the masked means of the 112x112 maps themselves.
TEST(GroupMaps, RegionStatisticsEqualMaskedMeansOfThePixelMaps) {
  const std::size_t n = 60;
  auto maps = random_maps(n, 2);
  normalize_maps(maps.data(), n, 49, Normalization::MinMax);
  const Upsampler up(7, 7);
  const auto g = group_statistics(maps, n, up, {});
  BootstrapOptions b;
  b.replicates = 200;
  const auto r = region_statistics(maps, n, up, central_face_mask(), b);
  const cv::Mat outside = ~central_face_mask();
  EXPECT_NEAR(r.inside_am.value, masked_mean(g.mam, central_face_mask()), 1e-9);
  EXPECT_NEAR(r.outside_am.value, masked_mean(g.mam, outside), 1e-9);
  EXPECT_NEAR(r.inside_amv.value, masked_mean(g.amv, central_face_mask()), 1e-6);
  EXPECT_NEAR(r.outside_amv.value, masked_mean(g.amv, outside), 1e-6);
  EXPECT_NEAR(r.ratio_amv.value, r.outside_amv.value / r.inside_amv.value, 1e-12);
  for (const auto* i : {&r.inside_am, &r.outside_am, &r.inside_amv, &r.outside_amv, &r.ratio_am, &r.ratio_amv}) {
    EXPECT_LT(i->lo, i->value);
    EXPECT_GT(i->hi, i->value);
  }
  EXPECT_EQ(r.replicates_outside_amv.size(), 200u);
  // Same seed, same intervals.
  const auto again = region_statistics(maps, n, up, central_face_mask(), b);
  EXPECT_EQ(again.outside_amv.lo, r.outside_amv.lo);
}

TEST(GroupMaps, HistogramFallbackStaysWithinItsBound) {
  const std::size_t n = 41;
  auto maps = random_maps(n, 3);
  normalize_maps(maps.data(), n, 49, Normalization::MinMax);
  const Upsampler up(7, 7);
  const auto exact = group_statistics(maps, n, up, {});
  GroupStatisticsOptions small;
  small.memory_budget = 1;  // forces histograms
  small.histogram_bins = 256;
  const auto approx = group_statistics(maps, n, up, small);
  EXPECT_TRUE(exact.order_exact);
  EXPECT_FALSE(approx.order_exact);
  EXPECT_DOUBLE_EQ(approx.median_error_bound, 1.0 / 256);
  EXPECT_LE(cv::norm(exact.median, approx.median, cv::NORM_INF), approx.median_error_bound + 1e-9);
  EXPECT_LE(cv::norm(exact.mad, approx.mad, cv::NORM_INF), approx.mad_error_bound + 1e-9);
  EXPECT_EQ(cv::norm(exact.mam, approx.mam, cv::NORM_INF), 0.0);
}

TEST(GroupMaps, DeviationOfTheReferenceMeanIsZero) {
  const std::size_t n = 5;
  auto maps = random_maps(n, 4);
  const Upsampler up(7, 7);
  const auto g = group_statistics(maps, n, up, {});
  // A map equal to the group's mean everywhere is the mean of n copies of itself.
  std::vector<float> same(maps.begin(), maps.begin() + 49);
  std::vector<float> copies;
  for (int i = 0; i < 3; ++i) copies.insert(copies.end(), same.begin(), same.end());
  const auto one = group_statistics(copies, 3, up, {});
  const auto d = deviation_scores(same, 1, up, one.mam, one.amv, 0.01);
  EXPECT_NEAR(d[0], 0.0, 1e-5);
  EXPECT_GT(deviation_scores(maps, n, up, one.mam, g.amv, 0.01)[1], 0.1);
}
