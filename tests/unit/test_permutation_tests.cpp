#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <cmath>
#include <random>

#include "amva/analysis/null_controls.hpp"
#include "amva/analysis/permutation_tests.hpp"
#include "amva/analysis/regions.hpp"
#include "amva/analysis/variance_significance.hpp"
#include "amva/analysis/verdicts.hpp"
#include "amva/stats/variance_tests.hpp"
#include "person_maps.hpp"

using namespace amva;
using analysis::PermutationTests;
using analysis::PooledGroups;

namespace {

// n maps of 7x7: centre 0.8, the outside uniform noise of amplitude `spread`.
std::vector<float> maps_with_spread(std::size_t n, float spread, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> maps(n * 49);
  for (std::size_t i = 0; i < n; ++i) {
    for (int k = 0; k < 49; ++k) {
      const int y = k / 7, x = k % 7;
      const bool centre = y >= 2 && y <= 4 && x >= 2 && x <= 4;
      maps[i * 49 + static_cast<std::size_t>(k)] = centre ? 0.8f + 0.05f * u(rng) : 0.1f + spread * u(rng);
    }
  }
  return maps;
}

// 30 people of 6 faces each, the first 84 faces low and the other 96 high.
struct PeopleGroups {
  test::People p = test::people_maps(30, 6, 3);
  std::size_t n_low = 84, n_high = 96;
  std::vector<float> low{p.maps.begin(), p.maps.begin() + static_cast<std::ptrdiff_t>(n_low * 49)};
  std::vector<float> high{p.maps.begin() + static_cast<std::ptrdiff_t>(n_low * 49), p.maps.end()};
  std::vector<std::int64_t> low_ids{p.identity.begin(), p.identity.begin() + static_cast<std::ptrdiff_t>(n_low)};
  std::vector<std::int64_t> high_ids{p.identity.begin() + static_cast<std::ptrdiff_t>(n_low), p.identity.end()};
  [[nodiscard]] PooledGroups pooled() const { return {low, n_low, high, n_high, low_ids, high_ids}; }
};

}  // namespace

// The permutation tests recompute the very statistics the analysis reports: the observed
// region difference equals the bootstrap's point values, and each cell's F the parametric one.
TEST(PermutationTests, ObservedValuesEqualTheRegionStatisticsAndTheBrownForsytheF) {
  const analysis::Upsampler up(7, 7);
  const auto low = maps_with_spread(60, 0.9f, 1);
  const auto high = maps_with_spread(50, 0.3f, 2);
  const auto t = analysis::permutation_tests(PooledGroups{low, 60, high, 50, {}, {}}, up, {199, 5});
  analysis::BootstrapOptions none;
  none.replicates = 0;
  const auto rl = analysis::region_statistics(low, 60, up, analysis::central_face_mask(), none, 1);
  const auto rh = analysis::region_statistics(high, 50, up, analysis::central_face_mask(), none, 2);
  EXPECT_NEAR(t.outside_difference, rl.outside_amv.value - rh.outside_amv.value, 1e-9);
  EXPECT_NEAR(t.inside_difference, rl.inside_amv.value - rh.inside_amv.value, 1e-9);
  for (std::size_t k = 0; k < 49; ++k) {
    std::vector<double> a, b;
    for (std::size_t i = 0; i < 60; ++i) a.push_back(low[i * 49 + k]);
    for (std::size_t i = 0; i < 50; ++i) b.push_back(high[i * 49 + k]);
    // Exactly: the tests read the medians off each cell's sorted pool instead of selecting them.
    EXPECT_EQ(t.statistic.ptr<double>()[k], stats::brown_forsythe(a, b).statistic) << k;
    EXPECT_GE(t.p_family.ptr<double>()[k], t.p.ptr<double>()[k]) << k;
  }
  // A real difference: no permutation comes near it, so p is the smallest possible, 1 / 200.
  EXPECT_DOUBLE_EQ(t.p_outside, 1.0 / 200);
  EXPECT_GT(t.outside_difference, 0);
  EXPECT_EQ(t.blocks, 110u);
  EXPECT_EQ(t.low_size_min, 60u);
  EXPECT_EQ(t.low_size_max, 60u);
  EXPECT_EQ(t.null_outside.size(), 199u);
  EXPECT_TRUE(std::is_sorted(t.null_outside.begin(), t.null_outside.end()));
}

// The medians read off a cell's sorted pool are the ones selection finds, for groups of odd and
// even sizes, with ties (values on a coarse grid) and with a NaN in one cell (which has no order
// and keeps the selection): every cell's F is the parametric one to the last bit.
TEST(PermutationTests, SortedMediansGiveTheSelectionsF) {
  const analysis::Upsampler up(7, 7);
  for (const auto& [n_low, n_high] : {std::pair<std::size_t, std::size_t>{61, 49}, {60, 49}, {2, 3}}) {
    auto low = maps_with_spread(n_low, 0.9f, 3);
    auto high = maps_with_spread(n_high, 0.3f, 4);
    for (auto* maps : {&low, &high}) {
      for (auto& v : *maps) v = std::round(v * 10.0f) / 10.0f;
    }
    low[5] = std::nanf("");
    const auto t = analysis::permutation_tests(PooledGroups{low, n_low, high, n_high, {}, {}}, up, {19, 5});
    for (std::size_t k = 0; k < 49; ++k) {
      std::vector<double> a, b;
      for (std::size_t i = 0; i < n_low; ++i) a.push_back(low[i * 49 + k]);
      for (std::size_t i = 0; i < n_high; ++i) b.push_back(high[i * 49 + k]);
      const double f = stats::brown_forsythe(a, b).statistic;
      const double ours = t.statistic.ptr<double>()[k];
      EXPECT_TRUE(ours == f || (std::isnan(ours) && std::isnan(f))) << n_low << "+" << n_high << " cell " << k;
    }
  }
}

// Whole people move: as many blocks as people, and the low group's size stays within a
// person's faces of its observed size.
TEST(PermutationTests, MovesWholePeopleAndDoesNotDependOnTheThreads) {
  const analysis::Upsampler up(7, 7);
  const PeopleGroups people;
  const auto& low = people.low;
  const auto& high = people.high;
  const std::size_t n_low = people.n_low, n_high = people.n_high;
  const PooledGroups pooled = people.pooled();
  const auto t = analysis::permutation_tests(pooled, up, {99, 11});
  EXPECT_EQ(t.blocks, 30u);
  EXPECT_EQ(t.largest_block, 6u);
  EXPECT_GE(t.low_size_min, n_low - 3);
  EXPECT_LE(t.low_size_max, n_low + 3);
  PermutationTests alone;
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    alone = analysis::permutation_tests(pooled, up, {99, 11});
  }
  EXPECT_EQ(alone.p_outside, t.p_outside);
  EXPECT_EQ(alone.null_outside, t.null_outside);
  EXPECT_EQ(cv::norm(alone.p_family, t.p_family, cv::NORM_INF), 0.0);
  // Too few people for two groups of two faces.
  const std::vector<std::int64_t> one_person_low(n_low, 7), one_person_high(n_high, 7);
  EXPECT_THROW(
      analysis::permutation_tests(PooledGroups{low, n_low, high, n_high, one_person_low, one_person_high}, up, {19, 1}),
      Error);
}

// The outside test alone, under several masks (the robustness grid): the same splits as the
// full tests, so under the analysis' mask it gives their difference and p exactly; under a
// wider central face the outside shrinks, and the difference with it.
TEST(PermutationTests, OutsideTestsOfSeveralMasksEqualTheFullTests) {
  const analysis::Upsampler up(7, 7);
  const PeopleGroups people;
  const PooledGroups pooled = people.pooled();
  const auto full = analysis::permutation_tests(pooled, up, {99, 11});
  const auto tests = analysis::outside_tests(
      pooled, up, {analysis::central_face_mask(0), analysis::central_face_mask(), analysis::central_face_mask(0.5)}, 99,
      11);
  ASSERT_EQ(tests.size(), 3u);
  EXPECT_EQ(tests[1].difference, full.outside_difference);
  EXPECT_EQ(tests[1].p, full.p_outside);
  for (const auto& t : tests) {
    EXPECT_GE(t.p, 1.0 / 100);
    EXPECT_LE(t.p, 1.0);
  }
  EXPECT_THROW((void)analysis::outside_tests(pooled, up, {}, 99, 11), Error);
}

// The smallest detectable difference is the null value whose p reaches alpha exactly.
TEST(PermutationTests, DetectableDifferenceIsWherePReachesAlpha) {
  PermutationTests t;
  for (int i = 1; i <= 99; ++i) t.null_outside.push_back(i / 100.0);  // 0.01 .. 0.99
  // p(x) = (1 + #{null >= x}) / 100 <= 0.05 needs at most 4 null values >= x: just above 0.95.
  EXPECT_DOUBLE_EQ(analysis::detectable_difference(t, 0.05), 0.95);
  EXPECT_TRUE(std::isinf(analysis::detectable_difference(t, 0.005)));
}

TEST(MultipleTesting, HolmAndTheBinomialTailByHand) {
  // Sorted p 0.01, 0.02, 0.04 (and NaN as 1): 4 x 0.01, 3 x 0.02, 2 x 0.04, 1 x 1.
  const auto h = stats::holm({0.04, 0.01, std::nan(""), 0.02});
  EXPECT_DOUBLE_EQ(h[1], 0.04);
  EXPECT_DOUBLE_EQ(h[3], 0.06);
  EXPECT_DOUBLE_EQ(h[0], 0.08);
  EXPECT_DOUBLE_EQ(h[2], 1.0);
  // P(X >= 2), X ~ Binomial(3, 0.5) = 4 / 8; P(X >= 0) = 1; P(X >= 4) = 0.
  EXPECT_NEAR(stats::binomial_upper_tail(2, 3, 0.5), 0.5, 1e-12);
  EXPECT_EQ(stats::binomial_upper_tail(0, 3, 0.5), 1.0);
  EXPECT_EQ(stats::binomial_upper_tail(4, 3, 0.5), 0.0);
  // 20 controls at 0.05: 3 false verdicts are not surprising (p 0.075), 4 are (p 0.016).
  EXPECT_NEAR(stats::binomial_upper_tail(3, 20, 0.05), 0.07548, 1e-4);
  EXPECT_NEAR(stats::binomial_upper_tail(4, 20, 0.05), 0.01590, 1e-4);
}

TEST(NullControls, IntraclassCorrelationByHand) {
  // Two people, two faces each: means 1 and 3, within deviations +-1. MSB = 2 x 2^2... by
  // hand: grand 2, between = 2 (1)^2 + 2 (1)^2 = 4, MSB = 4; within = 4 x 1 = 4, MSW = 4 / 2
  // = 2; k0 = 2: ICC = (4 - 2) / (4 + 2) = 1 / 3.
  EXPECT_NEAR(analysis::intraclass_correlation({0, 2, 2, 4}, {0, 0, 1, 1}), 1.0 / 3, 1e-12);
  // Unknown identities and NaN scores are left out; one person alone has no ICC.
  EXPECT_NEAR(analysis::intraclass_correlation({0, 2, 2, 4, 100, std::nan("")}, {0, 0, 1, 1, -1, 1}), 1.0 / 3, 1e-12);
  EXPECT_EQ(analysis::intraclass_correlation({1, 2, 3}, {0, 0, 0}), 0.0);
}

TEST(Verdicts, EveryBranchHasItsDefinedWord) {
  analysis::RegionEvidence e;
  e.enough_images = true;
  e.outside_difference = 0.02;
  e.outside_interval = {0.02, 0.01, 0.03};
  e.p_family = 0.01;
  e.inside_difference = {0.0, -0.01, 0.01};
  e.outside_minus_inside = {0.02, 0.01, 0.03};
  EXPECT_EQ(analysis::decide_finding(e), "reproduced");
  EXPECT_EQ(analysis::decide_specificity(e, "reproduced"), "specific to outside");
  e.outside_minus_inside = {-0.02, -0.03, -0.01};
  EXPECT_EQ(analysis::decide_specificity(e, "reproduced"), "larger inside");
  e.outside_minus_inside = {0.0, -0.01, 0.01};
  EXPECT_EQ(analysis::decide_specificity(e, "reproduced"), "undetermined");
  e.inside_difference = {0.02, 0.01, 0.03};
  EXPECT_EQ(analysis::decide_specificity(e, "reproduced"), "general");
  // A significant test whose interval reaches 0 is not a verdict.
  e.outside_interval = {0.02, -0.001, 0.03};
  EXPECT_EQ(analysis::decide_finding(e), "inconclusive");
  e.outside_difference = -0.02;
  e.outside_interval = {-0.02, -0.03, -0.01};
  EXPECT_EQ(analysis::decide_finding(e), "reversed");
  e.p_family = 0.2;
  e.log_ratio = {0.01, -0.05, 0.05};
  EXPECT_EQ(analysis::decide_finding(e), "negligible");
  e.log_ratio = {0.01, -0.05, 0.3};
  EXPECT_EQ(analysis::decide_finding(e), "inconclusive");
  EXPECT_EQ(analysis::decide_specificity(e, "inconclusive"), "absent");
  e.enough_images = false;
  EXPECT_EQ(analysis::decide_finding(e), "not enough images");
  for (const auto* table : {&analysis::finding_words(), &analysis::specificity_words()}) {
    for (const auto& w : *table) EXPECT_EQ(analysis::definition_of(w.word), w.definition);
  }
  EXPECT_THROW(analysis::definition_of("general-ish"), Error);
}
