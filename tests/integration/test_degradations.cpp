#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "amva/data/degradations.hpp"
#include "amva/face/alignment.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/image_io.hpp"
#include "support.hpp"

using namespace amva;
namespace fs = std::filesystem;

namespace {
double laplacian_variance(const cv::Mat& bgr) {
  cv::Mat gray, lap;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  cv::Laplacian(gray, lap, CV_64F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  return stddev[0] * stddev[0];
}
}  // namespace

TEST(Degradations, StrengthOrdersTheEffect) {
  const cv::Mat img = io::load_bgr(test::sources_dir() / "grace_hopper.jpg");
  face::Landmarks5 lm = face::arcface_template();
  const auto plan = data::degradation_plan(3);
  double last_sharpness = laplacian_variance(img);
  double last_brightness = cv::mean(img)[0];
  for (const auto& d : plan) {
    const cv::Mat out = data::degrade(img, d, lm, 1);
    ASSERT_EQ(out.size(), img.size()) << d.name();
    if (d.kind == "gaussian_blur") {
      const double s = laplacian_variance(out);
      EXPECT_LT(s, last_sharpness) << d.name();
      last_sharpness = s;
    }
    if (d.kind == "underexposure") {
      const double b = cv::mean(out)[0];
      EXPECT_LT(b, last_brightness) << d.name();
      last_brightness = b;
    }
  }
  // Deterministic for the same seed, different for another.
  const data::Degradation noise{"noise", 2, 25, ""};
  EXPECT_EQ(cv::norm(data::degrade(img, noise, lm, 5), data::degrade(img, noise, lm, 5), cv::NORM_INF), 0);
  EXPECT_GT(cv::norm(data::degrade(img, noise, lm, 5), data::degrade(img, noise, lm, 6), cv::NORM_INF), 0);
}

TEST(Degradations, OcclusionPatchCoversTheNamedLandmark) {
  const cv::Mat img(200, 200, CV_8UC3, cv::Scalar::all(0));
  face::Landmarks5 lm = {cv::Point2f(70, 80), cv::Point2f(130, 80), cv::Point2f(100, 110), cv::Point2f(75, 140),
                         cv::Point2f(125, 140)};
  cv::Rect patch;
  const cv::Mat out = data::degrade(img, {"occlusion", 2, 0.9, "left_eye"}, lm, 1, &patch);
  EXPECT_TRUE(patch.contains(cv::Point(70, 80)));
  EXPECT_NEAR(patch.width, 0.9 * 60, 1);
  EXPECT_EQ(out.at<cv::Vec3b>(80, 70), cv::Vec3b(128, 128, 128));
  EXPECT_EQ(out.at<cv::Vec3b>(80, 130), cv::Vec3b(0, 0, 0));
  data::degrade(img, {"occlusion", 1, 0.6, "mouth"}, lm, 1, &patch);
  EXPECT_TRUE(patch.contains(cv::Point(100, 140)));
}

TEST(Degradations, GeneratedSetKeepsIdentitiesAndRecordsEveryImage) {
  test::TempDir dir;
  fs::create_directories(dir / "in");
  fs::copy(test::sources_dir() / "grace_hopper.jpg", dir / "in" / "grace_hopper.jpg");
  fs::copy(test::sources_dir() / "astronaut.png", dir / "in" / "astronaut.png");
  data::DegradeOptions o;
  o.images = dir / "in";
  o.out = dir / "out";
  o.levels = 2;
  o.detector = test::default_detector();
  const auto s = data::generate_degraded_set(o);
  const std::size_t per_face = 1 + data::degradation_plan(2).size();
  EXPECT_EQ(s.sources, 2u);
  EXPECT_EQ(s.written, 2 * per_face);
  const auto manifest = io::read_csv(dir / "out" / "manifest.csv");
  ASSERT_EQ(manifest.rows.size(), 2 * per_face);
  for (const auto& row : manifest.rows) {
    EXPECT_TRUE(fs::exists(dir / "out" / "images" / row[0])) << row[0];
    EXPECT_EQ(row[0].substr(0, row[2].size()), row[2]) << "file lives in its identity's folder";
  }
  const std::string labels = io::read_text(dir / "out" / "labels.txt");
  EXPECT_NE(labels.find("astronaut/astronaut__jpeg_2.png\tastronaut"), std::string::npos);
}
