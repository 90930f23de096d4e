#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "amva/error.hpp"
#include "amva/stats/groups.hpp"

using namespace amva;
using stats::GroupRule;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Rows = std::vector<std::int64_t>;
}  // namespace

TEST(Groups, TopAndBottomPercentOnHandMadeScores) {
  // 10 scored rows (row 3 has no score); 20 % -> 2 rows per group.
  const std::vector<double> s = {0.5, 0.1, 0.9, kNaN, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 0.0};
  const auto g = stats::make_groups(s, GroupRule::parse("top:20"));
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].name, "low");
  EXPECT_EQ(g[0].rows, (Rows{1, 10}));
  EXPECT_EQ(g[1].name, "high");
  EXPECT_EQ(g[1].rows, (Rows{2, 7}));
  EXPECT_DOUBLE_EQ(g[0].score_min, 0.0);
  EXPECT_DOUBLE_EQ(g[0].score_max, 0.1);
  EXPECT_DOUBLE_EQ(g[1].score_min, 0.8);
}

TEST(Groups, TiesAreBrokenByRowIdLowerIdsRankLower) {
  // Five equal scores straddle both boundaries: rank order is 0,1,2,3,4 (ids), so the low
  // group takes the lowest ids and the high group the highest.
  const std::vector<double> s = {1, 1, 1, 1, 1, 0, 2};
  const auto g = stats::make_groups(s, GroupRule::parse("top:30"));  // round(2.1) = 2
  EXPECT_EQ(g[0].rows, (Rows{0, 5}));
  EXPECT_EQ(g[1].rows, (Rows{4, 6}));
  // The same scores in another row order give the same groups for the same images.
  const auto again = stats::make_groups(s, GroupRule::parse("30%"));
  EXPECT_EQ(again[0].rows, g[0].rows);
}

TEST(Groups, GroupSizeRoundsAndStaysAtLeastOne) {
  std::vector<double> s(7);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<double>(i);
  EXPECT_EQ(stats::make_groups(s, GroupRule::parse("top:10"))[0].rows.size(), 1u);        // round(0.7) = 1
  EXPECT_EQ(stats::make_groups(s, GroupRule::parse("top:1"))[0].rows.size(), 1u);         // at least one
  EXPECT_EQ(stats::make_groups(s, GroupRule::parse("top:50"))[1].rows, (Rows{4, 5, 6}));  // at most n / 2
}

TEST(Groups, EqualCountQuantileBins) {
  std::vector<double> s(10);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<double>(9 - i);  // row 9 is worst
  const auto g = stats::make_groups(s, GroupRule::parse("quantiles:3"));
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0].name, "q1");
  EXPECT_EQ(g[0].rows, (Rows{7, 8, 9}));     // ranks [0, 3)
  EXPECT_EQ(g[1].rows, (Rows{4, 5, 6}));     // ranks [3, 6)
  EXPECT_EQ(g[2].rows, (Rows{0, 1, 2, 3}));  // ranks [6, 10)
}

TEST(Groups, ThresholdsPutEqualScoresInTheUpperBin) {
  const std::vector<double> s = {0.1, 0.5, 0.2, 0.9, 0.5, kNaN};
  const auto g = stats::make_groups(s, GroupRule::parse("thresholds:0.2,0.5,0.95"));
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(g[0].rows, (Rows{0}));
  EXPECT_EQ(g[1].rows, (Rows{2}));
  EXPECT_EQ(g[2].rows, (Rows{1, 3, 4}));
  EXPECT_TRUE(g[3].rows.empty());
  EXPECT_TRUE(std::isnan(g[3].score_min));
}

TEST(Groups, RulesParseAndRefuseNonsense) {
  EXPECT_EQ(GroupRule::parse("top:10").to_string(), "top:10");
  EXPECT_EQ(GroupRule::parse("quantiles:5").bins, 5);
  EXPECT_EQ(GroupRule::parse("thresholds:-1,2.5").thresholds, (std::vector<double>{-1, 2.5}));
  for (const char* bad :
       {"top:0", "top:60", "top:x", "quantiles:1", "quantiles:2.5", "thresholds:", "thresholds:2,1", "median"}) {
    EXPECT_THROW(GroupRule::parse(bad), Error) << bad;
  }
  EXPECT_THROW(stats::make_groups({kNaN, 1.0}, GroupRule{}), Error);
}
