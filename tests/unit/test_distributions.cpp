#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "amva/io/npy.hpp"
#include "amva/stats/distributions.hpp"
#include "support.hpp"

using namespace amva;

TEST(Distributions, HandComputedDistances) {
  // F_a - F_b is 1/2 on [0, 1) and [2, 3): W1 = 1; the largest gap is 1/2.
  EXPECT_DOUBLE_EQ(stats::wasserstein1({0, 2}, {1, 3}), 1.0);
  EXPECT_DOUBLE_EQ(stats::ks_distance({0, 2}, {1, 3}), 0.5);
  EXPECT_DOUBLE_EQ(stats::wasserstein1({1, 2, 3}, {1, 2, 3}), 0.0);
  EXPECT_DOUBLE_EQ(stats::ks_distance({0, 1}, {5, 6, 7}), 1.0);
  EXPECT_NEAR(stats::wasserstein1({0}, {0.25, 0.75}), 0.5, 1e-15);
}

TEST(Distributions, AverageRanksAndSpearman) {
  EXPECT_EQ(stats::average_ranks({10, 20, 20, 5}), (std::vector<double>{2, 3.5, 3.5, 1}));
  EXPECT_DOUBLE_EQ(stats::spearman({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0);
  EXPECT_DOUBLE_EQ(stats::spearman({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0);
  EXPECT_TRUE(std::isnan(stats::spearman({1, 1, 1}, {1, 2, 3})));
  EXPECT_DOUBLE_EQ(stats::quantile({1, 2, 3, 4}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(stats::quantile({1, 2, 3, 4, 5}, 0.25), 2.0);
}

// SciPy is the reference: wasserstein_distance, ks_2samp, gaussian_kde (Scott), spearmanr.
TEST(Distributions, MatchScipyOnRandomSamples) {
  test::TempDir dir;
  std::mt19937 rng(3);
  std::gamma_distribution<float> gamma(1.5f, 0.2f);
  std::vector<float> a(300), b(211), ties(300);
  for (auto& x : a) x = gamma(rng);
  for (auto& x : b) x = 0.1f + gamma(rng);
  for (std::size_t i = 0; i < ties.size(); ++i) ties[i] = std::round(a[i] * 10.f) / 10.f;  // many ties
  const std::vector<double> da(a.begin(), a.end()), db(b.begin(), b.end()), dt(ties.begin(), ties.end());
  const auto grid = stats::linspace(-0.2, 1.5, 50);
  const auto kde = stats::gaussian_kde(da, grid);
  std::vector<float> ours = {static_cast<float>(stats::wasserstein1(da, db)),
                             static_cast<float>(stats::ks_distance(da, db)),
                             static_cast<float>(stats::spearman(da, dt)), static_cast<float>(kde.bandwidth)};
  ours.insert(ours.end(), kde.values.begin(), kde.values.end());
  io::write_npy(dir / "a.npy", {300}, a.data());
  io::write_npy(dir / "b.npy", {211}, b.data());
  io::write_npy(dir / "t.npy", {300}, ties.data());
  io::write_npy(dir / "ours.npy", {static_cast<std::int64_t>(ours.size())}, ours.data());
  std::ofstream(dir / "check.py") << R"(import numpy as np, sys
from scipy import stats
d = sys.argv[1]
a, b, t, ours = (np.load(d + f).astype(np.float64) for f in ('/a.npy', '/b.npy', '/t.npy', '/ours.npy'))
kde = stats.gaussian_kde(a)
grid = np.linspace(-0.2, 1.5, 50)
ref = [stats.wasserstein_distance(a, b), stats.ks_2samp(a, b).statistic, stats.spearmanr(a, t).correlation,
       np.sqrt(kde.covariance[0, 0])] + list(kde(grid))
err = np.abs(np.array(ref) - ours).max()
print('max error', err)
assert err < 1e-5, err
)";
  const auto [rc, out] =
      test::run(fmt::format("{} {} {}", test::python(), (dir / "check.py").string(), dir.path().string()));
  EXPECT_EQ(rc, 0) << out;
}
