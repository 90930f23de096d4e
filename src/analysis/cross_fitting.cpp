#include "amva/analysis/cross_fitting.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "amva/analysis/reference.hpp"
#include "amva/error.hpp"
#include "amva/stats/random_streams.hpp"

namespace amva::analysis {

std::vector<int> assign_folds(const std::vector<std::int64_t>& unit_of_row, int folds, std::uint64_t seed) {
  if (folds < 2)
    throw Error(ErrorCode::InvalidArgument, fmt::format("cross-fitting needs 2 or more folds, not {}", folds));
  std::vector<std::int64_t> units = unit_of_row;
  std::sort(units.begin(), units.end());
  units.erase(std::unique(units.begin(), units.end()), units.end());
  if (units.size() < static_cast<std::size_t>(folds)) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{} folds need at least {} people (or faces, without identities); there are {}", folds,
                            folds, units.size()));
  }
  // std::shuffle's algorithm is the library's own; a Fisher-Yates with the portable engine keeps
  // the folds the same on every platform.
  std::mt19937_64 rng(stats::stream_seed(seed, "folds"));
  for (std::size_t i = units.size(); i > 1; --i) std::swap(units[i - 1], units[rng() % i]);
  std::map<std::int64_t, int> fold_of_unit;
  for (std::size_t i = 0; i < units.size(); ++i) fold_of_unit[units[i]] = static_cast<int>(i % folds);
  std::vector<int> fold(unit_of_row.size());
  for (std::size_t r = 0; r < unit_of_row.size(); ++r) fold[r] = fold_of_unit[unit_of_row[r]];
  return fold;
}

namespace {

std::vector<float> normalized_rows(const std::vector<float>& maps, const std::vector<std::int64_t>& rows, std::size_t d,
                                   Normalization normalization, const Upsampler& up) {
  std::vector<float> out(rows.size() * d);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    std::copy_n(maps.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(rows[k]) * d), d,
                out.begin() + static_cast<std::ptrdiff_t>(k * d));
  }
  normalize_maps(out.data(), rows.size(), normalization, up);
  return out;
}

// The candidates of a fold's reference: the other folds' faces with a map (and a score).
std::vector<std::int64_t> reference_of(const CrossFitResult& fit, int fold, const std::vector<double>& scores,
                                       const CrossFitOptions& opt, FoldReference& ref) {
  std::vector<double> candidate_scores(scores.size(), std::numeric_limits<double>::quiet_NaN());
  std::size_t candidates = 0;
  for (std::size_t r = 0; r < fit.fold_of_row.size(); ++r) {
    if (fit.fold_of_row[r] < 0 || fit.fold_of_row[r] == fold) continue;
    if (opt.all_faces) {
      ref.reference_rows.push_back(static_cast<std::int64_t>(r));
    } else if (std::isfinite(scores[r])) {
      candidate_scores[r] = scores[r];
      ++candidates;
    }
  }
  ref.score_min = ref.score_max = std::numeric_limits<double>::quiet_NaN();
  if (opt.all_faces || candidates < 2) return ref.reference_rows;
  const auto groups = stats::make_groups(candidate_scores, opt.high_group);
  ref.reference_rows = groups.back().rows;
  ref.score_min = groups.back().score_min;
  ref.score_max = groups.back().score_max;
  return ref.reference_rows;
}

}  // namespace

std::vector<double> deviations_from(const std::vector<float>& maps, int h, int w, Normalization normalization,
                                    const cv::Mat& mam, const cv::Mat& amv, double eps) {
  const Upsampler up(h, w);
  const auto d = static_cast<std::size_t>(up.low_pixels());
  std::vector<float> normalized = maps;
  const std::size_t n = d ? normalized.size() / d : 0;
  normalize_maps(normalized.data(), n, normalization, up);
  return deviation_scores(normalized, n, up, mam, amv, eps);
}

CrossFitResult cross_fitted_deviations(const std::vector<float>& maps, int h, int w, const std::vector<bool>& has_map,
                                       const std::vector<double>& reference_scores,
                                       const std::vector<std::int64_t>& unit_of_row, const CrossFitOptions& opt) {
  const std::size_t rows = has_map.size();
  const Upsampler up(h, w);
  const auto d = static_cast<std::size_t>(up.low_pixels());
  if (maps.size() != rows * d || unit_of_row.size() != rows || reference_scores.size() != rows) {
    throw Error(ErrorCode::InvalidArgument, "cross-fitting needs one map, unit and score per row");
  }
  std::vector<std::int64_t> units;
  std::vector<std::size_t> mapped;
  for (std::size_t r = 0; r < rows; ++r) {
    if (!has_map[r]) continue;
    mapped.push_back(r);
    units.push_back(unit_of_row[r]);
  }
  const auto fold_of_mapped = assign_folds(units, opt.folds, opt.seed);

  CrossFitResult fit;
  fit.deviation.assign(rows, std::numeric_limits<double>::quiet_NaN());
  fit.fold_of_row.assign(rows, -1);
  for (std::size_t k = 0; k < mapped.size(); ++k) fit.fold_of_row[mapped[k]] = fold_of_mapped[k];

  GroupStatisticsOptions stats_options;
  for (int fold = 0; fold < opt.folds; ++fold) {
    FoldReference ref;
    ref.fold = fold;
    for (std::size_t r = 0; r < rows; ++r) {
      if (fit.fold_of_row[r] == fold) ref.scored_rows.push_back(static_cast<std::int64_t>(r));
    }
    reference_of(fit, fold, reference_scores, opt, ref);
    if (ref.reference_rows.size() < 2) {
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("fold {} of {}: its reference would hold {} face(s), and a deviation is measured in "
                              "units of the reference's variation (at least 2); use fewer folds or a larger group",
                              fold + 1, opt.folds, ref.reference_rows.size()));
    }
    const auto reference_maps = normalized_rows(maps, ref.reference_rows, d, opt.normalization, up);
    auto stats = group_statistics(reference_maps, ref.reference_rows.size(), up, stats_options);
    ref.mam = stats.mam;
    ref.median = stats.median;
    ref.amv = stats.amv.clone();
    for (auto it = ref.amv.begin<double>(); it != ref.amv.end<double>(); ++it) *it = std::isnan(*it) ? 0.0 : *it;
    ref.eps = reference_eps(ref.mam, ref.amv);
    ref.reference_deviations =
        deviation_scores(reference_maps, ref.reference_rows.size(), up, ref.mam, ref.amv, ref.eps);
    const auto scored_maps = normalized_rows(maps, ref.scored_rows, d, opt.normalization, up);
    const auto scored = deviation_scores(scored_maps, ref.scored_rows.size(), up, ref.mam, ref.amv, ref.eps);
    for (std::size_t k = 0; k < scored.size(); ++k)
      fit.deviation[static_cast<std::size_t>(ref.scored_rows[k])] = scored[k];
    fit.folds.push_back(std::move(ref));
  }
  return fit;
}

}  // namespace amva::analysis
