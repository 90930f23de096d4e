#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "amva/io/npy.hpp"
#include "amva/stats/order_statistics.hpp"
#include "amva/stats/pixel_moments.hpp"
#include "support.hpp"

using namespace amva;

namespace {
std::vector<float> random_stack(std::size_t n, std::size_t pixels, unsigned seed) {
  std::mt19937 rng(seed);
  std::gamma_distribution<float> gamma(0.8f, 0.3f);  // skewed, like activation maps
  std::vector<float> v(n * pixels);
  for (auto& x : v) x = std::min(1.f, gamma(rng));
  return v;
}
}  // namespace

// NumPy is the reference; the authors' quantity is recomputed as their torch code does it:
// torch.median (the lower middle value) and torch.std (unbiased).
TEST(PixelStatistics, MatchNumpyOnRandomStacks) {
  test::TempDir dir;
  for (const std::size_t n : {7u, 8u, 101u}) {
    const std::size_t pixels = 49;
    const auto maps = random_stack(n, pixels, static_cast<unsigned>(n));
    stats::PixelMoments moments(pixels);
    for (std::size_t i = 0; i < n; ++i) moments.add(maps.data() + i * pixels);
    const auto order = stats::exact_order_statistics(maps, n, pixels);
    std::vector<float> ours;
    for (const auto* v : {&moments.mean(), &order.median, &order.mad, &order.std_sq_dev_lower_median}) {
      ours.insert(ours.end(), v->begin(), v->end());
    }
    const auto sd = moments.stddev();
    ours.insert(ours.end(), sd.begin(), sd.end());
    io::write_npy(dir / "maps.npy", {static_cast<std::int64_t>(n), 49}, maps.data());
    io::write_npy(dir / "ours.npy", {5, 49}, ours.data());
    std::ofstream(dir / "check.py") << R"(import numpy as np, sys
d = sys.argv[1]
x = np.load(d + '/maps.npy').astype(np.float64)
mean, median, mad, authors, std = np.load(d + '/ours.npy')
med = np.median(x, axis=0)
lower = np.sort(x, axis=0)[(x.shape[0] - 1) // 2]
ref = {'mean': (x.mean(0), mean), 'std': (x.std(0, ddof=1), std), 'median': (med, median),
       'mad': (np.median(np.abs(x - med), axis=0), mad),
       'authors std_mad': (((x - lower) ** 2).std(0, ddof=1), authors)}
for name, (want, got) in ref.items():
    err = np.abs(want - got).max()
    print(name, err)
    assert err < 1e-6, (name, err)
)";
    const auto [rc, out] =
        test::run(fmt::format("{} {} {}", test::python(), (dir / "check.py").string(), dir.path().string()));
    EXPECT_EQ(rc, 0) << "n = " << n << "\n" << out;
  }
}

TEST(PixelStatistics, MergingShardsEqualsOnePass) {
  const std::size_t pixels = 49;
  const auto maps = random_stack(1000, pixels, 3);
  stats::PixelMoments whole(pixels);
  stats::PixelMoments a(pixels), b(pixels), c(pixels);
  for (std::size_t i = 0; i < 1000; ++i) {
    whole.add(maps.data() + i * pixels);
    (i < 10 ? a : i < 700 ? b : c).add(maps.data() + i * pixels);
  }
  a.merge(b);
  a.merge(c);
  a.merge(stats::PixelMoments(pixels));  // empty shard
  EXPECT_EQ(a.count(), 1000u);
  for (std::size_t p = 0; p < pixels; ++p) {
    EXPECT_NEAR(a.mean()[p], whole.mean()[p], 1e-12);
    EXPECT_NEAR(a.variance()[p], whole.variance()[p], 1e-12);
  }
}

TEST(PixelStatistics, HistogramsStayWithinTheirErrorBound) {
  const std::size_t pixels = 49, n = 2000;
  const auto maps = random_stack(n, pixels, 9);
  stats::PixelHistograms h1(pixels, 256, 0.0, 1.0), h2(pixels, 256, 0.0, 1.0);
  for (std::size_t i = 0; i < n; ++i) (i % 2 ? h1 : h2).add(maps.data() + i * pixels);
  h1.merge(h2);
  const auto approx = h1.statistics();
  const auto exact = stats::exact_order_statistics(maps, n, pixels);
  EXPECT_DOUBLE_EQ(approx.median_error_bound, 1.0 / 256);
  EXPECT_DOUBLE_EQ(approx.mad_error_bound, 2.0 / 256);
  for (std::size_t p = 0; p < pixels; ++p) {
    EXPECT_LE(std::abs(approx.median[p] - exact.median[p]), approx.median_error_bound) << p;
    EXPECT_LE(std::abs(approx.mad[p] - exact.mad[p]), approx.mad_error_bound) << p;
  }
}

TEST(PixelStatistics, HandComputedSmallCase) {
  // One pixel, values 1, 2, 4, 10: numpy median 3, lower median 2, MAD median(2,1,1,7) = 1.5.
  const std::vector<float> maps = {1, 2, 4, 10};
  const auto s = stats::exact_order_statistics(maps, 4, 1);
  EXPECT_DOUBLE_EQ(s.median[0], 3.0);
  EXPECT_DOUBLE_EQ(s.mad[0], 1.5);
  // (x - 2)^2 = 1, 0, 4, 64: mean 17.25, unbiased variance (264.0625+297.5625+175.5625+2185.5625)/3
  EXPECT_NEAR(s.std_sq_dev_lower_median[0], std::sqrt(2922.75 / 3.0), 1e-9);
  stats::PixelMoments m(1);
  for (float v : maps) m.add(&v);
  EXPECT_DOUBLE_EQ(m.mean()[0], 4.25);
  EXPECT_NEAR(m.variance()[0], (10.5625 + 5.0625 + 0.0625 + 33.0625) / 3.0, 1e-12);
}
