// The FIQA method deviation (issue 36): cross-fitted so that no face is scored against a
// reference that holds itself or its person; checked against an independent computation and
// through the store (quality.csv, fold references, a saved reference that is refused).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <opencv2/imgproc.hpp>
#include <random>
#include <set>

#include "amva/analysis/cross_fitting.hpp"
#include "amva/analysis/reference.hpp"
#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/pipeline/deviation.hpp"
#include "amva/quality/scores.hpp"
#include "amva/store/store.hpp"
#include "support.hpp"
#include "synthetic_store.hpp"

namespace amva {
namespace {
namespace fs = std::filesystem;
using analysis::CrossFitOptions;

struct People {
  std::vector<float> maps;  // rows x 7 x 7
  std::vector<std::int64_t> unit;
  std::vector<double> scores;
  std::vector<bool> has_map;
};

// 40 people with 1 to 5 faces each; scores and maps at random.
People people(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  People p;
  for (int person = 0; person < 40; ++person) {
    const int faces = 1 + person % 5;
    for (int f = 0; f < faces; ++f) {
      p.unit.push_back(person);
      p.scores.push_back(u(rng));
      p.has_map.push_back(true);
      for (int k = 0; k < 49; ++k) p.maps.push_back(u(rng));
    }
  }
  return p;
}

TEST(CrossFitting, FoldsKeepEachPersonWholeAndAreBalanced) {
  const auto p = people(1);
  const auto folds = analysis::assign_folds(p.unit, 5, 29794);
  std::map<std::int64_t, int> fold_of_person;
  std::map<int, std::set<std::int64_t>> people_of_fold;
  for (std::size_t r = 0; r < p.unit.size(); ++r) {
    const auto [it, fresh] = fold_of_person.emplace(p.unit[r], folds[r]);
    EXPECT_EQ(it->second, folds[r]) << "person " << p.unit[r] << " split over folds";
    people_of_fold[folds[r]].insert(p.unit[r]);
  }
  ASSERT_EQ(people_of_fold.size(), 5u);
  for (const auto& [fold, members] : people_of_fold) EXPECT_EQ(members.size(), 8u) << "fold " << fold;
  EXPECT_EQ(analysis::assign_folds(p.unit, 5, 29794), folds);
  EXPECT_NE(analysis::assign_folds(p.unit, 5, 1), folds);
  EXPECT_THROW(analysis::assign_folds(p.unit, 1, 29794), Error);
  EXPECT_THROW(analysis::assign_folds({1, 2}, 3, 29794), Error);
}

// The acceptance property: changing the maps of every face of person P except face f leaves
// f's score as it was, bit for bit; changing f's own map moves it.
TEST(CrossFitting, NoFaceIsScoredAgainstAReferenceHoldingItselfOrItsPerson) {
  const auto p = people(2);
  CrossFitOptions opt;
  opt.high_group = stats::GroupRule::parse("top:30");
  const auto base = analysis::cross_fitted_deviations(p.maps, 7, 7, p.has_map, p.scores, p.unit, opt);
  for (const auto& f : base.folds) {
    for (const auto r : f.reference_rows) {
      for (const auto s : f.scored_rows)
        ASSERT_NE(p.unit[static_cast<std::size_t>(r)], p.unit[static_cast<std::size_t>(s)]);
    }
  }
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  int checked = 0;
  for (const std::int64_t person : {4, 19, 39}) {  // 5 faces each
    std::vector<std::size_t> faces;
    for (std::size_t r = 0; r < p.unit.size(); ++r) {
      if (p.unit[r] == person) faces.push_back(r);
    }
    for (const std::size_t f : {faces.front(), faces.back()}) {
      auto perturbed = p.maps;
      for (const auto r : faces) {
        if (r == f) continue;
        for (int k = 0; k < 49; ++k) perturbed[r * 49 + static_cast<std::size_t>(k)] = 3 * u(rng);
      }
      const auto after = analysis::cross_fitted_deviations(perturbed, 7, 7, p.has_map, p.scores, p.unit, opt);
      EXPECT_EQ(after.deviation[f], base.deviation[f]) << "person " << person << ", face " << f;
      auto own = p.maps;
      own[f * 49 + 24] += 0.5f;
      const auto moved = analysis::cross_fitted_deviations(own, 7, 7, p.has_map, p.scores, p.unit, opt);
      EXPECT_NE(moved.deviation[f], base.deviation[f]) << "person " << person << ", face " << f;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 6);
}

// mean |Z| recomputed here with cv::resize, per-pixel loops and the definition in DESIGN.md.
TEST(CrossFitting, EqualsAnIndependentComputation) {
  const auto p = people(4);
  CrossFitOptions opt;
  opt.folds = 4;
  opt.high_group = stats::GroupRule::parse("top:25");
  opt.normalization = analysis::Normalization::None;
  const auto fit = analysis::cross_fitted_deviations(p.maps, 7, 7, p.has_map, p.scores, p.unit, opt);
  ASSERT_EQ(fit.folds.size(), 4u);
  const auto upsampled = [&](std::size_t r) {
    cv::Mat low(7, 7, CV_32F, const_cast<float*>(p.maps.data() + r * 49)), up;
    cv::resize(low, up, {112, 112}, 0, 0, cv::INTER_LINEAR);
    up.convertTo(up, CV_64F);
    return up;
  };
  for (const auto& fold : fit.folds) {
    // The reference: the top 25 % of the other folds' scores.
    std::vector<std::pair<double, std::size_t>> candidates;
    for (std::size_t r = 0; r < p.unit.size(); ++r) {
      if (fit.fold_of_row[r] != fold.fold) candidates.emplace_back(p.scores[r], r);
    }
    std::sort(candidates.begin(), candidates.end(), std::greater<>());
    const auto n = static_cast<std::size_t>(std::lround(0.25 * static_cast<double>(candidates.size())));
    cv::Mat sum = cv::Mat::zeros(112, 112, CV_64F), sq = sum.clone();
    for (std::size_t k = 0; k < n; ++k) {
      const auto m = upsampled(candidates[k].second);
      sum += m;
      sq += m.mul(m);
    }
    const cv::Mat mam = sum / static_cast<double>(n);
    cv::Mat var = (sq - sum.mul(sum) / static_cast<double>(n)) / static_cast<double>(n - 1), amv;
    cv::sqrt(cv::max(var, 0.0), amv);
    const double eps = 0.01 * cv::mean(amv)[0];
    ASSERT_EQ(fold.reference_rows.size(), n);
    for (const auto r : fold.scored_rows) {
      cv::Mat z;
      cv::divide(upsampled(static_cast<std::size_t>(r)) - mam, amv + eps, z);
      const double expected = cv::mean(cv::abs(z))[0];
      EXPECT_NEAR(fit.deviation[static_cast<std::size_t>(r)], expected, 1e-5 * expected) << "row " << r;
    }
  }
}

TEST(CrossFitting, ARefusedFoldSaysWhy) {
  auto p = people(5);
  CrossFitOptions opt;
  opt.folds = 20;
  opt.high_group = stats::GroupRule::parse("top:1");
  try {
    (void)analysis::cross_fitted_deviations(p.maps, 7, 7, p.has_map, p.scores, p.unit, opt);
    FAIL() << "a one-face reference was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at least 2"), std::string::npos) << e.what();
  }
}

class DeviationStore : public ::testing::Test {
 protected:
  void SetUp() override {
    test::SyntheticStoreSpec spec;
    spec.faces = 200;
    spec.failed = 3;
    spec.identities = 25;
    spec.methods = 2;
    test::write_synthetic_store(dir_ / "store", spec);
  }
  pipeline::DeviationOptions options() const {
    pipeline::DeviationOptions o;
    o.store = dir_ / "store";
    o.cam = "gradcam";
    o.reference_method = "m0";
    return o;
  }
  test::TempDir dir_;
};

TEST_F(DeviationStore, WritesANegatedColumnAndReferencesAmvaExplainReads) {
  auto o = options();
  o.references_out = dir_ / "refs";
  const auto s = pipeline::compute_deviation(o);
  EXPECT_EQ(s.scored, 200u);
  EXPECT_EQ(s.identities, 25u);
  const auto index = store::read_index_entries(o.store);
  const auto cols = quality::read_builtin_scores(o.store, index, {"m0", "m1", "deviation"});
  EXPECT_FALSE(cols[0].negated);
  EXPECT_TRUE(cols[2].negated);
  for (std::size_t r = 0; r < index.size(); ++r) {
    if (r < 200) {
      EXPECT_DOUBLE_EQ(cols[2].values[r], -s.deviation[r]);
      EXPECT_FALSE(std::isnan(cols[0].values[r]));  // the other columns are kept
    } else {
      EXPECT_TRUE(std::isnan(cols[2].values[r]));
    }
  }
  // The synthetic maps vary more outside the centre as quality falls: deviation tracks quality.
  std::vector<double> dev, truth;
  for (std::size_t r = 0; r < 200; ++r) {
    dev.push_back(cols[2].values[r]);
    truth.push_back(cols[0].values[r]);
  }
  cv::Mat a(dev), b(truth), ma, sa, mb, sb;
  cv::meanStdDev(a, ma, sa);
  cv::meanStdDev(b, mb, sb);
  const double corr =
      cv::mean((a - ma.at<double>(0)).mul(b - mb.at<double>(0)))[0] / (sa.at<double>(0) * sb.at<double>(0));
  EXPECT_GT(corr, 0.5);
  ASSERT_EQ(s.fold_references.size(), 5u);
  EXPECT_EQ(nlohmann::json::parse(io::read_text(o.store / "deviation.json")).at("cam"), "gradcam");
  for (const auto& dir : s.fold_references) {
    const auto ref = analysis::read_reference(dir);
    EXPECT_EQ(ref.cam, "gradcam");
    // Its faces are none of the faces it scored.
    std::set<std::string> members;
    for (const auto& f : analysis::read_face_deviations(dir)) members.insert(f.path.substr(0, 4));
    const int fold = std::stoi(dir.filename().string().substr(5)) - 1;
    for (std::size_t r = 0; r < 200; ++r) {
      if (s.fold_of_row[r] == fold) {
        EXPECT_FALSE(members.count(index[r].path.substr(0, 4))) << index[r].path;
      }
    }
  }
}

TEST_F(DeviationStore, ASavedReferenceHoldingAScoredFaceOrPersonIsRefused) {
  auto o = options();
  o.references_out = dir_ / "refs";
  (void)pipeline::compute_deviation(o);
  const auto before = io::read_text(o.store / "quality.csv");
  auto with_saved = options();
  with_saved.reference = dir_ / "refs" / "fold_1";
  try {
    (void)pipeline::compute_deviation(with_saved);
    FAIL() << "a reference holding the store's own faces was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a face it would score"), std::string::npos) << e.what();
  }
  EXPECT_EQ(io::read_text(o.store / "quality.csv"), before);
  // Another store of the same people under other file names: refused for the person.
  test::SyntheticStoreSpec spec;
  spec.faces = 30;
  spec.identities = 25;
  spec.seed = 11;
  test::write_synthetic_store(dir_ / "other", spec);
  fs::rename(dir_ / "other" / "index.csv", dir_ / "other" / "index.tmp");
  {
    std::string text = io::read_text(dir_ / "other" / "index.tmp");
    for (std::size_t at = text.find("img_"); at != std::string::npos; at = text.find("img_", at + 4)) text[at] = 'J';
    std::ofstream(dir_ / "other" / "index.csv") << text;
  }
  fs::remove(dir_ / "other" / "index.tmp");
  fs::remove(dir_ / "other" / "quality.csv");
  with_saved.store = dir_ / "other";
  try {
    (void)pipeline::compute_deviation(with_saved);
    FAIL() << "a reference holding the scored people was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("faces of p0"), std::string::npos) << e.what();
  }
  // Without identities the same store is scored against it.
  with_saved.identities_from_evident_folders = false;
  const auto s = pipeline::compute_deviation(with_saved);
  EXPECT_EQ(s.scored, 30u);
  EXPECT_EQ(s.folds, 0);
}

TEST_F(DeviationStore, MissingMapsOrScoresAreNamed) {
  auto o = options();
  o.cam = "occlusion";
  try {
    (void)pipeline::compute_deviation(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotFound);
    EXPECT_NE(std::string(e.what()).find("no occlusion maps"), std::string::npos) << e.what();
  }
  o = options();
  o.reference_method = "serfiq";
  EXPECT_THROW((void)pipeline::compute_deviation(o), Error);
  o.reference_method = "all";
  EXPECT_EQ(pipeline::compute_deviation(o).scored, 200u);
}

}  // namespace
}  // namespace amva
