// The FIQA method deviation through amva run and amva quality (issue 36), from a relative
// folder: the report shows the lowest faces against the fold reference that scored them, each
// sheet's deviation is the face's score, and a reference holding the scored faces is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <opencv2/imgproc.hpp>

#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/image_io.hpp"
#include "support.hpp"

namespace amva {
namespace {
namespace fs = std::filesystem;

class DeviationCli : public ::testing::Test {
 protected:
  void SetUp() override {
    // Four people of two photos each, at most 480 pixels wide: the faces are still found, and
    // decoding and detection cost a sixteenth.
    int k = 0;
    for (const auto& photo : fs::directory_iterator(test::sources_dir())) {
      const fs::path to = dir_ / "photos" / fmt::format("p{}", k++ / 2) / photo.path().filename();
      fs::create_directories(to.parent_path());
      cv::Mat image = io::load_bgr(photo.path());
      if (image.cols > 480) cv::resize(image, image, {}, 480.0 / image.cols, 480.0 / image.cols, cv::INTER_AREA);
      io::write_image(to, image);
    }
  }
  std::pair<int, std::string> amva_here(const std::string& args) const {
    return test::run(fmt::format("cd '{}' && {} --quiet", dir_.path().string(), test::amva_cmd(args)));
  }
  test::TempDir dir_;
};

TEST_F(DeviationCli, ARunWhoseReferenceMethodItDoesNotScoreIsRefusedBeforeAnythingIsWritten) {
  const auto [rc, out] = amva_here("run --images photos --out study --methods sharpness,deviation");
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("--deviation-reference serfiq: the study does not score it"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "study"));
}

// With deviation's occlusion maps (the default) in the store, the explanations' occlusion
// reference is made from them too: no face is mapped a second time.
TEST_F(DeviationCli, RunShowsTheLowestFacesAgainstTheReferenceThatScoredThem) {
  const auto [rc, out] = amva_here(
      "run --images photos --out study --labels-from-folders --methods sharpness,deviation --deviation-folds 2 "
      "--deviation-reference sharpness --deviation-group top:50 --group top:50 --explain 2 --no-robustness "
      "--null-controls 0 --permutations 19");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_FALSE(fs::exists(dir_ / "study" / "explain_reference" / "store"));
  const auto explanations_reference =
      io::read_text(dir_ / "study" / "explain_reference" / "analysis" / "reference_sharpness" / "reference.json");
  EXPECT_NE(explanations_reference.find("\"method\": \"occlusion\""), std::string::npos) << explanations_reference;
  EXPECT_TRUE(fs::exists(dir_ / "study" / "explain" / "ranking.csv"));

  std::map<std::string, double> score;
  const auto quality = io::read_csv(dir_ / "study" / "store" / "quality.csv");
  const auto path = quality.column("path", "quality.csv");
  const auto deviation = quality.column("deviation", "quality.csv");
  for (std::size_t i = 0; i < quality.rows.size(); ++i)
    score[quality.rows[i][path]] = std::stod(quality.rows[i][deviation]);
  ASSERT_EQ(score.size(), 8u);

  int sheets = 0;
  for (const auto& fold : fs::directory_iterator(dir_ / "study" / "deviation" / "explain")) {
    const auto ranking = io::read_csv(fold.path() / "ranking.csv");
    const auto image = ranking.column("image", "ranking.csv");
    const auto dev = ranking.column("deviation", "ranking.csv");
    for (const auto& row : ranking.rows) {
      const auto key = fs::path(row[image]).lexically_relative(dir_ / "photos").generic_string();
      ASSERT_TRUE(score.count(key)) << row[image];
      EXPECT_NEAR(std::stod(row[dev]), -score[key], 1e-4) << key << ": the sheet and the score disagree";
      ++sheets;
    }
  }
  EXPECT_EQ(sheets, 2);
  const auto report = io::read_text(dir_ / "study" / "report.html");
  EXPECT_NE(report.find("Deviation as a quality score"), std::string::npos);
  std::size_t captions = 0;
  for (auto at = report.find("scored against the reference of fold"); at != std::string::npos;
       at = report.find("scored against the reference of fold", at + 1)) {
    ++captions;
  }
  EXPECT_GE(captions, 2u);
  EXPECT_TRUE(fs::exists(dir_ / "study" / "deviation" / "fold_2" / "reference.json"));

  // A fold reference holds faces of this store: scoring the store against it is refused.
  const auto before = io::read_text(dir_ / "study" / "store" / "quality.csv");
  const auto [refused, why] =
      amva_here("quality --store study/store --methods deviation --reference study/deviation/fold_1");
  EXPECT_NE(refused, 0) << why;
  EXPECT_NE(why.find("a face it would score"), std::string::npos) << why;
  EXPECT_EQ(io::read_text(dir_ / "study" / "store" / "quality.csv"), before);
}

}  // namespace
}  // namespace amva
