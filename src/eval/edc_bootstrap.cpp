#include "amva/eval/edc_bootstrap.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cstdint>
#include <map>
#include <random>
#include <utility>

#include "amva/error.hpp"
#include "amva/eval/edc.hpp"
#include "amva/stats/distributions.hpp"
#include "amva/stats/random_streams.hpp"

namespace amva::eval {

EdcReplicates bootstrap_edc(const EdcBootstrapInput& in) {
  const auto& set = *in.comparisons;
  const std::size_t n = set.comparisons.size();
  const std::size_t methods = in.method_scores.size();
  const auto R = static_cast<std::size_t>(std::max(in.replicates, 0));
  EdcReplicates out;

  // Units of each comparison's faces, numbered 0..U-1.
  std::map<std::int64_t, std::size_t> number;
  std::vector<std::size_t> unit_a(n), unit_b(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& c = set.comparisons[i];
    for (const auto& [row, unit] : {std::pair{c.a, &unit_a[i]}, {c.b, &unit_b[i]}}) {
      const auto u = in.unit_of_row.at(static_cast<std::size_t>(row));
      *unit = number.emplace(u, number.size()).first->second;
    }
  }
  out.units = number.size();

  // Per method and kind, the comparisons sorted once.
  const auto mated = comparisons_of_kind(set, true);
  const auto nonmated = comparisons_of_kind(set, false);
  std::vector<WeightedEdc> fnm, fm;
  // Per method and kind, the units of each comparison's two faces in the curve's sorted order,
  // so that a replicate's weights are made in the order its curve reads them.
  std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> fnm_units, fm_units;
  const auto sorted_units = [&](const WeightedEdc& edc, const std::vector<std::size_t>& idx) {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> units;
    units.reserve(edc.size());
    for (const auto k : edc.order())
      units.emplace_back(static_cast<std::uint32_t>(unit_a[idx[k]]), static_cast<std::uint32_t>(unit_b[idx[k]]));
    return units;
  };
  for (const auto* scores : in.method_scores) {
    fnm.emplace_back(EdcError::Fnmr, mated.similarity, mated.faces, *scores, in.threshold);
    fm.emplace_back(EdcError::Fmr, nonmated.similarity, nonmated.faces, *scores, in.threshold);
    fnm_units.push_back(sorted_units(fnm.back(), mated.index));
    fm_units.push_back(sorted_units(fm.back(), nonmated.index));
  }

  const std::size_t L = in.limits.size();
  const std::size_t G = in.grid.size();
  out.fnm_pauc.assign(methods, std::vector<std::vector<double>>(L, std::vector<double>(R)));
  out.fm_pauc = out.fnm_pauc;
  out.fnm_above_ideal = out.fnm_pauc;
  out.fm_above_ideal = out.fnm_pauc;
  // curves[method][replicate * G + g]
  std::vector<std::vector<double>> fnm_curves(methods, std::vector<double>(R * G));
  std::vector<std::vector<double>> fm_curves(methods, std::vector<double>(R * G));
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, R), [&](const tbb::blocked_range<std::size_t>& range) {
    std::vector<std::uint64_t> multiplicity(out.units);
    std::vector<double> group_weight, group_errors;
    EdcCurve cm, cn;
    // A comparison of two images of one unit is drawn as often as the unit; of two units, as
    // often as both together. The curve needs only the sums per tie group, which run in
    // whole numbers: a group is summed in integers (no chain of floating-point additions
    // waiting on each other) and converted once, exactly.
    const auto curve = [&](const WeightedEdc& edc, const std::vector<std::pair<std::uint32_t, std::uint32_t>>& units,
                           EdcCurve& c) {
      group_weight.assign(edc.groups(), 0.0);
      group_errors.assign(edc.groups(), 0.0);
      const auto& group = edc.tie_groups();
      const auto& error = edc.errors();
      std::size_t k = 0;
      while (k < units.size()) {
        const std::uint32_t g = group[k];
        std::uint64_t weight = 0, errors = 0;
        for (; k < units.size() && group[k] == g; ++k) {
          const auto [a, b] = units[k];
          const std::uint64_t w = a == b ? multiplicity[a] : multiplicity[a] * multiplicity[b];
          weight += w;
          errors += error[k] ? w : 0;
        }
        group_weight[g] = static_cast<double>(weight);
        group_errors[g] = static_cast<double>(errors);
      }
      edc.curve_from_groups(group_weight.data(), group_errors.data(), c);
    };
    for (std::size_t r = range.begin(); r < range.end(); ++r) {
      std::mt19937_64 rng(stats::stream_seed(in.seed, "edc-bootstrap/" + std::to_string(r)));
      std::uniform_int_distribution<std::size_t> pick(0, out.units - 1);
      std::fill(multiplicity.begin(), multiplicity.end(), 0);
      for (std::size_t k = 0; k < out.units; ++k) multiplicity[pick(rng)] += 1;
      for (std::size_t m = 0; m < methods; ++m) {
        curve(fnm[m], fnm_units[m], cm);
        curve(fm[m], fm_units[m], cn);
        for (std::size_t l = 0; l < L; ++l) {
          out.fnm_pauc[m][l][r] = edc_pauc(cm, in.limits[l]);
          out.fm_pauc[m][l][r] = edc_pauc(cn, in.limits[l]);
          out.fnm_above_ideal[m][l][r] = out.fnm_pauc[m][l][r] - edc_ideal_area(cm, in.limits[l]);
          out.fm_above_ideal[m][l][r] = out.fm_pauc[m][l][r] - edc_ideal_area(cn, in.limits[l]);
        }
        for (std::size_t g = 0; g < G; ++g) {
          fnm_curves[m][r * G + g] = cm.at(in.grid[g]);
          fm_curves[m][r * G + g] = cn.at(in.grid[g]);
        }
      }
    }
  });
  const double tail = (1 - in.confidence) / 2;
  const auto bands = [&](const std::vector<double>& curves, std::vector<double>& lo, std::vector<double>& hi) {
    lo.assign(G, 0.0);
    hi.assign(G, 0.0);
    std::vector<double> column(R);
    for (std::size_t g = 0; g < G && R > 0; ++g) {
      for (std::size_t r = 0; r < R; ++r) column[r] = curves[r * G + g];
      lo[g] = stats::quantile(column, tail);
      hi[g] = stats::quantile(column, 1 - tail);
    }
  };
  out.fnm_lo.resize(methods);
  out.fnm_hi.resize(methods);
  out.fm_lo.resize(methods);
  out.fm_hi.resize(methods);
  for (std::size_t m = 0; m < methods; ++m) {
    bands(fnm_curves[m], out.fnm_lo[m], out.fnm_hi[m]);
    bands(fm_curves[m], out.fm_lo[m], out.fm_hi[m]);
  }
  return out;
}

}  // namespace amva::eval
