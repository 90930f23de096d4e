#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "amva/error.hpp"
#include "amva/face/alignment.hpp"
#include "amva/face/detector.hpp"

using namespace amva::face;

namespace {
Landmarks5 transformed_template(double angle_deg, double scale, cv::Point2d shift) {
  const double a = angle_deg * CV_PI / 180.0;
  Landmarks5 out;
  for (int i = 0; i < 5; ++i) {
    const auto& p = arcface_template()[i];
    out[i] = cv::Point2f(static_cast<float>(scale * (std::cos(a) * p.x - std::sin(a) * p.y) + shift.x),
                         static_cast<float>(scale * (std::sin(a) * p.x + std::cos(a) * p.y) + shift.y));
  }
  return out;
}
}  // namespace

TEST(Alignment, RecoversAnExactSimilarityTransform) {
  const auto points = transformed_template(20.0, 2.5, {300, -40});
  const cv::Mat m = similarity_to_template(points);
  // The inverse of (rotate 20 degrees, scale 2.5): scale 0.4, rotate -20 degrees.
  const double a = -20.0 * CV_PI / 180.0;
  EXPECT_NEAR(m.at<double>(0, 0), 0.4 * std::cos(a), 1e-6);  // points are float
  EXPECT_NEAR(m.at<double>(1, 0), 0.4 * std::sin(a), 1e-6);
  EXPECT_NEAR(alignment_residual(points), 0.0, 1e-4);
}

TEST(Alignment, WarpPutsAMarkedPointOnItsTemplatePosition) {
  const auto points = transformed_template(-10.0, 1.7, {50, 60});
  cv::Mat image(400, 400, CV_8UC3, cv::Scalar::all(0));
  cv::circle(image, points[2], 3, cv::Scalar::all(255), cv::FILLED);  // the nose tip
  const cv::Mat aligned = align_face(image, points);
  ASSERT_EQ(aligned.size(), cv::Size(112, 112));
  cv::Mat gray;
  cv::cvtColor(aligned, gray, cv::COLOR_BGR2GRAY);
  const cv::Moments m = cv::moments(gray);
  EXPECT_NEAR(m.m10 / m.m00, arcface_template()[2].x, 0.3);
  EXPECT_NEAR(m.m01 / m.m00, arcface_template()[2].y, 0.3);
}

TEST(Alignment, SixtyEightPointsReduceToEyeCentresNoseAndMouthCorners) {
  std::vector<cv::Point2f> p(68);
  for (int i = 0; i < 68; ++i) p[i] = cv::Point2f(static_cast<float>(i), static_cast<float>(2 * i));
  const auto five = landmarks5_from_68(p);
  EXPECT_FLOAT_EQ(five[0].x, 38.5f);  // mean of 36..41
  EXPECT_FLOAT_EQ(five[1].x, 44.5f);  // mean of 42..47
  EXPECT_FLOAT_EQ(five[2].x, 30.f);
  EXPECT_FLOAT_EQ(five[3].x, 48.f);
  EXPECT_FLOAT_EQ(five[4].y, 108.f);
  EXPECT_THROW(landmarks5_from_68(std::vector<cv::Point2f>(5)), amva::Error);
}

TEST(FaceRule, CentralPrefersTheSubjectOverALargerBystanderAtTheEdge) {
  Face subject;
  subject.box = cv::Rect2f(85, 70, 80, 100);  // centred in a 250x250 image
  Face bystander;
  bystander.box = cv::Rect2f(165, 50, 85, 120);  // larger, at the right edge
  const std::vector<Face> faces = {bystander, subject};
  EXPECT_EQ(primary_face(faces, cv::Size(250, 250), FaceRule::Largest), 0u);
  EXPECT_EQ(primary_face(faces, cv::Size(250, 250), FaceRule::Central), 1u);
  // Near the centre, size decides.
  Face big_central;
  big_central.box = cv::Rect2f(60, 40, 130, 160);
  EXPECT_EQ(primary_face({subject, big_central}, cv::Size(250, 250), FaceRule::Central), 1u);
}
