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
    const auto order = stats::exact_order_statistics(maps, n, pixels, stats::MedianConvention::Midpoint);
    const auto lower = stats::exact_order_statistics(maps, n, pixels);  // the default
    std::vector<float> ours;
    for (const auto* v : {&moments.mean(), &order.median, &order.mad, &order.std_sq_dev_lower_median}) {
      ours.insert(ours.end(), v->begin(), v->end());
    }
    const auto sd = moments.stddev();
    ours.insert(ours.end(), sd.begin(), sd.end());
    ours.insert(ours.end(), lower.median.begin(), lower.median.end());
    ours.insert(ours.end(), lower.mad.begin(), lower.mad.end());
    io::write_npy(dir / "maps.npy", {static_cast<std::int64_t>(n), 49}, maps.data());
    io::write_npy(dir / "ours.npy", {7, 49}, ours.data());
    std::ofstream(dir / "check.py") << R"(import numpy as np, sys
d = sys.argv[1]
x = np.load(d + '/maps.npy').astype(np.float64)
mean, median, mad, authors, std, median_low, mad_low = np.load(d + '/ours.npy')
med = np.median(x, axis=0)
def lower_median(v):  # torch.median: the lower middle value
    return np.sort(v, axis=0)[(v.shape[0] - 1) // 2]
lower = lower_median(x)
ref = {'mean': (x.mean(0), mean), 'std': (x.std(0, ddof=1), std), 'median': (med, median),
       'mad': (np.median(np.abs(x - med), axis=0), mad),
       'lower median': (lower, median_low), 'lower mad': (lower_median(np.abs(x - lower)), mad_low),
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

// The partial results ranks send each other: bytes round-trip to the same state, so merging
// them is merging the originals; bytes of anything else are refused.
TEST(PixelStatistics, PartialResultsRoundTripThroughBytes) {
  const std::size_t pixels = 49;
  const auto maps = random_stack(300, pixels, 5);
  stats::PixelMoments moments(pixels);
  stats::PixelHistograms histograms(pixels, 64, 0.0, 1.0);
  for (std::size_t i = 0; i < 300; ++i) {
    moments.add(maps.data() + i * pixels);
    histograms.add(maps.data() + i * pixels);
  }
  const auto m = stats::PixelMoments::from_bytes(moments.to_bytes());
  EXPECT_EQ(m.count(), 300u);
  EXPECT_EQ(m.mean(), moments.mean());
  EXPECT_EQ(m.variance(), moments.variance());
  const auto h = stats::PixelHistograms::from_bytes(histograms.to_bytes());
  EXPECT_EQ(h.count(), 300u);
  EXPECT_EQ(h.statistics().median, histograms.statistics().median);
  EXPECT_EQ(h.statistics().mad, histograms.statistics().mad);
  EXPECT_THROW(stats::PixelMoments::from_bytes("not moments"), Error);
  EXPECT_THROW(stats::PixelHistograms::from_bytes(moments.to_bytes()), Error);
}

// The bounds of the header (median w/2, MAD w, w the bin width) must hold at small and large
// n, for both median conventions, and on stacks built to break weaker estimators: values in
// two clusters with a gap at the middle ranks, where the two middle values lie many bins apart
// (the old interpolation missed by 8 bins at n = 200).
TEST(PixelStatistics, HistogramsStayWithinTheirErrorBound) {
  const std::size_t pixels = 49;
  const int bins = 256;
  const double w = 1.0 / bins;
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (const std::size_t n : {200u, 201u, 2000u, 20000u}) {
    for (const bool gap : {false, true}) {
      auto maps = random_stack(n, pixels, static_cast<unsigned>(n));
      if (gap) {
        // Half the values in [0, 0.2], half in [0.7, 1]: the middle ranks straddle a gap.
        for (std::size_t i = 0; i < n; ++i) {
          for (std::size_t p = 0; p < pixels; ++p) {
            maps[i * pixels + p] = (i % 2 ? 0.7f + 0.3f * u(rng) : 0.2f * u(rng));
          }
        }
      }
      stats::PixelHistograms h1(pixels, bins, 0.0, 1.0), h2(pixels, bins, 0.0, 1.0);
      for (std::size_t i = 0; i < n; ++i) (i % 2 ? h1 : h2).add(maps.data() + i * pixels);
      h1.merge(h2);
      for (const auto convention : {stats::MedianConvention::Lower, stats::MedianConvention::Midpoint}) {
        const auto approx = h1.statistics(convention);
        const auto exact = stats::exact_order_statistics(maps, n, pixels, convention);
        EXPECT_DOUBLE_EQ(approx.median_error_bound, w / 2);
        EXPECT_DOUBLE_EQ(approx.mad_error_bound, w);
        for (std::size_t p = 0; p < pixels; ++p) {
          EXPECT_LE(std::abs(approx.median[p] - exact.median[p]), approx.median_error_bound + 1e-12)
              << "n " << n << " gap " << gap << " pixel " << p;
          EXPECT_LE(std::abs(approx.mad[p] - exact.mad[p]), approx.mad_error_bound + 1e-12)
              << "n " << n << " gap " << gap << " pixel " << p;
        }
      }
    }
  }
}

TEST(PixelStatistics, HandComputedSmallCase) {
  // One pixel, values 1, 2, 4, 10: numpy median 3, MAD median(2,1,1,7) = 1.5; lower median 2,
  // its MAD the lower median of |x - 2| = 1, 0, 2, 8, which is 1.
  const std::vector<float> maps = {1, 2, 4, 10};
  const auto s = stats::exact_order_statistics(maps, 4, 1, stats::MedianConvention::Midpoint);
  EXPECT_DOUBLE_EQ(s.median[0], 3.0);
  EXPECT_DOUBLE_EQ(s.mad[0], 1.5);
  const auto low = stats::exact_order_statistics(maps, 4, 1);
  EXPECT_DOUBLE_EQ(low.median[0], 2.0);
  EXPECT_DOUBLE_EQ(low.mad[0], 1.0);
  EXPECT_EQ(stats::parse_median_convention("lower"), stats::MedianConvention::Lower);
  EXPECT_THROW(stats::parse_median_convention("mean"), Error);
  // (x - 2)^2 = 1, 0, 4, 64: mean 17.25, unbiased variance (264.0625+297.5625+175.5625+2185.5625)/3
  EXPECT_NEAR(s.std_sq_dev_lower_median[0], std::sqrt(2922.75 / 3.0), 1e-9);
  stats::PixelMoments m(1);
  for (float v : maps) m.add(&v);
  EXPECT_DOUBLE_EQ(m.mean()[0], 4.25);
  EXPECT_NEAR(m.variance()[0], (10.5625 + 5.0625 + 0.0625 + 33.0625) / 3.0, 1e-12);
}
