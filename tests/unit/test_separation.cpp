// Identity separation (d') and its identity bootstrap, against values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "amva/error.hpp"
#include "amva/eval/separation.hpp"

using namespace amva;

// Mated scores 0.8 and 0.6 (mean 0.7, variance 0.01), non-mated 0.1, 0.3, 0.2 and 0.2 (mean
// 0.2, variance 0.005): d' = 0.5 / sqrt(0.0075).
TEST(Separation, DecidabilityByHand) {
  eval::IdentityComparisons c;
  c.add(0, 0, 0.8);
  c.add(1, 1, 0.6);
  c.add(0, 1, 0.1);
  c.add(1, 0, 0.3);
  c.add(0, 2, 0.2);
  c.add(2, 1, 0.2);
  const auto s = c.separation();
  EXPECT_EQ(s.mated, 2);
  EXPECT_EQ(s.nonmated, 4);
  EXPECT_NEAR(s.mated_mean, 0.7, 1e-12);
  EXPECT_NEAR(s.nonmated_mean, 0.2, 1e-12);
  EXPECT_NEAR(s.mated_sd, 0.1, 1e-12);
  EXPECT_NEAR(s.nonmated_sd, std::sqrt(0.005), 1e-12);
  EXPECT_NEAR(s.d_prime, 0.5 / std::sqrt(0.0075), 1e-9);
  EXPECT_EQ(c.identities(), 3);
}

// Drawing identity 0 twice, 1 never and 2 once counts 0's mated comparison twice and the pair
// (0, 2) w0 * w2 = 2 times; every comparison with identity 1 drops out.
TEST(Separation, BootstrapWeightsRepeatIdentities) {
  eval::IdentityComparisons c;
  c.add(0, 0, 0.8);
  c.add(1, 1, 0.6);
  c.add(2, 2, 0.9);
  c.add(0, 1, 0.1);
  c.add(0, 2, 0.3);
  c.add(1, 2, 0.5);
  const auto s = c.separation({2, 0, 1});
  EXPECT_EQ(s.mated, 3);     // 2 x (0, 0) + 1 x (2, 2)
  EXPECT_EQ(s.nonmated, 2);  // 2 x 1 x (0, 2)
  EXPECT_NEAR(s.mated_mean, (2 * 0.8 + 0.9) / 3, 1e-12);
  EXPECT_NEAR(s.nonmated_mean, 0.3, 1e-12);
  EXPECT_EQ(c.separation({1, 1, 1}).d_prime, c.separation().d_prime);
}

TEST(Separation, BootstrapWinShareOfAClearlyBetterScore) {
  eval::IdentityComparisons good, poor;
  for (int i = 0; i < 20; ++i) {
    for (int j = i; j < 20; ++j) {
      const double noise = 0.01 * ((i * 7 + j * 3) % 5);
      good.add(i, j, (i == j ? 0.8 : 0.1) + noise);
      poor.add(i, j, (i == j ? 0.4 : 0.3) + noise);
    }
  }
  EXPECT_EQ(eval::bootstrap_win_share(good, poor, 100, 1), 1.0);
  EXPECT_EQ(eval::bootstrap_win_share(poor, good, 100, 1), 0.0);
  // The same scores tie: never strictly better.
  EXPECT_EQ(eval::bootstrap_win_share(good, good, 100, 1), 0.0);
}

TEST(Separation, OneSidedComparisonsHaveNoDecidability) {
  eval::IdentityComparisons c;
  c.add(0, 0, 0.8);
  c.add(1, 1, 0.6);
  EXPECT_EQ(c.separation().d_prime, 0);
  EXPECT_THROW(c.add(-1, 0, 0.5), Error);
}
