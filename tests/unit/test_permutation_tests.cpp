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

// Faces of `people` persons, `per_person` each: every person has a map style of its own (its
// mean map and its own spread), as faces of one person share pose, lighting and camera.
struct People {
  std::vector<float> maps;
  std::vector<std::int64_t> identity;  // per face
};
People people_maps(int people, int per_person, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::normal_distribution<float> n01(0.f, 1.f);
  People p;
  for (int person = 0; person < people; ++person) {
    std::vector<float> style(49);
    for (auto& v : style) v = u(rng);
    const float spread = 0.05f + 0.6f * u(rng) * u(rng);
    for (int i = 0; i < per_person; ++i) {
      for (int k = 0; k < 49; ++k)
        p.maps.push_back(std::max(0.f, style[static_cast<std::size_t>(k)] + spread * n01(rng)));
      p.identity.push_back(person);
    }
  }
  return p;
}

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
    EXPECT_NEAR(t.statistic.ptr<double>()[k], stats::brown_forsythe(a, b).statistic, 1e-9) << k;
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

// Whole people move: as many blocks as people, and the low group's size stays within a
// person's faces of its observed size.
TEST(PermutationTests, MovesWholePeopleAndDoesNotDependOnTheThreads) {
  const analysis::Upsampler up(7, 7);
  const auto p = people_maps(30, 6, 3);
  const std::size_t n_low = 84, n_high = 96;
  const std::vector<float> low(p.maps.begin(), p.maps.begin() + n_low * 49);
  const std::vector<float> high(p.maps.begin() + n_low * 49, p.maps.end());
  const std::vector<std::int64_t> low_ids(p.identity.begin(), p.identity.begin() + n_low);
  const std::vector<std::int64_t> high_ids(p.identity.begin() + n_low, p.identity.end());
  const PooledGroups pooled{low, n_low, high, n_high, low_ids, high_ids};
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

// The calibration property (issue 28): random scores that cluster by person (ICC 0.5) on maps
// whose style is a person's own. Moving whole people keeps the false verdicts and the methods
// with a significant cell at the nominal 5 % (within two standard errors over 100 controls);
// moving images one by one, as the parametric test assumes, does not.
TEST(Calibration, NullControlsClusteredByPersonStayAtTheNominalRate) {
  const analysis::Upsampler up(7, 7);
  const auto p = people_maps(40, 10, 21);
  const std::size_t n = p.identity.size();
  std::vector<std::int64_t> rows(n);
  for (std::size_t i = 0; i < n; ++i) rows[i] = static_cast<std::int64_t>(i);
  analysis::NullControlOptions o;
  o.count = 100;
  o.permutations = 199;
  o.seed = 28;
  const auto rule = stats::GroupRule::parse("top:25");
  const auto by_person = analysis::run_null_controls(p.maps, rows, n, p.identity, {0.5}, rule, up, o);
  const double bound = 100 * (0.05 + 2 * std::sqrt(0.05 * 0.95 / 100));
  EXPECT_LE(static_cast<double>(by_person.false_verdicts), bound);
  EXPECT_LE(static_cast<double>(by_person.with_significant_cell), bound);
  EXPECT_FALSE(by_person.warns_verdicts());

  // The same kind of scores, with images moved one by one.
  std::size_t false_by_image = 0, cells_by_image = 0, parametric_cells = 0;
  std::mt19937_64 rng(99);
  std::normal_distribution<double> n01;
  for (int c = 0; c < 100; ++c) {
    std::vector<double> person(40), scores(n);
    for (auto& u : person) u = n01(rng);
    for (std::size_t i = 0; i < n; ++i) {
      scores[i] = std::sqrt(0.5) * person[static_cast<std::size_t>(p.identity[i])] + std::sqrt(0.5) * n01(rng);
    }
    const auto groups = stats::make_groups(scores, rule);
    std::vector<float> low, high;
    for (const auto r : groups.front().rows)
      low.insert(low.end(), p.maps.begin() + r * 49, p.maps.begin() + (r + 1) * 49);
    for (const auto r : groups.back().rows)
      high.insert(high.end(), p.maps.begin() + r * 49, p.maps.begin() + (r + 1) * 49);
    const auto nl = groups.front().rows.size(), nh = groups.back().rows.size();
    const auto t =
        analysis::permutation_tests(PooledGroups{low, nl, high, nh, {}, {}}, up, {199, static_cast<std::uint64_t>(c)});
    false_by_image += t.p_outside <= 0.05 ? 1 : 0;
    double smallest = 1;
    for (auto it = t.p_family.begin<double>(); it != t.p_family.end<double>(); ++it) smallest = std::min(smallest, *it);
    cells_by_image += smallest <= 0.05 ? 1 : 0;
    const auto sig = analysis::variance_significance(low, nl, high, nh, 7, 7, 0.05, analysis::central_face_box());
    parametric_cells += sig.significant_inside + sig.significant_outside > 0 ? 1 : 0;
  }
  EXPECT_GT(static_cast<double>(false_by_image), bound);
  EXPECT_GT(static_cast<double>(parametric_cells), bound);
  std::printf(
      "false verdicts per 100 null controls: whole people %zu, images %zu; a significant cell: whole people "
      "%zu, images %zu, parametric %zu\n",
      by_person.false_verdicts, false_by_image, by_person.with_significant_cell, cells_by_image, parametric_cells);
}
