#pragma once
// How robust each verdict is to the analyst's choices (issue 29): a specification curve
// (Simonsohn, Simmons and Nelson 2020) per FIQA method. The low-against-high outside verdict
// is recomputed for every combination of the choices the store allows: CAM method x map
// normalisation x group size (top:K) x margin of the central face region. Each
// specification's effect is the scale-free log ratio of the mean outside AM-V, low / high
// (raw differences of `none` and `minmax` maps cannot be compared), with the analysis' own
// identity bootstrap interval, block permutation p-value, Holm correction across the FIQA
// methods and decision table (verdicts.hpp): the specification of the analysis' own settings
// reproduces its verdict, interval and p exactly.
//
// Work is shared where the choices allow it: each CAM method's maps are read once, each
// normalisation is a per-map operation on them, each group size a choice of rows, and the
// margins share one bootstrap and one set of permutations (only the region mask differs).
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "amva/analysis/group_maps.hpp"
#include "amva/progress.hpp"
#include "amva/quality/scores.hpp"
#include "amva/stats/groups.hpp"

namespace amva::analysis {

/// The grid: every combination of these values is one specification.
struct RobustnessGrid {
  std::vector<std::string> cams;  // empty: every CAM method the store holds
  std::vector<Normalization> normalizations{Normalization::MinMax, Normalization::MinMaxNative, Normalization::None};
  std::vector<double> group_percents{5, 10, 20, 25};  // top:K
  std::vector<double> margins{0, 0.25, 0.5};          // of the central face, in inter-eye distances
  int null_draws = 500;                               // of the joint test (JointTest); 0: none
};

/// One specification's verdict (a row of robustness.csv).
struct Specification {
  std::string method, cam;
  Normalization normalization = Normalization::MinMax;
  double group_percent = 10;
  double margin = 0.25;
  std::size_t low = 0, high = 0;  // faces in the two groups
  Interval log_ratio;             // log(outside AM-V low / high), interval at the family's confidence
  Interval outside_difference;    // mean outside AM-V, low - high (in the normalisation's units)
  double p = 1, p_family = 1;     // block permutation p of the outside difference, alone and after Holm
  std::string verdict;            // a word of finding_words()
};

/// How a method's verdict depends on one choice: per value, the specifications with that
/// value and how many of them reproduce the finding.
struct VerdictTurn {
  struct Value {
    std::string value;
    std::size_t reproduced = 0, specifications = 0;
  };
  std::string dimension;  // cam, normalization, group or margin
  std::vector<Value> values;
  double spread = 0;  // largest minus smallest share of `reproduced` over the values
};

/// Whether a long curve manufactures a finding (Simonsohn, Simmons and Nelson's inferential
/// specification curve): the count of specifications whose outside difference is positive and
/// reaches its own permutation threshold at level alpha / methods (the Bonferroni bound of the
/// Holm step), against the same count when the whole curve is recomputed with null scores
/// (scores that cluster by person as the method's do, as the null controls draw them, and
/// carry no information about the maps). The count uses each specification's threshold from
/// the real curve's permutations, not new ones per draw: that is what makes 500 draws of the
/// whole curve affordable, and it is an approximation (the pooled faces differ under null scores).
struct JointTest {
  int draws = 0;
  std::size_t observed = 0;  // specifications beyond their threshold, on the real scores
  double null_mean = 0;      // the same count under null scores, on average over the draws
  double null_95 = 0;        // and its 95th percentile
  double p = 1;              // (1 + draws whose count reaches `observed`) / (1 + draws)
};

/// One method's curve in one line: how often it reproduces, and on which choice that turns
/// (the dimension whose values differ most in their share of reproduced specifications).
struct MethodRobustness {
  std::string method;
  std::size_t reproduced = 0, specifications = 0;
  std::optional<VerdictTurn> turns_on;  // absent when every specification has the same verdict
  std::optional<JointTest> joint;       // with RobustnessGrid::null_draws > 0
  std::string sentence;                 // "reproduced in 14 of 72 specifications; the verdict turns on ..."
};

struct Robustness {
  RobustnessGrid grid;                        // the values of every dimension, as run
  std::vector<Specification> specifications;  // by method, cam, normalisation, group, margin
  std::vector<MethodRobustness> methods;      // in the order of the score columns
  double seconds = 0;                         // what the grid cost, its joint test included
  double joint_seconds = 0;                   // what the joint test cost
};

/// What the grid needs from the analysis: the store, its methods' scores (one per row) and who
/// is in each row, and the settings every specification shares with the analysis.
struct RobustnessInputs {
  std::filesystem::path store;
  std::size_t rows = 0;
  const std::vector<quality::ScoreColumn>* columns = nullptr;
  std::vector<std::int64_t> units;  // the bootstrap and permutation unit of each row; empty: each image its own
  stats::GroupRule group;           // its ties and tie seed; the grid sets the size
  BootstrapOptions bootstrap;
  int permutations = 1000;
  bool family_correction = true;
  double smallest_effect = 0.1;
  Progress progress;  // stage messages
};

/// Runs the grid. Throws Error(NotFound) for a CAM method the store lacks.
Robustness robustness_grid(const RobustnessInputs& inputs, const RobustnessGrid& grid);

/// The value of a choice as robustness.csv and the sentences write it: a CAM method's name,
/// a normalisation's, "top:5", "0.25 d".
std::string margin_label(double margin);

/// One method's line, from its specifications (robustness_grid fills them).
MethodRobustness summarize_robustness(const std::string& method, const std::vector<Specification>& specifications);

}  // namespace amva::analysis
