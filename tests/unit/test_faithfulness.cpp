// The deletion and insertion games (cam/faithfulness.hpp) on a synthetic model whose embedding
// depends on one known region only: a map that marks that region must beat the random order
// and the centre prior under both fills, and the opposite map (that region last) must lose to them.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <random>

#include "amva/cam/faithfulness.hpp"
#include "support.hpp"

namespace {
using namespace amva;

constexpr int kSize = 112;

// A textured face input (1 x 3 x 112 x 112), so that a blur or an imputation changes pixels.
cv::Mat textured_input(std::uint64_t seed) {
  cv::Mat input(std::vector<int>{1, 3, kSize, kSize}, CV_32F);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.f, 0.5f);
  for (int c = 0; c < 3; ++c) {
    cv::Mat plane(kSize, kSize, CV_32F, input.ptr<float>(0, c));
    for (int i = 0; i < kSize * kSize; ++i) plane.ptr<float>()[i] = noise(rng);
  }
  return input;
}

// The synthetic model: 64 features, each the mean of channel 0 over a 4 x 4 block of a 32 x 32
// region where a left eye would be (x 16-47, y 32-63), plus a constant. Nothing else of the
// face reaches the embedding.
cv::Mat eye_model(const cv::Mat& batch) {
  const int n = batch.size[0];
  cv::Mat e(n, 65, CV_32F);
  for (int i = 0; i < n; ++i) {
    const cv::Mat plane(kSize, kSize, CV_32F, const_cast<float*>(batch.ptr<float>(i, 0)));
    for (int by = 0; by < 8; ++by) {
      for (int bx = 0; bx < 8; ++bx)
        e.at<float>(i, by * 8 + bx) = static_cast<float>(cv::mean(plane(cv::Rect(16 + bx * 4, 32 + by * 4, 4, 4)))[0]);
    }
    e.at<float>(i, 64) = 0.05f;
  }
  return e;
}

// A 7 x 7 map (cells of 16 pixels) high on the model's region, or (opposite) low there.
cv::Mat eye_map(bool opposite) {
  cv::Mat map(7, 7, CV_32F, cv::Scalar(opposite ? 1 : 0));
  map(cv::Rect(1, 2, 2, 2)).setTo(opposite ? 0.f : 1.f);
  return map;
}

TEST(Faithfulness, OrdersRankByTheMapAndBreakTiesBySeed) {
  cv::Mat map(2, 2, CV_32F, cv::Scalar(0));
  map.at<float>(0, 0) = 1.f;
  const auto a = cam::order_by_map(map, {4, 4}, 1);
  const auto b = cam::order_by_map(map, {4, 4}, 2);
  ASSERT_EQ(a.size(), 16u);
  EXPECT_EQ(a.front(), 0);  // the corner the map marks comes first
  EXPECT_EQ(b.front(), 0);
  EXPECT_EQ(a, cam::order_by_map(map, {4, 4}, 1));
  // A flat map is all ties: its order is the seed's.
  const cv::Mat flat(2, 2, CV_32F, cv::Scalar(0));
  EXPECT_NE(cam::order_by_map(flat, {8, 8}, 1), cam::order_by_map(flat, {8, 8}, 2));
  auto sorted = cam::random_order({8, 8}, 3);
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> all(64);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(sorted, all);
  const auto centre = cam::centre_order({9, 9}, {4.f, 4.f}, 5);
  EXPECT_EQ(centre.front(), 4 * 9 + 4);
  EXPECT_TRUE(centre.back() == 0 || centre.back() == 8 || centre.back() == 72 || centre.back() == 80);
}

TEST(Faithfulness, LinearImputationRestoresALinearRampAndKeepsKnownPixels) {
  cv::Mat input(std::vector<int>{1, 3, 20, 20}, CV_32F);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 20; ++y) {
      for (int x = 0; x < 20; ++x) input.ptr<float>(0, c)[y * 20 + x] = 0.1f * x - 0.05f * y + static_cast<float>(c);
    }
  }
  std::vector<std::uint8_t> known(400, 1);
  for (int y = 5; y < 15; ++y) {
    for (int x = 4; x < 12; ++x) known[static_cast<std::size_t>(y * 20 + x)] = 0;
  }
  const cv::Mat out = cam::impute_linear(input, known, 0.0, 1);
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 400; ++i) {
      EXPECT_NEAR(out.ptr<float>(0, c)[i], input.ptr<float>(0, c)[i], known[static_cast<std::size_t>(i)] ? 0 : 2e-3)
          << "channel " << c << " pixel " << i;
    }
  }
  // With noise, imputed pixels scatter around the solution by noise x the input's range.
  const cv::Mat noisy = cam::impute_linear(input, known, 0.05, 2);
  double sum2 = 0;
  int count = 0;
  for (int i = 0; i < 400; ++i) {
    if (known[static_cast<std::size_t>(i)]) continue;
    const double d = noisy.ptr<float>(0, 0)[i] - out.ptr<float>(0, 0)[i];
    sum2 += d * d;
    ++count;
  }
  double lo = 0, hi = 0;
  cv::minMaxLoc(cv::Mat(3 * 400, 1, CV_32F, input.ptr<float>()), &lo, &hi);
  EXPECT_NEAR(std::sqrt(sum2 / count), 0.05 * (hi - lo), 0.25 * 0.05 * (hi - lo));
  // Nothing known: the face's mean colour.
  const cv::Mat mean_fill = cam::impute_linear(input, std::vector<std::uint8_t>(400, 0), 0.0, 3);
  EXPECT_NEAR(mean_fill.ptr<float>(0, 1)[210], cv::mean(cv::Mat(20, 20, CV_32F, input.ptr<float>(0, 1)))[0], 1e-3);
}

TEST(Faithfulness, AMapOfTheRegionTheModelUsesBeatsBothControlsAndTheOppositeMapLoses) {
  cam::GameSettings settings;
  settings.steps = 10;
  const cv::Size face(kSize, kSize);
  // Two textures in the Release pass; one under the sanitizers, where the solves run slower.
  const std::vector<std::uint64_t> seeds =
      test::kSanitized ? std::vector<std::uint64_t>{11} : std::vector<std::uint64_t>{11, 12};
  for (const std::uint64_t seed : seeds) {
    const cv::Mat input = textured_input(seed);
    const cv::Mat clean = eye_model(input);
    const std::vector<float> embedding(clean.ptr<float>(0), clean.ptr<float>(0) + clean.cols);
    const std::vector<std::vector<int>> orders = {
        cam::order_by_map(eye_map(false), face, seed), cam::order_by_map(eye_map(true), face, seed),
        cam::random_order(face, seed), cam::centre_order(face, {56.f, 72.f}, seed)};
    for (const auto fill : cam::all_fills()) {
      const auto c = cam::play_games(input, embedding, orders, fill, settings, eye_model, 16, seed);
      ASSERT_EQ(c.size(), 4u);
      SCOPED_TRACE(cam::fill_name(fill));
      EXPECT_DOUBLE_EQ(c[0].deletion.front(), 1.0);
      EXPECT_DOUBLE_EQ(c[0].insertion.back(), 1.0);
      EXPECT_DOUBLE_EQ(c[0].deletion.back(), c[2].deletion.back());  // the wholly filled face is shared
      // The right map: lower deletion and higher insertion than both controls.
      for (const std::size_t control : {2u, 3u}) {
        EXPECT_LT(c[0].deletion_area, c[control].deletion_area - 0.05) << control;
        EXPECT_GT(c[0].insertion_area, c[control].insertion_area + 0.05) << control;
        EXPECT_GT(c[1].deletion_area, c[control].deletion_area) << control;
        EXPECT_LT(c[1].insertion_area, c[control].insertion_area) << control;
      }
    }
  }
}

TEST(Faithfulness, BadInputIsRefused) {
  const cv::Mat input = textured_input(1);
  cam::GameSettings settings;
  EXPECT_THROW(
      cam::play_games(input, std::vector<float>(65, 1.f), {{0, 1, 2}}, cam::Fill::Blur, settings, eye_model, 8, 1),
      std::exception);
  settings.steps = 1;
  EXPECT_THROW(cam::play_games(input, std::vector<float>(65, 1.f), {}, cam::Fill::Blur, settings, eye_model, 8, 1),
               std::exception);
  EXPECT_THROW(cam::impute_linear(cv::Mat(4, 4, CV_32F), std::vector<std::uint8_t>(16, 0), 0, 1), std::exception);
}

}  // namespace
