#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <set>

#include "amva/eval/comparisons.hpp"
#include "amva/eval/edc.hpp"
#include "amva/eval/edc_bootstrap.hpp"
#include "support.hpp"

using namespace amva;
using eval::EdcError;

namespace {
// A dozen mated comparisons (pairwise quality, similarity), threshold 0.5, listed out of
// order: errors (similarity < 0.5) at qualities 0.1, 0.2, 0.4, 0.5 and 0.8; ties at 0.1
// (two) and 0.5 (three).
const std::vector<double> kQuality = {0.5, 0.1, 0.9, 0.3, 0.5, 0.2, 0.6, 0.1, 0.8, 0.4, 0.7, 0.5};
const std::vector<double> kScore = {0.7, 0.2, 0.75, 0.8, 0.1, 0.3, 0.95, 0.9, 0.4, 0.45, 0.85, 0.6};
}  // namespace

TEST(Edc, HandComputedCurveWithTies) {
  const auto c = eval::edc_curve(EdcError::Fnmr, kScore, kQuality, 0.5);
  // Steps start where the quality changes: ties are discarded together.
  const std::vector<double> x = {0, 2. / 12, 3. / 12, 4. / 12, 5. / 12, 8. / 12, 9. / 12, 10. / 12, 11. / 12, 1};
  const std::vector<double> y = {5. / 12, 4. / 10, 3. / 9, 3. / 8, 2. / 7, 1. / 4, 1. / 3, 1. / 2, 0, 0};
  ASSERT_EQ(c.discard.size(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(c.discard[i], x[i], 1e-12) << i;
    EXPECT_NEAR(c.error[i], y[i], 1e-12) << i;
  }
  EXPECT_NEAR(eval::edc_pauc(c, 0.2), 10. / 144 + 0.4 * (0.2 - 2. / 12), 1e-12);
  EXPECT_NEAR(eval::edc_pauc(c, 0.5), 10. / 144 + 0.4 / 12 + 1. / 36 + 3. / 96 + 2. / 84, 1e-12);
  EXPECT_NEAR(eval::edc_pauc(c, 1.0), eval::edc_pauc(c, 11. / 12), 1e-12);  // the last step is 0
  // Ideal: the area under max(0, e0 - x), e0 = 5/12.
  EXPECT_NEAR(eval::edc_ideal_area(c, 0.2), 0.2 * 5. / 12 - 0.02, 1e-12);
  EXPECT_NEAR(eval::edc_ideal_area(c, 0.5), (5. / 12) * (5. / 12) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(c.at(0.3), 3. / 9);
}

// A weight is how often a comparison is drawn: weight 2 equals the comparison listed twice,
// weight 0 equals it left out, and unit weights give edc_curve.
TEST(Edc, WeightsCountComparisons) {
  const eval::WeightedEdc w(EdcError::Fnmr, kScore, kQuality, 0.5);
  std::vector<double> weights(kScore.size(), 1.0);
  const auto plain = eval::edc_curve(EdcError::Fnmr, kScore, kQuality, 0.5);
  EXPECT_EQ(w.curve(weights).discard, plain.discard);
  EXPECT_EQ(w.curve(weights).error, plain.error);
  weights[1] = 2;  // quality 0.1, an error
  weights[6] = 0;  // quality 0.6, not an error
  auto score = kScore;
  auto quality = kQuality;
  score.push_back(kScore[1]);
  quality.push_back(kQuality[1]);
  score.erase(score.begin() + 6);
  quality.erase(quality.begin() + 6);
  const auto expanded = eval::edc_curve(EdcError::Fnmr, score, quality, 0.5);
  const auto weighted = w.curve(weights);
  ASSERT_EQ(weighted.discard.size(), expanded.discard.size());
  for (std::size_t i = 0; i < expanded.discard.size(); ++i) {
    EXPECT_NEAR(weighted.discard[i], expanded.discard[i], 1e-12) << i;
    EXPECT_NEAR(weighted.error[i], expanded.error[i], 1e-12) << i;
  }
  EXPECT_NEAR(eval::edc_pauc(weighted, 0.2), eval::edc_pauc(expanded, 0.2), 1e-12);
}

// Built from per-face scores (faces sorted, comparisons bucketed by their lower face), the EDC
// is the one built from each comparison's min(q_a, q_b): the same tie groups, errors and curve,
// with faces that share a score, faces in no comparison, a face compared with itself, and a
// NaN score (which takes the sorting path).
TEST(Edc, FaceScoresGiveTheCurveOfTheirPairwiseQualities) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<std::size_t> face(0, 39);
  std::uniform_int_distribution<int> level(0, 9);  // ten score values among 40 faces: many ties
  std::uniform_real_distribution<double> similarity(0.0, 1.0);
  std::vector<double> scores(40);
  for (auto& q : scores) q = level(rng) / 10.0;
  std::vector<std::pair<std::size_t, std::size_t>> faces;
  std::vector<double> score;
  for (int i = 0; i < 300; ++i) {
    faces.emplace_back(face(rng) % 30, face(rng) % 30);  // faces 30..39 are in no comparison
    score.push_back(similarity(rng));
  }
  faces.emplace_back(3, 3);
  score.push_back(0.2);
  for (const bool with_nan : {false, true}) {
    if (with_nan) scores[35] = std::nan("");
    std::vector<double> quality;
    for (const auto& [a, b] : faces) quality.push_back(std::min(scores[a], scores[b]));
    for (const auto kind : {EdcError::Fnmr, EdcError::Fmr}) {
      const eval::WeightedEdc sorted(kind, score, quality, 0.5);
      const eval::WeightedEdc bucketed(kind, score, faces, scores, 0.5);
      ASSERT_EQ(bucketed.size(), sorted.size());
      EXPECT_EQ(bucketed.tie_groups(), sorted.tie_groups());
      EXPECT_EQ(bucketed.groups(), std::set<double>(quality.begin(), quality.end()).size());
      for (std::size_t k = 0; k < bucketed.size(); ++k) {
        EXPECT_EQ(quality[bucketed.order()[k]], quality[sorted.order()[k]]) << k;
        EXPECT_EQ(bucketed.errors()[k],
                  kind == EdcError::Fnmr ? score[bucketed.order()[k]] < 0.5 : score[bucketed.order()[k]] >= 0.5);
      }
      const std::vector<double> ones(score.size(), 1.0);
      EXPECT_EQ(bucketed.curve(ones).discard, sorted.curve(ones).discard);
      EXPECT_EQ(bucketed.curve(ones).error, sorted.curve(ones).error);
    }
  }
}

// The bootstrap resamples comparisons once per replicate for all methods: two methods with
// the same scores have exactly zero difference in every replicate, the point estimate lies in
// its interval, and the result is the same on any number of threads (replicates are seeded
// one by one).
TEST(Edc, BootstrapIsPairedAcrossMethods) {
  std::mt19937 rng(5);
  std::normal_distribution<double> sim(0.0, 0.1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  eval::ComparisonSet set;
  const std::int64_t rows = 60;
  std::vector<double> q1(rows), q2(rows);
  for (auto& v : q1) v = u(rng);
  for (std::int64_t i = 0; i < rows; ++i) q2[static_cast<std::size_t>(i)] = u(rng);
  for (std::int64_t a = 0; a < rows; ++a) {
    for (std::int64_t b = a + 1; b < rows; ++b) {
      const bool mated = a / 4 == b / 4;  // 15 people of 4 images
      const double base = mated ? 0.55 + 0.3 * q1[static_cast<std::size_t>(a)] : 0.1;
      set.comparisons.push_back({a, b, mated, base + sim(rng)});
    }
  }
  eval::EdcBootstrapInput in;
  in.comparisons = &set;
  in.method_scores = {&q1, &q1, &q2};
  for (std::int64_t i = 0; i < rows; ++i) in.unit_of_row.push_back(i / 4);
  in.threshold = 0.5;
  in.limits = {0.2};
  in.grid = {0.0, 0.1, 0.2};
  in.replicates = 200;
  const auto r = eval::bootstrap_edc(in);
  EXPECT_EQ(r.units, 15u);
  for (int k = 0; k < in.replicates; ++k) EXPECT_EQ(r.fnm_pauc[0][0][k], r.fnm_pauc[1][0][k]);
  EXPECT_NE(r.fnm_pauc[0][0], r.fnm_pauc[2][0]);
  // The point estimate (the EDC of all comparisons, each once) lies inside its percentile
  // interval, and the curve's band holds the curve at every grid point.
  std::vector<double> mated_sim, mated_quality;
  for (const auto& c : set.comparisons) {
    if (!c.mated) continue;
    mated_sim.push_back(c.score);
    mated_quality.push_back(std::min(q2[static_cast<std::size_t>(c.a)], q2[static_cast<std::size_t>(c.b)]));
  }
  const auto point = eval::edc_curve(EdcError::Fnmr, mated_sim, mated_quality, in.threshold);
  auto reps = r.fnm_pauc[2][0];
  std::sort(reps.begin(), reps.end());
  const double point_pauc = eval::edc_pauc(point, 0.2);
  EXPECT_LT(reps.front(), reps.back()) << "the replicates vary";
  EXPECT_GE(point_pauc, reps[static_cast<std::size_t>(0.025 * reps.size())]);
  EXPECT_LE(point_pauc, reps[static_cast<std::size_t>(0.975 * reps.size())]);
  for (std::size_t g = 0; g < in.grid.size(); ++g) {
    EXPECT_LT(r.fnm_lo[2][g], r.fnm_hi[2][g]) << g;
    EXPECT_GE(point.at(in.grid[g]), r.fnm_lo[2][g]) << g;
    EXPECT_LE(point.at(in.grid[g]), r.fnm_hi[2][g]) << g;
  }
  // The same replicates on one thread as on all: each replicate has its own seeded stream.
  {
    const tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
    const auto serial = eval::bootstrap_edc(in);
    for (std::size_t m = 0; m < r.fnm_pauc.size(); ++m) {
      EXPECT_EQ(serial.fnm_pauc[m][0], r.fnm_pauc[m][0]) << m;
      EXPECT_EQ(serial.fm_pauc[m][0], r.fm_pauc[m][0]) << m;
      EXPECT_EQ(serial.fnm_lo[m], r.fnm_lo[m]) << m;
    }
  }
}

TEST(Edc, ThresholdStaysFixedWhileDiscarding) {
  // Every kept comparison is judged against the one threshold: the FM-EDC of the same
  // scores counts similarity >= 0.5 among the kept ones at every step.
  const auto c = eval::edc_curve(EdcError::Fmr, kScore, kQuality, 0.5);
  for (std::size_t i = 0; i + 1 < c.discard.size(); ++i) {
    const auto kept = static_cast<std::size_t>(std::llround((1 - c.discard[i]) * 12));
    std::size_t errors = 0;
    for (std::size_t k = 0; k < kScore.size(); ++k) {
      // kept = the comparisons whose quality ranks among the top `kept`
      std::size_t better = 0;
      for (std::size_t j = 0; j < kScore.size(); ++j) better += kQuality[j] >= kQuality[k] ? 1 : 0;
      if (better <= kept && kScore[k] >= 0.5) ++errors;
    }
    EXPECT_NEAR(c.error[i], static_cast<double>(errors) / static_cast<double>(kept), 1e-12) << i;
  }
}

TEST(Edc, ThresholdsFromTargets) {
  std::vector<double> nonmated(1000);
  for (std::size_t i = 0; i < nonmated.size(); ++i) nonmated[i] = static_cast<double>(i) / 1000;
  const double t = eval::threshold_at_fmr(nonmated, 1e-3);
  EXPECT_DOUBLE_EQ(eval::error_rate(EdcError::Fmr, nonmated, t), 1e-3);
  EXPECT_GT(t, 0.998);
  EXPECT_LE(t, 0.999);
  nonmated.pop_back();
  try {
    eval::threshold_at_fmr(nonmated, 1e-3);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at least 1000 are needed"), std::string::npos) << e.what();
  }
  EXPECT_DOUBLE_EQ(eval::threshold_at_fnmr({0, 1, 2, 3, 4}, 0.25), 1.0);
}

// Random pairwise qualities know nothing: in expectation, the error rate of the kept
// comparisons stays at the starting error e0 (hypergeometric mean) at every discard fraction.
TEST(Edc, RandomOrderBaselineEqualsItsClosedFormInExpectation) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> score(400);
  for (auto& s : score) s = u(rng);
  const double t = 0.3;  // e0 = 0.3 in expectation; the exact value below
  const double e0 = eval::error_rate(EdcError::Fnmr, score, t);
  const std::vector<double> xs = {0.1, 0.3, 0.5, 0.7};
  std::vector<double> mean(xs.size(), 0.0);
  const int orders = 2000;
  std::vector<double> q(score.size());
  for (int r = 0; r < orders; ++r) {
    for (auto& v : q) v = u(rng);
    const auto c = eval::edc_curve(EdcError::Fnmr, score, q, t);
    for (std::size_t i = 0; i < xs.size(); ++i) mean[i] += c.at(xs[i]) / orders;
  }
  for (std::size_t i = 0; i < xs.size(); ++i) EXPECT_NEAR(mean[i], e0, 0.006) << "x = " << xs[i];
}

TEST(Edc, RefittedErcIsADifferentCurve) {
  std::vector<double> sim, q;
  std::vector<bool> mated;
  std::mt19937_64 rng(2);
  std::normal_distribution<double> n(0, 0.1);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 4000; ++i) {
    const bool m = i % 2 == 0;
    const double quality = u(rng);
    sim.push_back(m ? 0.5 + 0.4 * quality + n(rng) : n(rng) + 0.5 * (1 - quality));
    q.push_back(quality);
    mated.push_back(m);
  }
  const auto erc = eval::erc_refit_curve(sim, q, mated, 0.01, 20);
  ASSERT_GT(erc.discard.size(), 10u);
  EXPECT_EQ(erc.discard.front(), 0.0);
  // The EDC holds the threshold fitted once on all non-mated comparisons; the ERC refits it
  // at every step. Non-mated similarity falls with quality here, so discarding low quality
  // lowers the refitted threshold and the ERC's FNMR falls faster than the EDC's.
  std::vector<double> mated_sim, mated_q, nonmated_sim;
  for (std::size_t i = 0; i < sim.size(); ++i) {
    if (mated[i]) {
      mated_sim.push_back(sim[i]);
      mated_q.push_back(q[i]);
    } else {
      nonmated_sim.push_back(sim[i]);
    }
  }
  const double threshold = eval::threshold_at_fmr(nonmated_sim, 0.01);
  const auto edc = eval::edc_curve(EdcError::Fnmr, mated_sim, mated_q, threshold);
  EXPECT_NEAR(erc.starting_error(), edc.starting_error(), 1e-12) << "nothing discarded: one threshold";
  double largest_gap = 0;
  for (const double x : {0.2, 0.4, 0.6}) {
    EXPECT_LT(erc.at(x), edc.at(x)) << "x = " << x;
    largest_gap = std::max(largest_gap, edc.at(x) - erc.at(x));
  }
  EXPECT_GT(largest_gap, 0.05);  // about 0.11 at x = 0.2 and 0.09 at 0.4 (NumPy on the same model)
}

TEST(Pairs, ListsAndMalformedLines) {
  test::TempDir dir;
  std::ofstream(dir / "list.txt") << "a/1.jpg b/2.jpg 1\n# comment\na/1.jpg,c/3.jpg,0\n\na/2.jpg\tc/4.jpg\tsame\n";
  const auto pairs = eval::read_pairs(dir / "list.txt");
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_TRUE(pairs[0].mated);
  EXPECT_FALSE(pairs[1].mated);
  EXPECT_EQ(pairs[1].b, "c/3.jpg");
  EXPECT_TRUE(pairs[2].mated);
  std::ofstream(dir / "bad.txt") << "a/1.jpg b/2.jpg 1\na/1.jpg b/2.jpg\n";
  try {
    eval::read_pairs(dir / "bad.txt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt:2:"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "lfw.txt") << "1 2\nA 1 2\nB 3 4\nA 1 B 2\nA 1 B x\n";
  try {
    eval::read_pairs(dir / "lfw.txt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lfw.txt:5:"), std::string::npos) << e.what();
  }
}

TEST(Pairs, RealLfwPairsFile) {
  AMVA_REQUIRE_SHARED();
  const auto pairs = eval::read_pairs(test::shared_dir() / "data" / "lfw" / "pairs.txt");
  EXPECT_EQ(pairs.size(), 6000u);
  EXPECT_EQ(std::count_if(pairs.begin(), pairs.end(), [](const auto& p) { return p.mated; }), 3000);
  EXPECT_EQ(pairs.front().a, "Abel_Pacheco/Abel_Pacheco_0001.jpg");
}
