#pragma once
// Do the low and the high group's maps differ beyond what the choice of faces alone makes?
// Permutation tests that respect who is in the images (DESIGN.md, "Groups and per-pixel
// statistics"; issue 28): the faces of the two groups are pooled, each person's faces in the
// pool form one block (a person with faces in both groups is one block; each image is its own
// block when identities are unknown), and every permutation deals whole blocks to low and
// high in a random order, cutting where the low group's size comes closest to its observed
// size. Images of one person are not independent, and a test that moves them one by one
// calls identity-clustered noise significant (more than half of random, identity-clustered
// score columns got a significant cell that way on wild photos).
//
// Statistics, each recomputed on every permutation:
// - per cell of the native grid, the Brown-Forsythe F of the two groups' values (the same F as
//   the parametric test); the family-wise p of a cell is the share of permutations whose
//   largest F over all cells reaches the cell's observed F (max-T, Westfall and Young), which
//   controls the family-wise error, and so the false discovery rate, over the cells;
// - the mean AM-V outside and inside the central face, low minus high (RegionEvaluator:
//   exact within rounding, without a 112x112 map), with a two-sided p-value;
// - every pixel's AM-V low minus high (the signed D-AM-V), its null band and pointwise p.
// p = (1 + permutations at least as extreme) / (1 + permutations), never 0.
#include <cstddef>
#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

#include "amva/analysis/group_maps.hpp"

namespace amva::analysis {

struct PermutationOptions {
  int permutations = 1000;
  std::uint64_t seed = 29794;  // the test's own stream (stats::stream_seed of the user's seed)
  bool pixel_null = true;      // the per-pixel null band (the null controls need none)
};

/// The two groups' normalised native maps (n x low_pixels each, row-major) and who is in them.
struct PooledGroups {
  const std::vector<float>& low;
  std::size_t n_low;
  const std::vector<float>& high;
  std::size_t n_high;
  // One identity per face of each group; both empty: every image is its own block.
  std::vector<std::int64_t> low_identities, high_identities;
};

struct PermutationTests {
  int permutations = 0;
  // Per cell (h x w CV_64F): the observed F (NaN when undefined), its permutation p alone,
  // and its family-wise (max-T) p over the cells (1 where undefined).
  cv::Mat statistic, p, p_family;
  // Mean AM-V low minus high, outside and inside the central face, and their two-sided p.
  double outside_difference = 0, inside_difference = 0;
  double p_outside = 1, p_inside = 1;
  // |low - high outside| of every permutation, ascending: its (1 - alpha) quantile is the
  // smallest outside difference this design detects at level alpha.
  std::vector<double> null_outside;
  // Per 112x112 pixel (CV_64F): the observed AM-V low - high, the standard deviation of that
  // difference over the permutations (the null band: +-1.96 of it holds about 95 % of noise),
  // and the pointwise two-sided permutation p of the observed difference (empty without
  // PermutationOptions::pixel_null).
  cv::Mat pixel_difference, pixel_null_sd, pixel_p;
  std::size_t blocks = 0, largest_block = 0;
  std::size_t low_size_min = 0, low_size_max = 0;  // of the permuted low groups
};

/// Runs the tests on all cores; the result depends only on the input and the seed. Throws
/// Error(InvalidArgument) for fewer than two faces in a group, mismatched sizes, or a pool
/// whose blocks cannot make two groups of two faces.
PermutationTests permutation_tests(const PooledGroups& groups, const Upsampler& up, const PermutationOptions& options);

/// The outside test alone, under several central-face masks at once (the robustness grid's
/// margins): the same splits as permutation_tests with the same seed, so that under
/// central_face_mask() the difference and p equal its outside_difference and p_outside. One
/// result per mask.
struct OutsideTest {
  double difference = 0;            // mean outside AM-V, low - high
  double p = 1;                     // two-sided
  std::vector<double> null_outside;  // |low - high| of every permutation, ascending
};
std::vector<OutsideTest> outside_tests(const PooledGroups& groups, const Upsampler& up,
                                       const std::vector<cv::Mat>& inside_masks, int permutations,
                                       std::uint64_t seed);

/// The smallest outside difference the design detects at level alpha: the (1 - alpha)
/// quantile of the permutations' |low - high|.
double detectable_difference(const PermutationTests& tests, double alpha);
/// The same from the ascending |low - high| of the permutations.
double detectable_difference(const std::vector<double>& null_outside, double alpha);

}  // namespace amva::analysis
