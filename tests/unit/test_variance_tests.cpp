#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "amva/analysis/variance_significance.hpp"
#include "amva/io/npy.hpp"
#include "amva/stats/variance_tests.hpp"
#include "support.hpp"

using namespace amva;

// SciPy's levene(center='median') is the reference for the Brown-Forsythe statistic and p.
TEST(VarianceTests, BrownForsytheMatchesScipyLevene) {
  test::TempDir dir;
  std::mt19937 rng(4);
  std::normal_distribution<float> n01(0.0f, 1.0f);
  const std::vector<std::pair<std::size_t, std::size_t>> sizes = {{5, 8}, {30, 30}, {131, 97}, {3, 4}};
  std::vector<float> packed;  // per case: a then b, spreads differ
  std::vector<double> ours;   // per case: F, p
  for (std::size_t c = 0; c < sizes.size(); ++c) {
    const auto [na, nb] = sizes[c];
    std::vector<double> a(na), b(nb);
    for (auto& x : a) x = static_cast<float>(n01(rng));
    for (auto& x : b) x = static_cast<float>((1.0 + 0.5 * static_cast<double>(c)) * n01(rng) + 0.3);
    for (double x : a) packed.push_back(static_cast<float>(x));
    for (double x : b) packed.push_back(static_cast<float>(x));
    // The test sees the float values that NumPy will read.
    for (auto& x : a) x = static_cast<float>(x);
    for (auto& x : b) x = static_cast<float>(x);
    const auto t = stats::brown_forsythe(a, b);
    ours.push_back(t.statistic);
    ours.push_back(t.p);
  }
  io::write_npy(dir / "values.npy", {static_cast<std::int64_t>(packed.size())}, packed.data());
  std::vector<float> ours_f(ours.begin(), ours.end());
  std::ofstream(dir / "check.py") << R"(import sys
import numpy as np
from scipy import stats
d = sys.argv[1]
v = np.load(d + "/values.npy").astype(np.float64)
sizes = [(5, 8), (30, 30), (131, 97), (3, 4)]
ours = [float(x) for x in sys.argv[2:]]
at = 0
for k, (na, nb) in enumerate(sizes):
    a, b = v[at:at + na], v[at + na:at + na + nb]
    at += na + nb
    F, p = stats.levene(a, b, center="median")
    print(k, F, p, ours[2 * k], ours[2 * k + 1])
    assert abs(F - ours[2 * k]) <= 1e-9 * max(1.0, abs(F)), (k, F, ours[2 * k])
    assert abs(p - ours[2 * k + 1]) <= 1e-9, (k, p, ours[2 * k + 1])
)";
  std::string args;
  for (double x : ours) args += fmt::format(" {:.17g}", x);
  const auto [rc, out] =
      test::run(fmt::format("{} {} {}{}", test::python(), (dir / "check.py").string(), dir.path().string(), args));
  EXPECT_EQ(rc, 0) << out;
}

TEST(VarianceTests, NoSpreadIsUndefined) {
  const auto t = stats::brown_forsythe({1, 1, 1}, {2, 2});
  EXPECT_TRUE(std::isnan(t.p));
  EXPECT_TRUE(std::isnan(stats::brown_forsythe({0, 1}, {5, 9}).p));  // two values each: always degenerate
  EXPECT_THROW(stats::brown_forsythe({1}, {2, 3}), Error);
}

// Benjamini-Hochberg by hand: m = 5, p sorted 0.005, 0.01, 0.03, 0.04, 0.2:
// m p / k = 0.025, 0.025, 0.05, 0.05, 0.2; running minimum from the top gives the same.
TEST(VarianceTests, BenjaminiHochbergByHand) {
  const std::vector<double> p = {0.04, 0.005, 0.2, 0.01, 0.03};
  const auto q = stats::benjamini_hochberg(p);
  const std::vector<double> want = {0.05, 0.025, 0.2, 0.025, 0.05};
  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(q[i], want[i], 1e-15) << i;
  // A running minimum: 0.01, 0.012 at m = 2 -> 0.02 and 0.012 -> both 0.012.
  const auto r = stats::benjamini_hochberg({0.01, 0.012});
  EXPECT_NEAR(r[0], 0.012, 1e-15);
  EXPECT_NEAR(r[1], 0.012, 1e-15);
  // Undefined tests count as p = 1 and stay in m.
  const auto u = stats::benjamini_hochberg({0.01, std::numeric_limits<double>::quiet_NaN()});
  EXPECT_NEAR(u[0], 0.02, 1e-15);
  EXPECT_DOUBLE_EQ(u[1], 1.0);
}

// Cells where the high group is much more variable are found, the others are not, and inside /
// outside counts follow the cell centres.
TEST(VarianceTests, SignificantCellsAreWhereTheSpreadDiffers) {
  const int h = 7, w = 7;
  const std::size_t n = 60;
  std::mt19937 rng(8);
  std::normal_distribution<float> n01(0.0f, 1.0f);
  std::vector<float> low(n * 49), high(n * 49);
  for (std::size_t i = 0; i < n; ++i) {
    for (int k = 0; k < 49; ++k) {
      const bool corner = k == 0;  // cell (0, 0): outside the face
      low[i * 49 + static_cast<std::size_t>(k)] = 0.5f + 0.05f * n01(rng);
      high[i * 49 + static_cast<std::size_t>(k)] = 0.5f + (corner ? 0.3f : 0.05f) * n01(rng);
    }
  }
  const std::array<double, 4> box = {29.49, 42.69, 82.34, 101.17};
  const auto s = analysis::variance_significance(low, n, high, n, h, w, 0.05, box);
  EXPECT_EQ(s.significant.at<std::uint8_t>(0, 0), 255);
  EXPECT_EQ(s.significant_outside, 1u);
  EXPECT_EQ(s.significant_inside, 0u);
  EXPECT_EQ(s.cells_inside, 9u);  // centres 39.5, 55.5, 71.5 across; 55.5, 71.5, 87.5 down
  EXPECT_EQ(s.cells_outside, 40u);
  const auto shown = analysis::cells_for_display(s.minus_log10_q);
  EXPECT_EQ(shown.rows, 112);
  EXPECT_EQ(shown.at<double>(15, 15), s.minus_log10_q.at<double>(0, 0));
  EXPECT_EQ(shown.at<double>(16, 16), s.minus_log10_q.at<double>(1, 1));
}
