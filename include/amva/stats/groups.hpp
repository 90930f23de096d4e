#pragma once
// Quality groups of one FIQA method's scores (DESIGN.md, "Groups and per-pixel statistics").
//
// Scores are "higher is better". Rows whose score is NaN are left out. The remaining rows are
// ranked by score ascending; ties are broken by the store row id, ascending (the store's
// canonical path order), so that the result never depends on sort stability or threads: of
// equal scores at a group boundary, the lower ids go to the lower-quality group.
#include <cstdint>
#include <string>
#include <vector>

namespace amva::stats {

struct GroupRule {
  enum class Kind {
    Extremes,    // "low" = bottom k %, "high" = top k % of the ranked rows
    Quantiles,   // equal-count bins q1 (lowest) .. qB
    Thresholds,  // bins bin1 = (-inf, t1), bin2 = [t1, t2), ..., binB+1 = [tB, inf)
  };
  Kind kind = Kind::Extremes;
  double percent = 10;             // Extremes: k, in (0, 50]; the group size is round(k n / 100), at least 1
  int bins = 5;                    // Quantiles: B >= 2; bin j holds ranks [floor(j n / B), floor((j+1) n / B))
  std::vector<double> thresholds;  // Thresholds: strictly ascending

  /// Parses "top:10" (also "extremes:10" or "10%"), "quantiles:5" or "thresholds:0.2,0.5".
  /// Throws Error(InvalidArgument) with the accepted forms.
  static GroupRule parse(const std::string& text);
  /// The rule in the parse() syntax, e.g. "top:10".
  [[nodiscard]] std::string to_string() const;
  /// A sentence for reports, e.g. "top and bottom 10 % of the ranked scores".
  [[nodiscard]] std::string describe() const;
};

struct Group {
  std::string name;                // low, high; q1..qB; bin1..binB+1
  std::vector<std::int64_t> rows;  // ascending row ids
  double score_min = 0;            // NaN for an empty group
  double score_max = 0;
};

/// The groups of `scores` (one per store row, NaN = no score) ordered from lowest to highest
/// quality: the first group is the low-quality one, the last the high-quality one.
/// Throws Error(InvalidArgument) when fewer than two rows have scores.
std::vector<Group> make_groups(const std::vector<double>& scores, const GroupRule& rule);

}  // namespace amva::stats
