// Real-data check of the whole foundation: LFW 10-fold verification accuracy from the stored
// embeddings, with the default detector and model, on the official pairs.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "amva/eval/pairs.hpp"
#include "amva/eval/verification.hpp"
#include "amva/pipeline/extract.hpp"
#include "support.hpp"

using namespace amva;

TEST(Lfw, DefaultDetectorAndModelReach99PercentOnThePairs) {
  AMVA_REQUIRE_SHARED();
  const auto lfw = test::shared_dir() / "data" / "lfw";
  const auto pairs = eval::read_lfw_pairs(lfw / "pairs.txt");
  ASSERT_EQ(pairs.size(), 6000u);
  EXPECT_EQ(std::count_if(pairs.begin(), pairs.end(), [](const auto& p) { return p.mated; }), 3000);

  test::TempDir dir;
  std::set<std::string> keys;
  for (const auto& p : pairs) keys.insert({p.a, p.b});
  {
    std::ofstream list(dir / "list.txt");
    for (const auto& k : keys) list << (lfw / "lfw-deepfunneled" / k).string() << '\t' << k << '\n';
  }
  pipeline::ExtractOptions o;
  o.images = dir / "list.txt";
  o.out = dir / "store";
  o.card = test::card();
  o.detector = test::default_detector();
  const auto summary = pipeline::extract(o);
  EXPECT_EQ(summary.faces, keys.size()) << "a face in every pair image";

  // The list gives absolute paths, so keys are those paths; map them back to LFW's keys.
  auto store = store::read_store(dir / "store");
  const std::string prefix = (lfw / "lfw-deepfunneled").string() + "/";
  for (auto& r : store.table.records) r.path = r.path.substr(prefix.size());
  const auto scored = eval::score_pairs(store.table, pairs);
  EXPECT_TRUE(scored.missing.empty());
  const auto acc = eval::kfold_accuracy(scored);
  std::cout << "LFW 10-fold accuracy " << 100 * acc.mean << " % (+- " << 100 * acc.std << ") over "
            << scored.scores.size() << " pairs\n";
  EXPECT_GE(acc.mean, 0.99);

  // On LFW's mostly frontal faces every aligned point sits within 2 px of the template on
  // average, the eyes within 1.5 px.
  std::vector<face::Landmarks5> detected;
  for (const auto& r : store.table.records) detected.push_back(r.detection.landmarks);
  const auto offsets = test::mean_template_offsets(detected);
  std::cout << "mean offset per aligned point (eyes, nose, mouth):";
  for (double o : offsets) std::cout << ' ' << o;
  std::cout << " px\n";
  EXPECT_LT(offsets[0], 1.5);
  EXPECT_LT(offsets[1], 1.5);
  for (double o : offsets) EXPECT_LT(o, 2.0);
}
