#pragma once
// The words of amva's low-against-high verdicts, each with its one definition. The decision
// functions below, summary.json (comparison.definitions), the terminal, the report and the
// definitions in docs/definitions.md all read this table, so that a word never means two things.
#include <limits>
#include <string>
#include <vector>

#include "amva/analysis/group_maps.hpp"

namespace amva::analysis {

struct VerdictWord {
  std::string word;
  std::string definition;
};

/// Whether the low group's maps vary more outside the central face than the high group's
/// (summary.json: comparison.finding): reproduced, reversed, negligible, inconclusive, not
/// enough images.
const std::vector<VerdictWord>& finding_words();
/// Whether that extra variation is specific to outside the face (comparison.specificity):
/// specific to outside, general, larger inside, undetermined, absent, not enough images.
const std::vector<VerdictWord>& specificity_words();
/// The definition of `word` in either table; throws Error(NotFound) for a word in neither.
const std::string& definition_of(const std::string& word);

/// What a method's verdicts rest on. An interval left unknown (NaN) does not take part: the
/// null controls, which have no bootstrap, are judged by their permutation test alone, which
/// is never stricter than the test and the interval together.
struct RegionEvidence {
  static constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();
  bool enough_images = false;                               // both groups have two faces
  double outside_difference = 0;                            // mean outside AM-V, low - high
  Interval outside_interval{kUnknown, kUnknown, kUnknown};  // its bootstrap interval at the family's level
  double p_family = 1;                                      // its permutation p after the family correction
  double alpha = 0.05;                                      // the level of the verdicts
  Interval log_ratio{kUnknown, kUnknown, kUnknown};  // log(outside AM-V low / high), interval at the family's level
  double smallest_effect = 0.1;                      // |log ratio| below which a difference is negligible
  Interval inside_difference{kUnknown, kUnknown, kUnknown};     // mean inside AM-V, low - high
  Interval outside_minus_inside{kUnknown, kUnknown, kUnknown};  // (low - high outside) - (low - high inside)
};

std::string decide_finding(const RegionEvidence& evidence);
std::string decide_specificity(const RegionEvidence& evidence, const std::string& finding);

}  // namespace amva::analysis
