#include "amva/eval/edc_study.hpp"

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "amva/error.hpp"
#include "amva/eval/comparisons.hpp"
#include "amva/eval/edc.hpp"
#include "amva/eval/edc_bootstrap.hpp"
#include "amva/eval/edc_folder.hpp"
#include "amva/eval/identities.hpp"
#include "amva/io/npy.hpp"
#include "amva/io/staged_output.hpp"
#include "amva/stats/distributions.hpp"
#include "edc_parts.hpp"

namespace amva::eval {
namespace fs = std::filesystem;
namespace {

using stats::kNaN;

// The EDC of one kind of comparisons under one set of per-face scores.
EdcCurve curve_of(EdcError kind, const ComparisonsOfKind& comparisons, const std::vector<double>& scores,
                  double threshold) {
  return WeightedEdc(kind, comparisons.similarity, comparisons.faces, scores, threshold)
      .curve(std::vector<double>(comparisons.similarity.size(), 1.0));
}

std::vector<double> ideal_curve(double e0, const std::vector<double>& x) {
  std::vector<double> y;
  for (const double v : x) y.push_back(std::max(0.0, e0 - v));
  return y;
}

// Mean over `orders` random per-face scores of the stepwise EDC, sampled on `grid`. The scores
// are drawn in order from one stream, the curves made in parallel, and the means summed in
// order, so the result does not depend on the threads.
std::vector<double> random_mean_curve(EdcError kind, const ComparisonSet& set, bool mated, std::size_t rows,
                                      double threshold, int orders, std::uint64_t seed, const std::vector<double>& grid,
                                      const std::vector<double>& limits, std::vector<double>& mean_pauc) {
  const auto count = static_cast<std::size_t>(std::max(orders, 0));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<std::vector<double>> scores(count, std::vector<double>(rows));
  for (auto& order : scores)
    for (auto& s : order) s = uniform(rng);
  std::vector<std::vector<double>> at_grid(count), pauc(count);
  const auto comparisons = comparisons_of_kind(set, mated);
  tbb::parallel_for(std::size_t{0}, count, [&](std::size_t r) {
    const auto c = curve_of(kind, comparisons, scores[r], threshold);
    for (const double x : grid) at_grid[r].push_back(c.at(x));
    for (const double limit : limits) pauc[r].push_back(edc_pauc(c, limit));
  });
  std::vector<double> mean(grid.size(), 0.0);
  mean_pauc.assign(limits.size(), 0.0);
  for (std::size_t r = 0; r < count; ++r) {
    for (std::size_t g = 0; g < grid.size(); ++g) mean[g] += at_grid[r][g] / orders;
    for (std::size_t l = 0; l < limits.size(); ++l) mean_pauc[l] += pauc[r][l] / orders;
  }
  return mean;
}

// The comparisons, from pairs or from identities; identities also serve the bootstrap's
// resampling units, and each source is read once.
void make_comparisons(EdcStudy& s, const io::NpyArray& embeddings) {
  const auto& opt = s.opt;
  const auto& index = s.index;
  auto& set = s.set;
  auto& identities = s.identities;
  if (!opt.pairs.empty()) {
    const auto pairs = read_pairs(opt.pairs);
    set = compare_pairs(index, embeddings, pairs);
    set.source = fmt::format("pairs from {}", opt.pairs.string());
    identities = identities_from_pairs(index, pairs, opt.pairs);
  } else if (!opt.labels.empty() || opt.labels_from_folders) {
    IdentitySource source;
    source.labels = opt.labels;
    source.from_folders = opt.labels.empty();
    identities = read_identities(index, source);
    set = compare_by_identity(index, embeddings, identities, opt.max_nonmated, opt.seed);
  } else {
    throw Error(ErrorCode::InvalidArgument, "comparisons need --pairs FILE, --labels FILE or --labels-from-folders");
  }
}

// Every method's scores (and the random one), refused when a face in the comparisons has none.
void load_method_scores(EdcStudy& s, EdcResult& result) {
  const auto& opt = s.opt;
  const auto& index = s.index;
  auto& columns = s.columns;
  columns = quality::load_scores(opt.store, index, opt.scores, result.score_reports);
  if (opt.with_random) {
    quality::ScoreColumn random{"random", fmt::format("uniform random, seed {}", opt.seed), false,
                                std::vector<double>(index.size(), kNaN)};
    std::mt19937_64 rng(opt.seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (std::size_t i = 0; i < index.size(); ++i) {
      const double u = uniform(rng);
      if (index[i].ok) random.values[i] = u;
    }
    columns.push_back(std::move(random));
  }
  for (const auto& c : columns) {
    std::size_t missing = 0;
    std::string example;
    for (const auto& cmp : s.set.comparisons) {
      for (const auto row : {cmp.a, cmp.b}) {
        if (std::isnan(c.values[static_cast<std::size_t>(row)])) {
          ++missing;
          if (example.empty()) example = index[static_cast<std::size_t>(row)].path;
        }
      }
    }
    if (missing) {
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("FIQA method '{}' has no score for {} faces in the comparisons (e.g. {})", c.name,
                              missing, example));
    }
  }
}

// The threshold, fixed once on all comparisons, and the starting errors there.
void fix_threshold(EdcStudy& s, EdcResult& result) {
  const auto& opt = s.opt;
  const auto& set = s.set;
  std::vector<double> mated_scores, nonmated_scores;
  for (const auto& c : set.comparisons) (c.mated ? mated_scores : nonmated_scores).push_back(c.score);
  if (mated_scores.empty()) throw Error(ErrorCode::InvalidArgument, "no mated comparisons remain: an FNMR needs some");
  const double threshold = s.threshold =
      opt.start_fnmr ? threshold_at_fnmr(mated_scores, *opt.start_fnmr) : threshold_at_fmr(nonmated_scores, opt.fmr);
  s.fnmr0 = error_rate(EdcError::Fnmr, mated_scores, threshold);
  s.fmr0 = error_rate(EdcError::Fmr, nonmated_scores, threshold);
  const auto false_matches = s.false_matches = static_cast<std::size_t>(
      std::count_if(nonmated_scores.begin(), nonmated_scores.end(), [&](double s) { return s >= threshold; }));
  if (false_matches < 10) {
    result.warnings.push_back(
        fmt::format("the threshold {:.5f} rests on {} false match(es) among {} non-mated comparisons: the FMR there is "
                    "estimated from very few errors (use a larger --fmr, more non-mated pairs, or --start-fnmr)",
                    threshold, false_matches, nonmated_scores.size()));
  }

  s.mated = mated_scores.size();
  s.nonmated = nonmated_scores.size();
}

// The replicates of every method's curves, drawn once for all methods so that their
// differences are paired.
EdcReplicates bootstrap_replicates(const EdcStudy& s) {
  const auto& opt = s.opt;
  std::vector<std::int64_t> unit_of_row(s.index.size());
  const Identities none;
  for (std::size_t i = 0; i < s.index.size(); ++i) unit_of_row[i] = (s.by_identity ? s.identities : none).unit_of(i);
  EdcBootstrapInput bi;
  bi.comparisons = &s.set;
  for (const auto& c : s.columns) bi.method_scores.push_back(&c.values);
  bi.unit_of_row = unit_of_row;
  bi.threshold = s.threshold;
  bi.limits = opt.discard_limits;
  bi.grid = s.grid;
  bi.replicates = opt.bootstrap;
  bi.seed = opt.seed;
  bi.confidence = opt.confidence;
  return bootstrap_edc(bi);
}

// One method's FNM-EDC and FM-EDC, and their pAUC with bootstrap intervals.
void method_curves(EdcStudy& s, std::size_t mi, EdcMethod& typed) {
  const auto& opt = s.opt;
  const auto& col = s.columns[mi];
  const auto& reps = s.reps;
  auto& curves = s.curves[mi];
  curves.fnm = curve_of(EdcError::Fnmr, comparisons_of_kind(s.set, true), col.values, s.threshold);
  curves.fm = curve_of(EdcError::Fmr, comparisons_of_kind(s.set, false), col.values, s.threshold);
  // Each limit's pAUC, raw and minus the ideal area, with their intervals (NaN without a
  // bootstrap). Each replicate has its own starting error, so its own ideal area.
  using Replicates = std::vector<std::vector<std::vector<double>>>;  // [method][limit][replicate]
  const auto paucs = [&](const EdcCurve& curve, const Replicates& raw_reps, const Replicates& above_reps,
                         std::vector<Pauc>& raw, std::vector<Pauc>& above) {
    for (std::size_t l = 0; l < opt.discard_limits.size(); ++l) {
      const double limit = opt.discard_limits[l];
      const double value = edc_pauc(curve, limit);
      const auto ci = opt.bootstrap > 0 ? s.ci_of(raw_reps[mi][l]) : std::pair{kNaN, kNaN};
      const auto above_ci = opt.bootstrap > 0 ? s.ci_of(above_reps[mi][l]) : std::pair{kNaN, kNaN};
      raw.push_back({value, ci.first, ci.second});
      above.push_back({value - edc_ideal_area(curve, limit), above_ci.first, above_ci.second});
    }
  };
  typed.name = col.name;
  paucs(curves.fnm, reps.fnm_pauc, reps.fnm_above_ideal, typed.fnm, typed.fnm_above_ideal);
  paucs(curves.fm, reps.fm_pauc, reps.fm_above_ideal, typed.fm, typed.fm_above_ideal);
}

// The ERC with the threshold refitted at every step, for comparison with older papers.
EdcCurve erc_refit(const EdcStudy& s, const quality::ScoreColumn& col) {
  std::vector<double> sim, q;
  std::vector<bool> mated;
  for (const auto& c : s.set.comparisons) {
    sim.push_back(c.score);
    q.push_back(std::min(col.values[static_cast<std::size_t>(c.a)], col.values[static_cast<std::size_t>(c.b)]));
    mated.push_back(c.mated);
  }
  return erc_refit_curve(sim, q, mated, s.opt.fmr);
}

// Errors within the method's low and high quality groups, and their similarity distributions.
void group_errors(const EdcStudy& s, const quality::ScoreColumn& col, MethodCurves& curves, EdcMethod& typed) {
  const auto groups = stats::make_groups(col.values, s.opt.group);
  const auto& low = groups.front();
  const auto& high = groups.back();
  curves.low_group = low.name;
  curves.high_group = high.name;
  std::vector<char> in_low(col.values.size(), 0), in_high(col.values.size(), 0);
  for (const auto row : low.rows) in_low.at(static_cast<std::size_t>(row)) = 1;
  for (const auto row : high.rows) in_high.at(static_cast<std::size_t>(row)) = 1;
  const auto x = similarity_grid();
  for (const auto* g : {&low, &high}) {
    std::vector<double> gm, gn;
    for (const auto& c : s.set.comparisons) {
      const bool in = g == &low ? (in_low[static_cast<std::size_t>(c.a)] || in_low[static_cast<std::size_t>(c.b)])
                                : (in_high[static_cast<std::size_t>(c.a)] && in_high[static_cast<std::size_t>(c.b)]);
      if (in) (c.mated ? gm : gn).push_back(c.score);
    }
    const double fnmr = error_rate(EdcError::Fnmr, gm, s.threshold);
    const double fmr = error_rate(EdcError::Fmr, gn, s.threshold);
    (g == &low ? typed.low : typed.high) = {g->rows.size(), gm.size(),   gn.size(), fnmr, fmr,
                                            g->score_min,   g->score_max};
    for (const auto& [scores, kind] : {std::pair{&gm, "mated"}, {&gn, "non-mated"}}) {
      if (scores->size() < 2) continue;
      curves.densities.push_back({fmt::format("{} {} (n={})", g->name, kind, scores->size()),
                                  stats::gaussian_kde(*scores, x).values, g == &low});
    }
  }
}

// The ideal and random baselines, common to all methods.
void baselines(EdcStudy& s, const std::function<void(const std::string&)>& report, EdcResult& result) {
  const auto& opt = s.opt;
  for (const auto& [kind, mated] : {std::pair{EdcError::Fnmr, true}, std::pair{EdcError::Fmr, false}}) {
    auto& b = s.baselines.emplace_back();
    b.fnm = kind == EdcError::Fnmr;
    b.starting_error = b.fnm ? s.fnmr0 : s.fmr0;
    report(b.fnm ? "random baseline (FNM)" : "random baseline (FM)");
    b.random = random_mean_curve(kind, s.set, mated, s.index.size(), s.threshold, opt.random_orders, opt.seed + 1,
                                 s.grid, opt.discard_limits, b.random_pauc);
    b.ideal = ideal_curve(b.starting_error, s.grid);
    for (const double limit : opt.discard_limits) {
      EdcCurve best;
      best.error = {b.starting_error};
      b.ideal_area.push_back(edc_ideal_area(best, limit));
    }
    (b.fnm ? result.random_fnm_pauc : result.random_fm_pauc) = b.random_pauc;
  }
}

// Paired differences: method a minus method b on the same replicates.
void paired_differences(const EdcStudy& s, const std::vector<EdcMethod>& methods,
                        std::vector<PaucDifference>& differences) {
  const auto& opt = s.opt;
  const auto& columns = s.columns;
  const auto& reps = s.reps;
  if (opt.bootstrap <= 0) return;
  for (const auto& [fnm, all, curve] :
       {std::tuple{true, &reps.fnm_pauc, &EdcMethod::fnm}, std::tuple{false, &reps.fm_pauc, &EdcMethod::fm}}) {
    for (std::size_t l = 0; l < opt.discard_limits.size(); ++l) {
      for (std::size_t a = 0; a < columns.size(); ++a) {
        for (std::size_t b = a + 1; b < columns.size(); ++b) {
          std::vector<double> d((*all)[a][l].size());
          for (std::size_t r = 0; r < d.size(); ++r) d[r] = (*all)[a][l][r] - (*all)[b][l][r];
          const double value = (methods[a].*curve)[l].value - (methods[b].*curve)[l].value;
          const auto [lo, hi] = s.ci_of(d);
          // Lower pAUC is better: a negative difference favours method a.
          const std::string verdict = hi < 0   ? columns[a].name + " better"
                                      : lo > 0 ? columns[b].name + " better"
                                               : "no difference shown";
          differences.push_back(
              {fnm, opt.discard_limits[l], columns[a].name, columns[b].name, {value, lo, hi}, verdict});
        }
      }
    }
  }
}

}  // namespace

std::string threshold_rule(const EdcOptions& opt) {
  return opt.start_fnmr ? fmt::format("starting FNMR {:g} (quantile of the mated scores)", *opt.start_fnmr)
                        : fmt::format("FMR {:g} on all non-mated comparisons", opt.fmr);
}

EdcResult run_edc(const EdcOptions& opt) {
  const auto report = [&](const std::string& m) { opt.progress.stage(m); };
  for (const double l : opt.discard_limits) {
    if (!(l > 0 && l <= 1))
      throw Error(ErrorCode::InvalidArgument, fmt::format("discard limit {} is not in (0, 1]", l));
  }
  (void)store::read_meta(opt.store);                          // a store, or a clear error before anything is written
  io::StagedOutput staged(opt.out, opt.force, {"edc.json"});  // moved into place when complete
  const auto index = store::read_index_entries(opt.store);
  EdcStudy s(opt, index);
  report("comparisons");
  make_comparisons(s, io::read_npy(store::StoreFolder{opt.store}.embeddings()));
  EdcResult result;
  result.excluded = s.set.excluded;
  load_method_scores(s, result);
  fix_threshold(s, result);
  // Resampling units for the pAUC intervals: identities when known, else images.
  s.by_identity = resamples_identities(opt.bootstrap_unit, s.identities);
  if (opt.bootstrap > 0) {
    report(fmt::format("bootstrap of the pAUC values ({} replicates, {})", opt.bootstrap,
                       s.by_identity ? "identities" : "images"));
    s.reps = bootstrap_replicates(s);
  }
  s.curves.resize(s.columns.size());
  for (std::size_t mi = 0; mi < s.columns.size(); ++mi) {
    const auto& col = s.columns[mi];
    report(fmt::format("EDC of {}", col.name));
    auto& typed = result.methods.emplace_back();
    method_curves(s, mi, typed);
    if (opt.erc_refit) s.curves[mi].erc_refit = erc_refit(s, col);
    group_errors(s, col, s.curves[mi], typed);
  }
  baselines(s, report, result);
  paired_differences(s, result.methods, result.differences);
  result.summary = write_edc_folder(s, result, staged.dir());
  staged.publish(EdcFolder{}.summary().filename().string());
  result.out = opt.out;
  result.threshold_rule = threshold_rule(opt);
  result.threshold = s.threshold;
  result.fnmr_at_threshold = s.fnmr0;
  result.fmr_at_threshold = s.fmr0;
  result.false_matches_at_threshold = s.false_matches;
  result.comparisons = {s.set.source, s.set.comparisons.size(), s.mated, s.nonmated, s.set.excluded.size()};
  result.bootstrap_identities = s.by_identity;
  result.discard_limits = opt.discard_limits;
  result.bootstrap = opt.bootstrap > 0;
  result.confidence = opt.confidence;
  return result;
}

}  // namespace amva::eval
