#pragma once
// Quality groups of one FIQA method's scores (DESIGN.md, "Groups and per-pixel statistics").
//
// Scores are "higher is better". Rows whose score is NaN are left out. The remaining rows are
// ranked by score ascending. Equal scores that straddle a group boundary (a *tied block*) are
// decided by the rule's tie policy and always reported (BoundaryTie), never silently:
// - random (default): a seeded pseudo-random order within equal scores, independent of the
//   store's row order; groups keep the size asked for, and which tied faces fall in a group
//   no longer follows file order (often identity or source folder, which would bias the
//   group's maps);
// - exclude: the tied block is left out of both groups it straddles (groups shrink);
// - id: the store row id, lower ids ranked lower (the old behaviour; reproducible, but file
//   order decides).
// Threshold bins have no ties: a score equal to a threshold goes to the upper bin.
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
  enum class Ties { Random, Exclude, RowId };
  Ties ties = Ties::Random;
  std::uint64_t tie_seed = 29794;  // Ties::Random

  /// "random", "exclude" or "id"; throws Error(InvalidArgument) otherwise.
  static Ties parse_ties(const std::string& text);
  static std::string to_string(Ties ties);

  /// Parses "top:10" (also "extremes:10" or "10%"), "quantiles:5" or "thresholds:0.2,0.5".
  /// Throws Error(InvalidArgument) with the accepted forms.
  static GroupRule parse(const std::string& text);
  /// The rule in the parse() syntax, e.g. "top:10".
  [[nodiscard]] std::string to_string() const;
  /// A sentence for reports, e.g. "top and bottom 10 % of the ranked scores", with the tie policy.
  [[nodiscard]] std::string describe() const;
};

/// A block of equal scores that straddles the boundary between two adjacent groups.
struct BoundaryTie {
  std::string lower, upper;  // the groups (or "rest" for the ungrouped middle of top:K)
  double score = 0;          // the tied value
  std::size_t tied = 0;      // faces with that score
  std::size_t in_lower = 0;  // of them, ranked below the boundary (left out under Ties::Exclude)
  std::size_t in_upper = 0;
};

struct Group {
  std::string name;                // low, high; q1..qB; bin1..binB+1
  std::vector<std::int64_t> rows;  // ascending row ids
  double score_min = 0;            // NaN for an empty group
  double score_max = 0;
};

/// The groups of `scores` (one per store row, NaN = no score) ordered from lowest to highest
/// quality: the first group is the low-quality one, the last the high-quality one.
/// Throws Error(InvalidArgument) when fewer than two rows have scores. Every tied block at a
/// boundary is appended to `ties` when given.
std::vector<Group> make_groups(const std::vector<double>& scores, const GroupRule& rule,
                               std::vector<BoundaryTie>* ties = nullptr);

}  // namespace amva::stats
