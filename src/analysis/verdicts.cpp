#include "amva/analysis/verdicts.hpp"

#include <fmt/format.h>

#include <cmath>

#include "amva/error.hpp"

namespace amva::analysis {

const std::vector<VerdictWord>& finding_words() {
  static const std::vector<VerdictWord> words = {
      {"reproduced",
       "the low group's maps vary more outside the central face than the high group's (the seed paper's finding): "
       "the permutation test of the mean outside AM-V, low - high (whole people moved between the groups when "
       "identities are known), has p <= alpha after the family correction across the run's methods, and the "
       "difference's bootstrap interval at the family's level lies above 0"},
      {"reversed", "as reproduced, with the interval below 0: the high group's maps vary more outside the face"},
      {"negligible",
       "not significant, and the interval of log(outside AM-V low / high), at the family's level, lies within "
       "+-smallest effect: any difference is smaller than that"},
      {"inconclusive",
       "not significant, and the interval of the log ratio reaches beyond +-smallest effect: too little data to tell "
       "an effect of that size from none"},
      {"not enough images",
       "a group has fewer than two faces, or (in the robustness grid) the two groups' people are too few to deal "
       "into two groups of two faces"},
  };
  return words;
}

const std::vector<VerdictWord>& specificity_words() {
  static const std::vector<VerdictWord> words = {
      {"specific to outside",
       "reproduced, and the interval of (low - high outside) - (low - high inside) lies above 0: the low group's "
       "extra variation is larger outside the face than inside"},
      {"general",
       "reproduced, the interval of (low - high outside) - (low - high inside) contains 0 and the inside "
       "difference's interval lies above 0: the low group varies more inside the face as well, by a similar amount"},
      {"larger inside",
       "reproduced, and the interval of (low - high outside) - (low - high inside) lies below 0: the extra "
       "variation is larger inside the face"},
      {"undetermined",
       "reproduced, but neither the difference of the differences nor the inside difference is established"},
      {"absent", "the finding is not reproduced: there is no extra outside variation to locate"},
      {"not enough images",
       "a group has fewer than two faces, or (in the robustness grid) the two groups' people are too few to deal "
       "into two groups of two faces"},
  };
  return words;
}

const std::string& definition_of(const std::string& word) {
  for (const auto* table : {&finding_words(), &specificity_words()}) {
    for (const auto& w : *table) {
      if (w.word == word) return w.definition;
    }
  }
  throw Error(ErrorCode::NotFound, fmt::format("no verdict is called '{}'", word));
}

std::string decide_finding(const RegionEvidence& e) {
  if (!e.enough_images) return "not enough images";
  // Both the test and the interval must agree, so that a verdict never shows an interval that contradicts it.
  const bool significant = e.p_family <= e.alpha;
  const bool interval_known = std::isfinite(e.outside_interval.lo) && std::isfinite(e.outside_interval.hi);
  if (significant && e.outside_difference > 0 && (!interval_known || e.outside_interval.lo > 0)) return "reproduced";
  if (significant && e.outside_difference < 0 && (!interval_known || e.outside_interval.hi < 0)) return "reversed";
  if (std::isfinite(e.log_ratio.lo) && std::isfinite(e.log_ratio.hi) && e.log_ratio.lo >= -e.smallest_effect &&
      e.log_ratio.hi <= e.smallest_effect) {
    return "negligible";
  }
  return "inconclusive";
}

std::string decide_specificity(const RegionEvidence& e, const std::string& finding) {
  if (!e.enough_images) return "not enough images";
  if (finding != "reproduced") return "absent";
  if (e.outside_minus_inside.lo > 0) return "specific to outside";
  if (e.outside_minus_inside.hi < 0) return "larger inside";
  if (e.inside_difference.lo > 0) return "general";
  return "undetermined";
}

}  // namespace amva::analysis
