#include "amva/eval/edc.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "amva/error.hpp"
#include "amva/stats/distributions.hpp"

namespace amva::eval {
namespace {
// A comparison at the threshold errs as a non-match when mated (FNM) or as a match when not (FM).
bool is_error(EdcError kind, double similarity, double threshold) {
  return kind == EdcError::Fnmr ? similarity < threshold : similarity >= threshold;
}
}  // namespace

double EdcCurve::at(double x) const {
  if (discard.empty()) return 0.0;
  const auto it = std::upper_bound(discard.begin(), discard.end(), x);
  return error[static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, it - discard.begin() - 1))];
}

WeightedEdc::WeightedEdc(EdcError kind, const std::vector<double>& similarity, const std::vector<double>& pair_quality,
                         double threshold) {
  if (similarity.size() != pair_quality.size()) {
    throw Error(ErrorCode::InvalidArgument, "an EDC needs one pairwise quality per comparison");
  }
  // Sorting (quality, index) pairs keeps the comparisons next to their keys.
  std::vector<std::pair<double, std::size_t>> keyed(similarity.size());
  for (std::size_t i = 0; i < keyed.size(); ++i) keyed[i] = {pair_quality[i], i};
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  order_.reserve(keyed.size());
  tie_group_.reserve(keyed.size());
  error_.reserve(keyed.size());
  std::uint32_t group = 0;
  for (std::size_t k = 0; k < keyed.size(); ++k) {
    const auto [quality, i] = keyed[k];
    if (k > 0 && quality != keyed[k - 1].first) ++group;
    order_.push_back(i);
    tie_group_.push_back(group);
    error_.push_back(is_error(kind, similarity[i], threshold));
  }
}

WeightedEdc::WeightedEdc(EdcError kind, const std::vector<double>& similarity,
                         const std::vector<std::pair<std::size_t, std::size_t>>& faces,
                         const std::vector<double>& face_scores, double threshold) {
  if (similarity.size() != faces.size()) {
    throw Error(ErrorCode::InvalidArgument, "an EDC needs the two faces of every comparison");
  }
  const auto lower = [&](const std::pair<std::size_t, std::size_t>& f) {
    return std::min(face_scores.at(f.first), face_scores.at(f.second));
  };
  if (std::any_of(face_scores.begin(), face_scores.end(), [](double q) { return std::isnan(q); })) {
    std::vector<double> pair_quality;
    pair_quality.reserve(faces.size());
    for (const auto& f : faces) pair_quality.push_back(lower(f));
    *this = WeightedEdc(kind, similarity, pair_quality, threshold);
    return;
  }
  // Faces by ascending score, equal scores sharing a rank; a comparison's quality is its lower
  // face's score, so its rank is the lower of its faces' ranks.
  std::vector<std::size_t> by_score(face_scores.size());
  std::iota(by_score.begin(), by_score.end(), std::size_t{0});
  std::sort(by_score.begin(), by_score.end(), [&](auto i, auto j) { return face_scores[i] < face_scores[j]; });
  std::vector<std::uint32_t> rank(face_scores.size());
  std::uint32_t r = 0;
  for (std::size_t k = 0; k < by_score.size(); ++k) {
    if (k > 0 && face_scores[by_score[k]] != face_scores[by_score[k - 1]]) ++r;
    rank[by_score[k]] = r;
  }
  const std::size_t ranks = by_score.empty() ? 0 : r + 1;
  // Counting sort of the comparisons by rank; ranks no comparison reaches get no tie group.
  std::vector<std::size_t> start(ranks + 1, 0);
  std::vector<std::uint32_t> rank_of(faces.size());
  for (std::size_t i = 0; i < faces.size(); ++i) {
    rank_of[i] = std::min(rank.at(faces[i].first), rank.at(faces[i].second));
    ++start[rank_of[i] + 1];
  }
  std::vector<std::uint32_t> group_of_rank(ranks, 0);
  std::uint32_t group = 0;
  for (std::size_t q = 0; q < ranks; ++q) {
    group_of_rank[q] = group;
    if (start[q + 1] > 0) ++group;
    start[q + 1] += start[q];
  }
  order_.resize(faces.size());
  for (std::size_t i = 0; i < faces.size(); ++i) order_[start[rank_of[i]]++] = i;
  tie_group_.reserve(faces.size());
  error_.reserve(faces.size());
  for (const auto i : order_) {
    tie_group_.push_back(group_of_rank[rank_of[i]]);
    error_.push_back(is_error(kind, similarity[i], threshold));
  }
}

EdcCurve WeightedEdc::curve(const std::vector<double>& weights) const {
  if (weights.size() != order_.size())
    throw Error(ErrorCode::InvalidArgument, "an EDC needs one weight per comparison");
  std::vector<double> weight(groups(), 0.0), errors(groups(), 0.0);
  for (std::size_t k = 0; k < order_.size(); ++k) {
    const double w = weights[order_[k]];
    weight[tie_group_[k]] += w;
    errors[tie_group_[k]] += error_[k] ? w : 0.0;
  }
  EdcCurve c;
  curve_from_groups(weight.data(), errors.data(), c);
  return c;
}

void WeightedEdc::curve_from_groups(const double* group_weight, const double* group_errors, EdcCurve& c) const {
  const std::size_t n = groups();
  c.discard.clear();
  c.error.clear();
  double total = 0, errors = 0;
  for (std::size_t g = 0; g < n; ++g) {
    total += group_weight[g];
    errors += group_errors[g];
  }
  c.comparisons = static_cast<std::size_t>(std::llround(total));
  if (!(total > 0)) return;
  // A step starts where the quality changes: equal qualities are discarded together.
  double discarded = 0, discarded_errors = 0;
  for (std::size_t g = 0; g < n; ++g) {
    if (group_weight[g] == 0) continue;
    c.discard.push_back(discarded / total);
    c.error.push_back((errors - discarded_errors) / (total - discarded));
    discarded += group_weight[g];
    discarded_errors += group_errors[g];
  }
  c.discard.push_back(1.0);
  c.error.push_back(0.0);
}

EdcCurve edc_curve(EdcError kind, const std::vector<double>& similarity, const std::vector<double>& pair_quality,
                   double threshold) {
  return WeightedEdc(kind, similarity, pair_quality, threshold).curve(std::vector<double>(similarity.size(), 1.0));
}

double edc_pauc(const EdcCurve& c, double limit) {
  if (!(limit >= 0 && limit <= 1)) throw Error(ErrorCode::InvalidArgument, "the discard limit must lie in [0, 1]");
  double area = 0;
  for (std::size_t i = 0; i < c.discard.size(); ++i) {
    const double end = i + 1 < c.discard.size() ? std::min(c.discard[i + 1], limit) : limit;
    if (end <= c.discard[i]) break;
    area += c.error[i] * (end - c.discard[i]);
  }
  return area;
}

double edc_ideal_area(const EdcCurve& c, double limit) {
  const double e0 = c.starting_error();
  double area = e0 * e0 / 2;
  if (limit < e0) area -= (e0 - limit) * (e0 - limit) / 2;
  return area;
}

double threshold_at_fmr(std::vector<double> nonmated, double fmr) {
  if (!(fmr > 0 && fmr < 1)) throw Error(ErrorCode::InvalidArgument, "the target FMR must lie in (0, 1)");
  const auto needed = static_cast<std::size_t>(std::ceil(1.0 / fmr - 1e-9));
  if (nonmated.size() < needed) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{} non-mated comparisons cannot estimate an FMR of {:g}: at least {} are needed",
                            nonmated.size(), fmr, needed));
  }
  std::sort(nonmated.begin(), nonmated.end(), std::greater<>());
  const auto allowed = static_cast<std::size_t>(std::floor(fmr * static_cast<double>(nonmated.size()) + 1e-9));
  return std::nextafter(nonmated[allowed], std::numeric_limits<double>::infinity());
}

double threshold_at_fnmr(const std::vector<double>& mated, double fnmr) {
  if (mated.empty()) throw Error(ErrorCode::InvalidArgument, "no mated comparisons to fix a starting FNMR");
  return stats::quantile(mated, fnmr);
}

double error_rate(EdcError kind, const std::vector<double>& scores, double threshold) {
  if (scores.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto errors =
      std::count_if(scores.begin(), scores.end(), [&](double s) { return is_error(kind, s, threshold); });
  return static_cast<double>(errors) / static_cast<double>(scores.size());
}

EdcCurve erc_refit_curve(const std::vector<double>& similarity, const std::vector<double>& pair_quality,
                         const std::vector<bool>& mated, double fmr, int steps) {
  const std::size_t n = similarity.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t i, std::size_t j) { return pair_quality[i] < pair_quality[j]; });
  EdcCurve c;
  c.comparisons = n;
  for (int s = 0; s < steps; ++s) {
    auto k = static_cast<std::size_t>(std::floor(static_cast<double>(s) / steps * static_cast<double>(n)));
    while (k > 0 && k < n && pair_quality[order[k]] == pair_quality[order[k - 1]]) ++k;  // ties together
    std::vector<double> m, nm;
    for (std::size_t i = k; i < n; ++i) (mated[order[i]] ? m : nm).push_back(similarity[order[i]]);
    if (m.empty() || nm.size() < static_cast<std::size_t>(std::ceil(1.0 / fmr - 1e-9))) break;
    const double t = threshold_at_fmr(nm, fmr);
    const double x = static_cast<double>(k) / static_cast<double>(n);
    if (!c.discard.empty() && x <= c.discard.back()) continue;
    c.discard.push_back(x);
    c.error.push_back(error_rate(EdcError::Fnmr, m, t));
  }
  return c;
}

}  // namespace amva::eval
