#include "amva/analysis/null_controls.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "amva/analysis/permutation_tests.hpp"
#include "amva/analysis/verdicts.hpp"
#include "amva/error.hpp"
#include "amva/stats/distributions.hpp"
#include "amva/stats/random_streams.hpp"
#include "amva/stats/variance_tests.hpp"

namespace amva::analysis {
namespace {

using stats::kNaN;

// The maps of `wanted` (store ids, a subset of `rows`) in their order, and their identities.
struct GroupMapsOf {
  std::vector<float> maps;
  std::vector<std::int64_t> identities;
};
GroupMapsOf gather(const std::vector<float>& maps, const std::vector<std::int64_t>& rows, std::size_t d,
                   const std::vector<std::int64_t>& wanted, const std::vector<std::int64_t>& identity_of_row) {
  GroupMapsOf g;
  g.maps.reserve(wanted.size() * d);
  for (const auto r : wanted) {
    const auto at = static_cast<std::size_t>(std::lower_bound(rows.begin(), rows.end(), r) - rows.begin());
    g.maps.insert(g.maps.end(), maps.begin() + static_cast<std::ptrdiff_t>(at * d),
                  maps.begin() + static_cast<std::ptrdiff_t>((at + 1) * d));
    if (!identity_of_row.empty()) {
      const auto id = identity_of_row[static_cast<std::size_t>(r)];
      g.identities.push_back(id >= 0 ? id : -1 - r);  // an unknown person is a block of its own
    }
  }
  return g;
}

}  // namespace

double intraclass_correlation(const std::vector<double>& scores, const std::vector<std::int64_t>& identity) {
  std::map<std::int64_t, std::vector<double>> by_person;
  for (std::size_t i = 0; i < scores.size() && i < identity.size(); ++i) {
    if (std::isfinite(scores[i]) && identity[i] >= 0) by_person[identity[i]].push_back(scores[i]);
  }
  const auto a = static_cast<double>(by_person.size());
  double n = 0, sum = 0, sum_sq_sizes = 0;
  bool some_pair = false;
  for (const auto& [id, v] : by_person) {
    n += static_cast<double>(v.size());
    sum_sq_sizes += static_cast<double>(v.size() * v.size());
    for (const double x : v) sum += x;
    some_pair = some_pair || v.size() >= 2;
  }
  if (a < 2 || !some_pair || n - a < 1) return 0.0;
  const double grand = sum / n;
  double between = 0, within = 0;
  for (const auto& [id, v] : by_person) {
    double m = 0;
    for (const double x : v) m += x;
    m /= static_cast<double>(v.size());
    between += static_cast<double>(v.size()) * (m - grand) * (m - grand);
    for (const double x : v) within += (x - m) * (x - m);
  }
  const double msb = between / (a - 1), msw = within / (n - a);
  const double k0 = (n - sum_sq_sizes / n) / (a - 1);
  const double icc = (msb - msw) / (msb + (k0 - 1) * msw);
  return std::isfinite(icc) ? std::clamp(icc, 0.0, 0.99) : 0.0;
}

std::vector<double> null_scores(const std::vector<std::int64_t>& rows, std::size_t records,
                                const std::vector<std::int64_t>& identity_of_row, double icc, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::map<std::int64_t, double> person;
  std::vector<double> scores(records, kNaN);
  for (const auto r : rows) {
    const auto id = identity_of_row.empty() ? -1 : identity_of_row[static_cast<std::size_t>(r)];
    double u = 0;
    if (id >= 0) {
      const auto [it, added] = person.emplace(id, 0.0);
      if (added) it->second = normal(rng);
      u = it->second;
    } else {
      u = normal(rng);
    }
    scores[static_cast<std::size_t>(r)] = std::sqrt(icc) * u + std::sqrt(1 - icc) * normal(rng);
  }
  return scores;
}

NullControls run_null_controls(const std::vector<float>& maps, const std::vector<std::int64_t>& rows,
                               std::size_t records, const std::vector<std::int64_t>& identity_of_row,
                               const std::vector<double>& iccs, const stats::GroupRule& rule, const Upsampler& up,
                               const NullControlOptions& options) {
  const auto d = static_cast<std::size_t>(up.low_pixels());
  if (maps.size() != rows.size() * d) throw Error(ErrorCode::InvalidArgument, "null controls need one map per row");
  NullControls out;
  out.alpha = options.alpha;
  out.cell_level = options.cell_level;
  out.identities = !identity_of_row.empty();
  for (int j = 0; j < options.count; ++j) {
    NullControl c;
    c.name = fmt::format("null_{}", j + 1);
    c.icc = iccs.empty() || !out.identities ? 0.0 : iccs[static_cast<std::size_t>(j) % iccs.size()];
    const auto scores = null_scores(rows, records, identity_of_row, c.icc, stats::stream_seed(options.seed, c.name));
    auto group_rule = rule;
    group_rule.tie_seed = stats::stream_seed(options.seed, c.name + "/ties");
    const auto groups = stats::make_groups(scores, group_rule);
    const auto& low_rows = groups.front().rows;
    const auto& high_rows = groups.back().rows;
    if (low_rows.size() < 2 || high_rows.size() < 2) {
      c.finding = "not enough images";
      out.controls.push_back(c);
      continue;
    }
    auto low = gather(maps, rows, d, low_rows, out.identities ? identity_of_row : std::vector<std::int64_t>{});
    auto high = gather(maps, rows, d, high_rows, out.identities ? identity_of_row : std::vector<std::int64_t>{});
    const PooledGroups pooled{low.maps, low_rows.size(), high.maps, high_rows.size(), low.identities, high.identities};
    PermutationOptions po;
    po.permutations = options.permutations;
    po.seed = stats::stream_seed(options.seed, c.name + "/permutations");
    po.pixel_null = false;
    const auto t = permutation_tests(pooled, up, po);
    RegionEvidence e;
    e.enough_images = true;
    e.outside_difference = t.outside_difference;
    e.p_family = t.p_outside;  // judged alone
    e.alpha = options.alpha;
    c.finding = decide_finding(e);
    c.outside_difference = t.outside_difference;
    c.p_outside = t.p_outside;
    for (auto it = t.p_family.begin<double>(); it != t.p_family.end<double>(); ++it) {
      c.significant_cells += *it <= options.cell_level ? 1 : 0;
    }
    out.false_verdicts += c.finding == "reproduced" || c.finding == "reversed" ? 1 : 0;
    out.with_significant_cell += c.significant_cells > 0 ? 1 : 0;
    out.controls.push_back(c);
  }
  const auto n = out.controls.size();
  out.p_false_verdicts = stats::binomial_upper_tail(out.false_verdicts, n, options.alpha);
  out.p_significant_cell = stats::binomial_upper_tail(out.with_significant_cell, n, options.cell_level);
  return out;
}

}  // namespace amva::analysis
