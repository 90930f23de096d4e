// Inputs that are well-formed but wrong (issue 11, item 7): each is a clear error naming the
// file and line or field, or a counted, reported exclusion; none passes silently.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "amva/error.hpp"
#include "amva/eval/comparisons.hpp"
#include "amva/eval/identities.hpp"
#include "amva/eval/verification.hpp"
#include "amva/model/model_card.hpp"
#include "support.hpp"

using namespace amva;

namespace {
bool any_contains(const std::vector<std::string>& v, const std::string& what) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.find(what) != std::string::npos; });
}
}  // namespace

TEST(Validation, UnusableEmbeddingsSelfPairsAndContradictionsAreExcludedWithTheirReason) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<store::IndexEntry> index = {
      {"a.jpg", true}, {"b.jpg", true}, {"c.jpg", true}, {"d.jpg", true}, {"e.jpg", true}};
  io::NpyArray e;
  e.shape = {5, 2};
  e.data = {1, 0, 1, 0.1f, nan, 0, 0, 0, 0, 1};
  const std::vector<eval::Pair> pairs = {{"a.jpg", "b.jpg", true, 0, {}, {}},  {"a.jpg", "a.jpg", true, 0, {}, {}},
                                         {"a.jpg", "c.jpg", false, 0, {}, {}}, {"b.jpg", "d.jpg", false, 0, {}, {}},
                                         {"b.jpg", "a.jpg", false, 0, {}, {}}, {"a.jpg", "e.jpg", false, 0, {}, {}}};
  const auto set = eval::compare_pairs(index, e, pairs);
  ASSERT_EQ(set.comparisons.size(), 1u);  // only a | e is sound
  EXPECT_EQ(set.comparisons[0].b, 4);
  EXPECT_NEAR(set.comparisons[0].score, 0.0, 1e-12);
  EXPECT_TRUE(any_contains(set.excluded, "self-pair"));
  EXPECT_TRUE(any_contains(set.excluded, "c.jpg: embedding is NaN, infinite or zero"));
  EXPECT_TRUE(any_contains(set.excluded, "d.jpg: embedding is NaN, infinite or zero"));
  EXPECT_EQ(std::count_if(set.excluded.begin(), set.excluded.end(),
                          [](const std::string& s) { return s.find("both as mated and as non-mated") != s.npos; }),
            2);
}

TEST(Validation, AnImageWithTwoIdentitiesIsAnErrorNamingTheLine) {
  test::TempDir dir;
  std::ofstream(dir / "labels.txt") << "a.jpg alice\nb.jpg bob\na.jpg carol\n";
  const std::vector<store::IndexEntry> index = {{"a.jpg", true}, {"b.jpg", true}};
  eval::IdentitySource source;
  source.labels = dir / "labels.txt";
  try {
    eval::read_identities(index, source);
    FAIL() << "two identities accepted";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("labels.txt:3: a.jpg is given two identities"), std::string::npos)
        << err.what();
  }
}

TEST(Validation, OneFoldCannotGiveKFoldAccuracy) {
  eval::ScoredPairs s;
  s.scores = {0.9, 0.1};
  s.mated = {true, false};
  s.folds = {0, 0};
  EXPECT_THROW(eval::kfold_accuracy(s), Error);
}

TEST(Validation, ModelCardMeanAndStdAreChecked) {
  test::TempDir dir;
  const auto card = [&](const std::string& mean, const std::string& stddev) {
    std::ofstream(dir / "card.json") << fmt::format(
        R"({{"name": "x", "file": "{}", "input": {{"name": "data", "width": 112, "height": 112,
            "channel_order": "BGR", "mean": {}, "std": {}}}, "embedding_output": "fc1"}})",
        (test::models_dir() / "fr_feature.onnx").string(), mean, stddev);
    return dir / "card.json";
  };
  for (const auto& [mean, stddev, what] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"[127, 127]", "[128, 128, 128]", "input.mean must be 3 numbers"},
           {"[127, 127, 127, 1]", "[128, 128, 128]", "input.mean must be 3 numbers"},
           {"[127, 127, 127]", "[128, 0, 128]", "input.std must be positive"},
           {"[127, 127, 127]", "[128, -1, 128]", "input.std must be positive"}}) {
    try {
      model::ModelCard::load(card(mean, stddev), test::models_dir());
      FAIL() << mean << " " << stddev;
    } catch (const Error& err) {
      EXPECT_NE(std::string(err.what()).find(what), std::string::npos) << err.what();
    }
  }
}
