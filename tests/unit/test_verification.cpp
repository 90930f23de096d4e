#include <gtest/gtest.h>

#include <fstream>

#include "amva/error.hpp"
#include "amva/eval/pairs.hpp"
#include "amva/eval/verification.hpp"
#include "support.hpp"

using namespace amva;

TEST(Pairs, ParsesLfwLinesIntoKeysAndFolds) {
  test::TempDir dir;
  std::ofstream(dir / "pairs.txt") << "2 1\nAbel_Pacheco 1 4\nAbel_Pacheco 1 Bob 2\nCarl 3 5\nAnn 1 Carl 2\n";
  const auto pairs = eval::read_lfw_pairs(dir / "pairs.txt");
  ASSERT_EQ(pairs.size(), 4u);
  EXPECT_EQ(pairs[0].a, "Abel_Pacheco/Abel_Pacheco_0001.jpg");
  EXPECT_EQ(pairs[0].b, "Abel_Pacheco/Abel_Pacheco_0004.jpg");
  EXPECT_TRUE(pairs[0].mated);
  EXPECT_FALSE(pairs[1].mated);
  EXPECT_EQ(pairs[1].b, "Bob/Bob_0002.jpg");
  EXPECT_EQ(pairs[2].fold, 1);
}

TEST(Pairs, MalformedLineIsNamedWithItsNumber) {
  test::TempDir dir;
  std::ofstream(dir / "pairs.txt") << "1 1\nAbel 1 4\nAbel x Bob\n";
  try {
    eval::read_lfw_pairs(dir / "pairs.txt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pairs.txt:3"), std::string::npos) << e.what();
  }
}

TEST(Verification, KFoldAccuracyOnHandMadeScores) {
  // Two folds. Fold 0 is separable at 0.5; fold 1 has one mated pair below every threshold
  // that fold 0 would pick, so its accuracy is 3/4.
  eval::ScoredPairs s;
  s.scores = {0.9, 0.8, 0.2, 0.1, 0.7, 0.3, 0.25, 0.05};
  s.mated = {true, true, false, false, true, true, false, false};
  s.folds = {0, 0, 0, 0, 1, 1, 1, 1};
  const auto acc = eval::kfold_accuracy(s);
  ASSERT_EQ(acc.per_fold.size(), 2u);
  EXPECT_DOUBLE_EQ(acc.per_fold[0], 1.0);   // threshold from fold 1: between 0.25 and 0.3
  EXPECT_DOUBLE_EQ(acc.per_fold[1], 0.75);  // threshold from fold 0: between 0.2 and 0.8 -> 0.5
  EXPECT_DOUBLE_EQ(acc.mean, 0.875);
}
