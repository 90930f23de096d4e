// The plain-language line of an explanation says no more than its numbers support.
#include <gtest/gtest.h>

#include <limits>

#include "amva/explain/explain_face.hpp"

using amva::explain::ExplanationFacts;
using amva::analysis::FacePart;
using amva::explain::likely_causes;

namespace {

// An explanation with mean |Z| 1 over the image and `eye_z` on the left eye (its 300 pixels).
ExplanationFacts explanation(double percentile_high, double eye_z) {
  const double rest = (112.0 * 112.0 - 300.0 * eye_z) / (112.0 * 112.0 - 300.0);  // keeps the image's mean at 1
  ExplanationFacts x;
  x.regions = {{FacePart::LeftEye, 300, eye_z}, {FacePart::RightEye, 300, rest}, {FacePart::Outside, 9000, rest}};
  x.deviation = 1.0;
  x.share_outside = 9000 * rest / (112.0 * 112.0);
  x.percentile_high = percentile_high;
  return x;
}

}  // namespace

TEST(Causes, ATypicalFaceGetsNoLocation) {
  const auto line = likely_causes(explanation(30, 3.0));
  EXPECT_EQ(line, "as close to the reference as a typical high-quality face");
}

TEST(Causes, ADeviatingFaceNamesTheRegionThatStandsOut) {
  const auto line = likely_causes(explanation(97, 3.0));
  EXPECT_NE(line.find("deviation concentrated on the eye on the image's left (mean |Z| 3.0x the image's)"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("deviates more than 97 % of the high-quality reference faces"), std::string::npos) << line;
}

TEST(Causes, ADeviationWithoutAStandoutRegionIsCalledSpread) {
  const auto line = likely_causes(explanation(100, 1.1));
  EXPECT_EQ(line.find("concentrated"), std::string::npos) << line;
  EXPECT_NE(line.find("deviation spread over the image"), std::string::npos) << line;
  EXPECT_NE(line.find("deviates more than every high-quality reference face"), std::string::npos) << line;
}

TEST(Causes, EyeHintsFollowTheModelsConfidence) {
  auto j = explanation(30, 1.0);
  j.eyes = amva::face::EyeOpenness{0.05, 0.35};
  auto line = likely_causes(j);
  EXPECT_NE(line.find("the eye on the image's left looks closed or covered (eye model: 5 % open)"), std::string::npos)
      << line;
  EXPECT_NE(line.find("the eye on the image's right may be closed or covered (eye model unsure: 35 % open)"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find("looks closed;"), std::string::npos) << "closed is never claimed alone: " << line;
  j.eyes = amva::face::EyeOpenness{0.9, 0.6};
  EXPECT_EQ(likely_causes(j).find("eye"), std::string::npos);
}

TEST(Causes, PoseHintsCarryTheirSpread) {
  auto j = explanation(30, 1.0);
  j.pose = amva::face::HeadPose{31.0, 5.0, -18.0, 3.0, 2.0, 22.0};
  const auto line = likely_causes(j);
  EXPECT_NE(line.find("yaw 31 degrees (pose model, spread 3)"), std::string::npos) << line;
  EXPECT_NE(line.find("possibly roll -18 degrees (an unsure pose estimate, spread 22)"), std::string::npos) << line;
  EXPECT_EQ(line.find("pitch"), std::string::npos) << line;
}

TEST(Causes, TheLargestLossIsNamedByTheNearestLandmark) {
  auto j = explanation(90, 1.0);
  j.largest_loss = amva::explain::LargestLoss{42, 42, 0.3, FacePart::Outside, "left_eye"};
  auto line = likely_causes(j);
  EXPECT_EQ(line.find("the largest loss of activation against the reference is at the eye on the image's left"), 0u)
      << "first, since it localises covered parts best: " << line;
  j.largest_loss->near = "elsewhere";
  line = likely_causes(j);
  EXPECT_NE(line.find("is at (42, 42), away from the eyes, nose and mouth"), std::string::npos) << line;
  EXPECT_EQ(likely_causes(explanation(30, 1.0)).find("loss"), std::string::npos) << "not for a typical face";
}

TEST(Causes, AFaceWithoutARankIsLocatedButNotRanked) {
  ExplanationFacts x = explanation(97, 3.0);
  x.percentile_high = std::numeric_limits<double>::quiet_NaN();
  const auto line = likely_causes(x);
  EXPECT_EQ(line, "deviation concentrated on the eye on the image's left (mean |Z| 3.0x the image's)");
}
