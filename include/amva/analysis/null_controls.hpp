#pragma once
// Built-in null controls (issue 28): score columns that carry no information about the maps
// but cluster by person as real quality scores do, analysed like a real method, so that every
// run measures how often its own verdicts would call noise an effect on this very data.
//
// Control j's score of a face is sqrt(icc) u + sqrt(1 - icc) e: u a standard normal effect of
// the face's person (its own when unknown), e a standard normal effect of the face, icc the
// intra-class correlation of real method j mod m (one-way ANOVA over the known identities; 0
// without identities, when the controls cannot cluster as the real scores do). Its groups
// follow the run's group rule, and its verdicts the same permutation tests and the same
// decision table as a real method, each control judged alone at level alpha (the controls are
// not in the real methods' family). A binomial test says whether the count of controls with a
// false verdict (reproduced or reversed), or with a significant cell, exceeds the nominal
// rate: a calibrated run then warns in about one run of twenty, not in a quarter.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "amva/analysis/group_maps.hpp"
#include "amva/stats/groups.hpp"

namespace amva::analysis {

struct NullControlOptions {
  int count = 20;
  std::uint64_t seed = 29794;  // the user's seed; control j draws from its own stream
  double alpha = 0.05;         // of the region verdicts (1 - the confidence)
  double cell_level = 0.05;    // of the per-cell tests (--fdr)
  int permutations = 1000;
};

struct NullControl {
  std::string name;  // null_1, null_2, ...
  double icc = 0;    // the intra-class correlation its scores were drawn with
  std::string finding;
  double outside_difference = 0, p_outside = 1;
  std::size_t significant_cells = 0;
};

struct NullControls {
  std::vector<NullControl> controls;
  double alpha = 0.05, cell_level = 0.05;
  std::size_t false_verdicts = 0, with_significant_cell = 0;
  // P(at least this many) for Binomial(controls, level): below 0.05 the run warns.
  double p_false_verdicts = 1, p_significant_cell = 1;
  bool identities = false;  // whether the scores clustered by known identities
  [[nodiscard]] bool warns_verdicts() const { return p_false_verdicts < 0.05; }
  [[nodiscard]] bool warns_cells() const { return p_significant_cell < 0.05; }
};

/// ICC(1) of `scores` grouped by `identity` (both one per row; NaN scores and identities < 0
/// left out), clamped to [0, 0.99]; 0 when fewer than two people or no person with two faces.
double intraclass_correlation(const std::vector<double>& scores, const std::vector<std::int64_t>& identity);

/// One control's scores: sqrt(icc) u + sqrt(1 - icc) e for each of `rows` (NaN for the other
/// of `records` rows), u drawn once per person of `identity_of_row` (its own when -1 or when
/// the vector is empty), all from the stream `seed`.
std::vector<double> null_scores(const std::vector<std::int64_t>& rows, std::size_t records,
                                const std::vector<std::int64_t>& identity_of_row, double icc, std::uint64_t seed);

/// Draws and analyses the controls. `maps` holds the normalised native maps of `rows` (store
/// ids, ascending), the faces a control scores; `identity_of_row` has one identity per store
/// row (-1 unknown) or is empty; `iccs` one per real method (empty: 0).
NullControls run_null_controls(const std::vector<float>& maps, const std::vector<std::int64_t>& rows,
                               std::size_t records, const std::vector<std::int64_t>& identity_of_row,
                               const std::vector<double>& iccs, const stats::GroupRule& rule, const Upsampler& up,
                               const NullControlOptions& options);

}  // namespace amva::analysis
