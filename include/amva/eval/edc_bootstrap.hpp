#pragma once
// Uncertainty of EDC pAUC values: bootstrap resamples of the comparisons, the same resample
// for every FIQA method (so that method differences are paired), and the decision threshold
// held where the study fixed it. Held, not refitted: the EDC's threshold is an operating point
// chosen once; refitting it in each resample (at FMR 1e-3 on a few thousand non-mated
// comparisons it rests on a handful of false matches) would add the threshold's own jitter
// to every curve and blur the comparison of the FIQA rankings the intervals are for.
//
// Resampling units: identities when known (people, not images, are the independent units:
// every comparison of a person moves with them), else images. A replicate draws the units
// with replacement; a comparison then counts m_u times when both faces are of unit u, and
// m_u m_v times when they are of units u and v (as the pairs among the copies would).
#include <cstdint>
#include <vector>

#include "amva/eval/comparisons.hpp"

namespace amva::eval {

struct EdcBootstrapInput {
  const ComparisonSet* comparisons = nullptr;
  std::vector<const std::vector<double>*> method_scores;  // per method: one score per store row
  std::vector<std::int64_t> unit_of_row;                  // per store row: its resampling unit (Identities::unit_of)
  double threshold = 0;
  std::vector<double> limits;  // pAUC discard limits
  std::vector<double> grid;    // discard fractions where the curve bands are sampled
  int replicates = 1000;
  std::uint64_t seed = 29794;
  double confidence = 0.95;
};

struct EdcReplicates {
  std::size_t units = 0;  // resampling units present in the comparisons
  // [method][limit][replicate]: pAUC, and pAUC minus the replicate's own ideal area
  std::vector<std::vector<std::vector<double>>> fnm_pauc, fm_pauc, fnm_above_ideal, fm_above_ideal;
  // [method][grid point]: percentile band of the curves
  std::vector<std::vector<double>> fnm_lo, fnm_hi, fm_lo, fm_hi;
};

/// Runs the replicates on all cores; the result does not depend on the number of threads.
EdcReplicates bootstrap_edc(const EdcBootstrapInput& input);

}  // namespace amva::eval
