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

TEST(Groups, TiesByRowIdPutLowerIdsLower) {
  // Five equal scores straddle both boundaries: rank order is 0,1,2,3,4 (ids), so the low
  // group takes the lowest ids and the high group the highest.
  const std::vector<double> s = {1, 1, 1, 1, 1, 0, 2};
  auto rule = GroupRule::parse("top:30");  // round(2.1) = 2
  rule.ties = GroupRule::Ties::RowId;
  const auto g = stats::make_groups(s, rule);
  EXPECT_EQ(g[0].rows, (Rows{0, 5}));
  EXPECT_EQ(g[1].rows, (Rows{4, 6}));
}

// Ties at a boundary are counted per boundary whatever the policy.
TEST(Groups, TiesAtBoundariesAreReported) {
  const std::vector<double> s = {1, 1, 1, 1, 1, 0, 2, 3, 4, 5};  // 10 scored, top:20 -> 2 per group
  std::vector<stats::BoundaryTie> ties;
  const auto g = stats::make_groups(s, GroupRule::parse("top:20"), &ties);
  // Ranked: 0 (row 5), then five 1s, then 2..5. The low group's boundary (after rank 2) cuts
  // the block of 1s: one of them below, four above. The high boundary (4 | 5) has no tie.
  ASSERT_EQ(ties.size(), 1u);
  EXPECT_EQ(ties[0].lower, "low");
  EXPECT_EQ(ties[0].upper, "rest");
  EXPECT_EQ(ties[0].score, 1.0);
  EXPECT_EQ(ties[0].tied, 5u);
  EXPECT_EQ(ties[0].in_lower, 1u);
  EXPECT_EQ(ties[0].in_upper, 4u);
  EXPECT_EQ(g[1].rows, (Rows{8, 9}));
  // No ties, no report.
  ties.clear();
  stats::make_groups({0, 1, 2, 3, 4, 5}, GroupRule::parse("quantiles:3"), &ties);
  EXPECT_TRUE(ties.empty());
}

// The default policy orders equal scores by a seeded hash of the row, not by file order:
// groups keep their size, the pick among tied faces is reproducible for a seed and changes
// with the seed, and over many seeds every tied face is picked about equally often.
TEST(Groups, RandomTiesKeepSizesAndDoNotFollowFileOrder) {
  std::vector<double> s(20, 1.0);  // 20 tied faces
  s.push_back(0.0);
  s.push_back(2.0);
  auto rule = GroupRule::parse("top:20");  // round(4.4) = 4 per group
  EXPECT_EQ(rule.ties, GroupRule::Ties::Random);
  const auto a = stats::make_groups(s, rule);
  EXPECT_EQ(a[0].rows.size(), 4u);
  EXPECT_EQ(stats::make_groups(s, rule)[0].rows, a[0].rows);  // reproducible
  std::vector<int> picked(20, 0);
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    rule.tie_seed = seed;
    const auto groups = stats::make_groups(s, rule);
    for (const auto r : groups[0].rows) {
      if (r < 20) ++picked[static_cast<std::size_t>(r)];
    }
  }
  // 3 tied faces of 20 per draw: 60 expected picks each; file order would give rows 0-2 all 400.
  for (int k : picked) {
    EXPECT_GT(k, 25);
    EXPECT_LT(k, 100);
  }
}

TEST(Groups, ExcludedTiesLeaveBothGroups) {
  const std::vector<double> s = {1, 1, 1, 1, 1, 0, 2, 3, 4, 5};
  auto rule = GroupRule::parse("top:20");
  rule.ties = GroupRule::Ties::Exclude;
  const auto g = stats::make_groups(s, rule);
  EXPECT_EQ(g[0].rows, (Rows{5}));  // the tied 1s are out
  EXPECT_EQ(g[1].rows, (Rows{8, 9}));
  // A tied block on a quantile boundary leaves both neighbours.
  const std::vector<double> q = {0, 1, 2, 2, 3, 4};  // quantiles:2 cut between ranks 2 and 3: the 2s
  auto halves = GroupRule::parse("quantiles:2");
  halves.ties = GroupRule::Ties::Exclude;
  const auto h = stats::make_groups(q, halves);
  EXPECT_EQ(h[0].rows, (Rows{0, 1}));
  EXPECT_EQ(h[1].rows, (Rows{4, 5}));
  EXPECT_EQ(GroupRule::parse_ties("exclude"), GroupRule::Ties::Exclude);
  EXPECT_THROW(GroupRule::parse_ties("first"), Error);
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
