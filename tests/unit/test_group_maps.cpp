#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgproc.hpp>
#include <random>

#include "amva/analysis/group_maps.hpp"
#include "amva/analysis/regions.hpp"
#include "amva/io/npy.hpp"
#include "amva/stats/random_streams.hpp"
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

// The margin in inter-eye distances (the robustness grid's choice): a quarter is the default
// mask; none is the rectangle of the template points, columns 39..73 and rows 52..92; half
// takes columns 21..91 and rows 34..109.
TEST(Regions, CentralFaceMarginsGrowTheBox) {
  EXPECT_EQ(cv::norm(central_face_mask(0.25), central_face_mask(), cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::countNonZero(central_face_mask(0)), 35 * 41);
  EXPECT_EQ(cv::countNonZero(central_face_mask(0.5)), 71 * 76);
  EXPECT_THROW((void)central_face_mask(-0.1), Error);
  EXPECT_THROW((void)central_face_mask(2.5), Error);
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

TEST(GroupMaps, NormalisationNamesAndNativeMinMax) {
  const Upsampler up(2, 2);
  std::vector<float> m = {2, 4, 6, 3};
  normalize_maps(m.data(), 1, Normalization::MinMaxNative, up);
  EXPECT_FLOAT_EQ(m[0], 0.f);
  EXPECT_NEAR(m[2], 1.f, 1e-6);
  EXPECT_NEAR(m[3], 0.25f, 1e-6);
  // Without ReLU, a signed map keeps its order: the negative value maps to 0.
  std::vector<float> s = {-2, 0, 2, 0};
  normalize_maps(s.data(), 1, Normalization::MinMaxNative, up);
  EXPECT_NEAR(s[1], 0.5f, 1e-6);
  EXPECT_EQ(parse_normalization("minmax-native"), Normalization::MinMaxNative);
  EXPECT_EQ(to_string(Normalization::MinMax), "minmax");
  EXPECT_THROW(parse_normalization("zscore"), Error);
}

// `minmax` is what pytorch-grad-cam hands to the seed paper's code. The reference below is
// NumPy and OpenCV written from pytorch-grad-cam's code (base_cam.compute_cam_per_layer:
// ReLU, scale_cam_image with cv2.resize; aggregate_multi_layers: ReLU, mean over the one
// layer, scale_cam_image again) and the paper's statistics (torch.std, unbiased; torch.median,
// the lower median): the group maps must agree.
TEST(GroupMaps, MinMaxEqualsPytorchGradCamOutputMaps) {
  test::TempDir dir;
  const std::size_t n = 40;  // even: the lower median differs from the midpoint
  auto maps = random_maps(n, 7);
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.2f);
  for (auto& x : maps) x += noise(rng) - 0.15f;  // some negative values: ReLU matters
  io::write_npy(dir / "raw.npy", {static_cast<std::int64_t>(n), 7, 7}, maps.data());
  std::ofstream(dir / "reference.py") << R"(import sys
import cv2
import numpy as np
d = sys.argv[1]
raw = np.load(d + "/raw.npy").astype(np.float32)
def scale_cam_image(cam, target_size=None):
    result = []
    for img in cam:
        img = img - np.min(img)
        img = img / (1e-7 + np.max(img))
        if target_size is not None:
            img = cv2.resize(img, target_size)
        result.append(img)
    return np.float32(result)
cam = np.maximum(raw, 0)
per_layer = scale_cam_image(cam, (112, 112))[:, None, :, :]
per_layer = np.maximum(per_layer, 0)
final = scale_cam_image(np.mean(per_layer, axis=1))
x = final.astype(np.float64)
np.save(d + "/amv.npy", x.std(axis=0, ddof=1).astype(np.float32))
np.save(d + "/mam.npy", x.mean(axis=0).astype(np.float32))
lower = np.sort(x, axis=0)[(x.shape[0] - 1) // 2]
np.save(d + "/median.npy", lower.astype(np.float32))
print("peak", final.max(axis=(1, 2)).min())
)";
  const auto [status, out] =
      test::run(fmt::format("{} {} {}", test::python(), (dir / "reference.py").string(), dir.path().string()));
  ASSERT_EQ(status, 0) << out;
  const Upsampler up(7, 7);
  normalize_maps(maps.data(), n, Normalization::MinMax, up);
  // Every upsampled map peaks at 1 (up to the 1e-7 of the denominator).
  std::vector<float> one(112 * 112);
  up.apply(maps.data(), one.data());
  EXPECT_NEAR(*std::max_element(one.begin(), one.end()), 1.0f, 1e-5);
  const auto g = group_statistics(maps, n, up, {});
  const auto compare = [&](const char* name, const cv::Mat& ours) {
    const auto ref = io::read_npy(dir / name);
    cv::Mat r(112, 112, CV_32F, const_cast<float*>(ref.data.data()));
    cv::Mat r64;
    r.convertTo(r64, CV_64F);
    return cv::norm(ours, r64, cv::NORM_INF);
  };
  EXPECT_LT(compare("amv.npy", g.amv), 1e-5);
  EXPECT_LT(compare("mam.npy", g.mam), 1e-5);
  EXPECT_LT(compare("median.npy", g.median), 1e-5);
}

// The bootstrap evaluates region statistics from the low-resolution mean and covariance; with
// every image weighted once it must equal the masked means of the 112x112 maps themselves.
TEST(GroupMaps, RegionStatisticsEqualMaskedMeansOfThePixelMaps) {
  const std::size_t n = 60;
  auto maps = random_maps(n, 2);
  const Upsampler up(7, 7);
  normalize_maps(maps.data(), n, Normalization::MinMax, up);
  const auto g = group_statistics(maps, n, up, {});
  BootstrapOptions b;
  b.replicates = 200;
  const auto r = region_statistics(maps, n, up, central_face_mask(), b, 1);
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
  // Same stream, same intervals.
  const auto again = region_statistics(maps, n, up, central_face_mask(), b, 1);
  EXPECT_EQ(again.outside_amv.lo, r.outside_amv.lo);
}

// Several masks at once (the robustness grid's margins) give each mask's own statistics: one
// bootstrap, evaluated under every mask.
TEST(GroupMaps, RegionStatisticsOfSeveralMasksEqualOneMaskAtATime) {
  const std::size_t n = 40;
  auto maps = random_maps(n, 5);
  const Upsampler up(7, 7);
  normalize_maps(maps.data(), n, Normalization::MinMax, up);
  BootstrapOptions b;
  b.replicates = 50;
  const std::vector<std::int64_t> people = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9,
                                            10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 18,
                                            19, 19};
  const std::vector<cv::Mat> masks = {central_face_mask(0), central_face_mask(), central_face_mask(0.5)};
  const auto together = region_statistics(maps, n, up, masks, b, 3, people);
  ASSERT_EQ(together.size(), 3u);
  for (std::size_t k = 0; k < masks.size(); ++k) {
    const auto alone = region_statistics(maps, n, up, masks[k], b, 3, people);
    EXPECT_EQ(together[k].outside_amv.value, alone.outside_amv.value) << k;
    EXPECT_EQ(together[k].outside_amv.lo, alone.outside_amv.lo) << k;
    EXPECT_EQ(together[k].replicates_outside_amv, alone.replicates_outside_amv) << k;
    EXPECT_EQ(together[k].inside_amv.hi, alone.inside_amv.hi) << k;
    EXPECT_EQ(together[k].clusters, 20u);
  }
  EXPECT_NE(together[0].outside_amv.value, together[2].outside_amv.value);
}

double spread(const std::vector<double>& v) {
  double mean = 0;
  for (double x : v) mean += x / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

// Two groups of equal size used to share one stream, so replicate i drew the same image
// indices in both and the interval of their difference shrank. With a stream per group the
// replicates are independent: for two groups holding the same maps, the difference's spread
// is about sqrt(2) times one group's, where a shared stream gives exactly zero.
TEST(GroupMaps, EachGroupDrawsFromItsOwnStream) {
  const std::size_t n = 80;
  auto maps = random_maps(n, 5);
  const Upsampler up(7, 7);
  normalize_maps(maps.data(), n, Normalization::MinMax, up);
  BootstrapOptions b;
  b.replicates = 400;
  const auto low = region_statistics(maps, n, up, central_face_mask(), b, stats::stream_seed(b.seed, "m/low"));
  const auto high = region_statistics(maps, n, up, central_face_mask(), b, stats::stream_seed(b.seed, "m/high"));
  const auto shared = region_statistics(maps, n, up, central_face_mask(), b, stats::stream_seed(b.seed, "m/low"));
  std::vector<double> independent(b.replicates), same(b.replicates);
  for (int i = 0; i < b.replicates; ++i) {
    independent[i] = low.replicates_outside_amv[i] - high.replicates_outside_amv[i];
    same[i] = low.replicates_outside_amv[i] - shared.replicates_outside_amv[i];
  }
  EXPECT_EQ(spread(same), 0.0);
  const double ratio = spread(independent) / spread(low.replicates_outside_amv);
  EXPECT_GT(ratio, 1.2);
  EXPECT_LT(ratio, 1.65);
  EXPECT_NE(stats::stream_seed(29794, "m/low"), stats::stream_seed(29794, "m/high"));
}

// Resampling identities: with every image its own identity the draws are those of the image
// bootstrap; with a few people holding many near-identical images each, the interval widens,
// since a person's images move together.
TEST(GroupMaps, IdentityBootstrapResamplesPeople) {
  const std::size_t people = 12, per_person = 10, n = people * per_person;
  std::mt19937 rng(11);
  std::normal_distribution<float> person_effect(0.0f, 0.6f), image_noise(0.0f, 0.05f);
  std::vector<float> maps(n * 49);
  std::vector<std::int64_t> identity(n), singletons(n);
  for (std::size_t p = 0; p < people; ++p) {
    std::vector<float> base(49);
    for (auto& v : base) v = std::abs(person_effect(rng));
    for (std::size_t k = 0; k < per_person; ++k) {
      const std::size_t i = p * per_person + k;
      identity[i] = static_cast<std::int64_t>(p);
      singletons[i] = static_cast<std::int64_t>(i);
      for (std::size_t a = 0; a < 49; ++a) maps[i * 49 + a] = base[a] + std::abs(image_noise(rng));
    }
  }
  const Upsampler up(7, 7);
  normalize_maps(maps.data(), n, Normalization::MinMax, up);
  BootstrapOptions b;
  b.replicates = 300;
  const auto images = region_statistics(maps, n, up, central_face_mask(), b, 9);
  const auto as_singletons = region_statistics(maps, n, up, central_face_mask(), b, 9, singletons);
  EXPECT_EQ(as_singletons.replicates_outside_amv, images.replicates_outside_amv);
  const auto people_draws = region_statistics(maps, n, up, central_face_mask(), b, 9, identity);
  EXPECT_EQ(people_draws.clusters, people);
  EXPECT_EQ(people_draws.outside_am.value, images.outside_am.value);  // the point estimate is the data's
  const double wide = people_draws.outside_am.hi - people_draws.outside_am.lo;
  const double narrow = images.outside_am.hi - images.outside_am.lo;
  EXPECT_GT(wide, 2.0 * narrow);
}

TEST(GroupMaps, HistogramFallbackStaysWithinItsBound) {
  const std::size_t n = 41;
  auto maps = random_maps(n, 3);
  const Upsampler up(7, 7);
  normalize_maps(maps.data(), n, Normalization::MinMax, up);
  const auto exact = group_statistics(maps, n, up, {});
  GroupStatisticsOptions small;
  small.memory_budget = 1;  // forces histograms
  small.histogram_bins = 256;
  const auto approx = group_statistics(maps, n, up, small);
  EXPECT_TRUE(exact.order_exact);
  EXPECT_FALSE(approx.order_exact);
  EXPECT_DOUBLE_EQ(approx.median_error_bound, 0.5 / 256);
  EXPECT_DOUBLE_EQ(approx.mad_error_bound, 1.0 / 256);
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
