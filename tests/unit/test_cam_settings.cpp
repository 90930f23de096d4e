// CAM methods own their settings: each declares them beside its factory (CamRegistry), the
// registry checks them, and what a method records of itself (meta.json's cam.methods, a
// reference's cam.options) makes the same method again.
#include <gtest/gtest.h>

#include <string>

#include "amva/cam/cam_method.hpp"
#include "amva/error.hpp"

namespace {
using namespace amva;

std::string message_of(const std::string& method, const PluginConfig& config) {
  try {
    (void)cam::CamMethod::create(method, config);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    return e.what();
  }
  ADD_FAILURE() << method << " accepted " << config.dump();
  return {};
}

TEST(CamSettings, EachMethodDeclaresItsOwn) {
  const auto& registry = cam::CamRegistry::instance();
  ASSERT_EQ(registry.settings("scorecam").size(), 1u);
  EXPECT_EQ(registry.settings("scorecam")[0].key, "channels");
  EXPECT_EQ(registry.settings("scorecam")[0].flag, "--channels");
  ASSERT_EQ(registry.settings("occlusion").size(), 1u);
  EXPECT_EQ(registry.settings("occlusion")[0].key, "grid");
  EXPECT_EQ(registry.settings("occlusion")[0].flag, "--occlusion-grid");
  EXPECT_EQ(registry.settings("occlusion")[0].highest, 56);
  for (const auto* none : {"gradcam", "gradcam++", "xgradcam", "layercam", "contribution", "eigencam"}) {
    EXPECT_TRUE(registry.settings(none).empty()) << none;
  }
  EXPECT_THROW((void)registry.settings("no-such-method"), Error);
}

TEST(CamSettings, UnknownKeysAndValuesOutOfRangeAreRefusedByName) {
  EXPECT_EQ(message_of("gradcam", {{"channels", 3}}), "gradcam has no setting 'channels' (it takes none)");
  EXPECT_EQ(message_of("scorecam", {{"grid", 3}}), "scorecam has no setting 'grid' (its settings: channels)");
  EXPECT_EQ(message_of("scorecam", {{"channels", -1}}),
            "scorecam: setting 'channels' must be a whole number from 0 to 1000000, not -1");
  EXPECT_NE(message_of("scorecam", {{"channels", 2.5}}).find("not 2.5"), std::string::npos);
  EXPECT_NE(message_of("scorecam", {{"channels", "16"}}).find("whole number"), std::string::npos);
  // Only a grid's setting takes a value per axis.
  EXPECT_EQ(message_of("scorecam", {{"channels", {16, 16}}}),
            "scorecam: setting 'channels' must be a whole number from 0 to 1000000, not [16,16]");
  EXPECT_NE(message_of("occlusion", {{"grid", 57}}).find("from 0 to 56"), std::string::npos);
  EXPECT_NE(message_of("occlusion", {{"grid", {7, 7, 7}}}).find("[rows, cols]"), std::string::npos);
  EXPECT_NE(message_of("occlusion", {{"grid", {0, 7}}}).find("both axes or neither"), std::string::npos);
  EXPECT_NE(message_of("occlusion", nlohmann::json::array({1})).find("must be an object"), std::string::npos);
}

TEST(CamSettings, WhatAMethodRecordsMakesItAgain) {
  const model::HeadShape square{512, 7, 7, 512}, wide{64, 6, 8, 128};
  for (const auto& name : cam::CamMethod::names()) {
    for (const auto& config : {PluginConfig(), PluginConfig{{"channels", 16}}, PluginConfig{{"grid", 10}}}) {
      if (!config.empty() && cam::CamRegistry::instance().settings(name).empty()) continue;
      if (!config.empty() && cam::CamRegistry::instance().settings(name)[0].key != config.begin().key()) continue;
      for (const auto& layer : {square, wide}) {
        const auto method = cam::CamMethod::create(name, config);
        // As extraction records it: the target (and a gradient form) beside the method's own settings.
        const nlohmann::json recorded = cam::method_record(*method, layer, method->default_target());
        const auto again = cam::CamMethod::create(name, cam::recorded_config(recorded));
        EXPECT_EQ(again->settings(layer), method->settings(layer)) << name << " " << config.dump();
        EXPECT_EQ(again->map_size(layer), method->map_size(layer)) << name << " " << config.dump();
      }
    }
  }
  // The layer's own grid is recorded as it is, rows first, also when it is not square.
  EXPECT_EQ(cam::CamMethod::create("occlusion")->settings({64, 6, 8, 128}), nlohmann::json({{"grid", {6, 8}}}));
  EXPECT_EQ(cam::CamMethod::create("occlusion", {{"grid", {6, 8}}})->map_size({64, 7, 7, 128}), cv::Size(8, 6));
  EXPECT_EQ(cam::CamMethod::create("scorecam", {{"channels", 16}})->settings(square),
            nlohmann::json({{"channels", 16}}));
  // Grad-CAM's maps from channel sums are recorded as such, so that a store made with all of
  // J (amva before 2026-12-07) is not resumed or merged with them; the other methods as before.
  EXPECT_EQ(cam::method_record(*cam::CamMethod::create("gradcam"), square, "projection"),
            nlohmann::json({{"target", "projection"}, {"gradients", "summed by channel"}}));
  EXPECT_EQ(cam::method_record(*cam::CamMethod::create("layercam"), square, "projection"),
            nlohmann::json({{"target", "projection"}}));
}

// A method added by a program declares its own setting and receives it, checked.
class Constant final : public cam::CamMethod {
 public:
  explicit Constant(int level) : level_(level) {}
  [[nodiscard]] std::string name() const override { return "constant"; }
  [[nodiscard]] nlohmann::json settings(const model::HeadShape&) const override { return {{"level", level_}}; }

 protected:
  [[nodiscard]] cv::Mat combine(const cam::CamInput& in, const float*) const override {
    return cv::Mat(in.shape.height, in.shape.width, CV_32F, cv::Scalar(level_));
  }

 private:
  int level_;
};

TEST(CamSettings, AProgramsMethodTakesItsOwnSetting) {
  auto& registry = cam::CamRegistry::instance();
  registry.add("constant",
               [](const PluginConfig& config) { return std::make_unique<Constant>(config.value("level", 1)); },
               {SettingSpec::whole("level", "the map's value everywhere", 1, 3, "--constant-level")});
  cam::CamInput in;
  in.shape = {1, 2, 2, 4};
  EXPECT_EQ(cam::CamMethod::create("constant")->compute(in).at<float>(0, 0), 1.f);
  EXPECT_EQ(cam::CamMethod::create("constant", {{"level", 3}})->compute(in).at<float>(1, 1), 3.f);
  EXPECT_EQ(message_of("constant", {{"level", 4}}),
            "constant: setting 'level' must be a whole number from 1 to 3, not 4");
  EXPECT_EQ(registry.settings("constant")[0].flag, "--constant-level");
}

}  // namespace
