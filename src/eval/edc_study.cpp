#include "amva/eval/edc_study.hpp"

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "amva/error.hpp"
#include "amva/eval/comparisons.hpp"
#include "amva/eval/edc.hpp"
#include "amva/eval/edc_bootstrap.hpp"
#include "amva/eval/identities.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/json_values.hpp"
#include "amva/io/npy.hpp"
#include "amva/io/staged_output.hpp"
#include "amva/stats/distributions.hpp"
#include "amva/version.hpp"
#include "amva/viz/figures.hpp"

namespace amva::eval {
namespace fs = std::filesystem;
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string limit_key(double limit) {
  return fmt::format("{:.2f}", limit);
}

struct Split {
  std::vector<double> similarity, quality;
};

// Similarities and pairwise qualities (min of the two faces' scores) of one kind.
Split split(const ComparisonSet& set, const std::vector<double>& scores, bool mated) {
  Split s;
  for (const auto& c : set.comparisons) {
    if (c.mated != mated) continue;
    s.similarity.push_back(c.score);
    s.quality.push_back(std::min(scores[static_cast<std::size_t>(c.a)], scores[static_cast<std::size_t>(c.b)]));
  }
  return s;
}

nlohmann::json curve_json(const EdcCurve& c, const std::vector<double>& limits, const char* error_name) {
  nlohmann::json pauc = nlohmann::json::object();
  nlohmann::json ideal = nlohmann::json::object();
  nlohmann::json above = nlohmann::json::object();
  for (const double l : limits) {
    const double raw = edc_pauc(c, l);
    const double best = edc_ideal_area(c, l);
    pauc[limit_key(l)] = raw;
    ideal[limit_key(l)] = best;
    above[limit_key(l)] = raw - best;
  }
  return {{"comparisons", c.comparisons},
          {fmt::format("starting_{}", error_name), io::json_number(c.starting_error())},
          {"pauc", pauc},
          {"ideal_area", ideal},
          {"pauc_minus_ideal", above},
          {"discard", c.discard},
          {error_name, c.error}};
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
  tbb::parallel_for(std::size_t{0}, count, [&](std::size_t r) {
    const auto sp = split(set, scores[r], mated);
    const auto c = edc_curve(kind, sp.similarity, sp.quality, threshold);
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

nlohmann::json interval(double lo, double hi) {
  return {io::json_number(lo), io::json_number(hi)};
}

// What every step of one EDC study reads.
struct Study {
  Study(const EdcOptions& options, const std::vector<store::IndexEntry>& rows) : opt(options), index(rows) {}
  const EdcOptions& opt;
  const std::vector<store::IndexEntry>& index;
  ComparisonSet set;
  Identities identities;
  std::vector<quality::ScoreColumn> columns;
  std::vector<double> grid = stats::linspace(0.0, 1.0, 201);  // discard fractions of the bands and baselines
  double threshold = 0, fnmr0 = 0, fmr0 = 0;
  std::size_t mated = 0, nonmated = 0, false_matches = 0;
  bool by_identity = false;
  EdcReplicates reps;
  [[nodiscard]] std::pair<double, double> ci_of(const std::vector<double>& r) const {
    const double tail = (1 - opt.confidence) / 2;
    return r.empty() ? std::pair{kNaN, kNaN} : std::pair{stats::quantile(r, tail), stats::quantile(r, 1 - tail)};
  }
};

// What the study writes besides edc.json: the CSV tables and the figure panels, filled method by method.
struct Tables {
  std::string curves = io::csv_line({"method", "curve", "discard", "error"}) + "\n";
  std::string groups =
      io::csv_line({"method", "group", "mated", "nonmated", "fnmr", "fmr", "score_min", "score_max"}) + "\n";
  std::string pauc = io::csv_line({"method", "curve", "discard_limit", "pauc", "pauc_lo", "pauc_hi", "pauc_minus_ideal",
                                   "pauc_minus_ideal_lo", "pauc_minus_ideal_hi"}) +
                     "\n";
  std::string differences =
      io::csv_line({"curve", "discard_limit", "method_a", "method_b", "difference", "lo", "hi", "verdict"}) + "\n";
  viz::Panel fnm, fm;
  std::vector<viz::Panel> distributions;
  void add_curve_rows(const std::string& method, const std::string& curve, const std::vector<double>& x,
                      const std::vector<double>& y) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      curves += io::csv_line({method, curve, fmt::format("{}", x[i]), fmt::format("{}", y[i])}) + "\n";
    }
  }
};

// The comparisons, from pairs or from identities; identities also serve the bootstrap's
// resampling units, and each source is read once.
void make_comparisons(Study& s, const io::NpyArray& embeddings) {
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
void load_method_scores(Study& s, EdcResult& result) {
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
void fix_threshold(Study& s, EdcResult& result) {
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

std::string threshold_rule(const EdcOptions& opt) {
  return opt.start_fnmr ? fmt::format("starting FNMR {:g} (quantile of the mated scores)", *opt.start_fnmr)
                        : fmt::format("FMR {:g} on all non-mated comparisons", opt.fmr);
}

nlohmann::json settings_json(const Study& s) {
  const auto& opt = s.opt;
  const auto threshold = s.threshold;
  const auto fnmr0 = s.fnmr0;
  const auto fmr0 = s.fmr0;
  const auto false_matches = s.false_matches;
  const bool by_identity = s.by_identity;
  const auto& identities = s.identities;
  return {{"threshold_rule", threshold_rule(opt)},
          {"target_fmr", opt.start_fnmr ? nlohmann::json(nullptr) : nlohmann::json(opt.fmr)},
          {"threshold", threshold},
          {"fnmr_at_threshold", io::json_number(fnmr0)},
          {"fmr_at_threshold", io::json_number(fmr0)},
          {"false_matches_at_threshold", false_matches},
          {"bootstrap",
           {{"replicates", opt.bootstrap},
            {"confidence", opt.confidence},
            {"seed", opt.seed},
            {"unit", by_identity ? "identity" : "image"},
            {"identities", by_identity ? nlohmann::json(identities.description) : nullptr},
            {"threshold", "held at the value fixed on all comparisons (an operating point chosen once), not refitted"},
            {"method",
             "percentile intervals; a replicate draws the units (identities, else images) with replacement; a "
             "comparison counts m_u times when both faces belong to unit u and m_u m_v times for units u and v; the "
             "same replicate for every method, so that differences between methods are paired"}}},
          {"decision", "match when similarity >= threshold; the threshold is fixed once and never refitted"},
          {"pair_quality", "min(q_a, q_b)"},
          {"discard",
           "from the lowest pairwise quality, equal qualities together; FNM-EDC over the mated comparisons, "
           "FM-EDC over the non-mated ones"},
          {"discard_limits", opt.discard_limits},
          {"ideal", "max(0, e0 - x), e0 the starting error; pauc_minus_ideal = pauc - its area"},
          {"random_baseline", fmt::format("mean of {} random per-face scores (seed {}); in expectation the starting "
                                          "error at every discard fraction",
                                          opt.random_orders, opt.seed)},
          {"group_rule", opt.group.to_string()},
          {"group_membership",
           "a comparison is in the low group when either face is, in the high group when both are "
           "(pairwise quality = the lower one)"},
          {"seed", opt.seed}};
}

// The replicates of every method's curves, drawn once for all methods so that their
// differences are paired.
EdcReplicates bootstrap_replicates(const Study& s) {
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

// One method's FNM-EDC and FM-EDC, their pAUC with bootstrap intervals, and their curves in the tables.
nlohmann::json method_curves(const Study& s, std::size_t mi, Tables& t, EdcMethod& typed) {
  const auto& opt = s.opt;
  const auto& set = s.set;
  const auto& col = s.columns[mi];
  const auto& reps = s.reps;
  const auto& grid = s.grid;
  const double threshold = s.threshold;
  const auto m = split(set, col.values, true);
  const auto nm = split(set, col.values, false);
  const auto fnm_curve = edc_curve(EdcError::Fnmr, m.similarity, m.quality, threshold);
  const auto fm_curve = edc_curve(EdcError::Fmr, nm.similarity, nm.quality, threshold);
  nlohmann::json mj = {{"source", col.source},
                       {"negated", col.negated},
                       {"fnm_edc", curve_json(fnm_curve, opt.discard_limits, "fnmr")},
                       {"fm_edc", curve_json(fm_curve, opt.discard_limits, "fmr")}};
  t.add_curve_rows(col.name, "fnm_edc", fnm_curve.discard, fnm_curve.error);
  t.add_curve_rows(col.name, "fm_edc", fm_curve.discard, fm_curve.error);
  t.fnm.series.push_back({col.name, fnm_curve.discard, fnm_curve.error, {}, {}, "-", true});
  t.fm.series.push_back({col.name, fm_curve.discard, fm_curve.error, {}, {}, "-", true});
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
  paucs(fnm_curve, reps.fnm_pauc, reps.fnm_above_ideal, typed.fnm, typed.fnm_above_ideal);
  paucs(fm_curve, reps.fm_pauc, reps.fm_above_ideal, typed.fm, typed.fm_above_ideal);
  if (opt.bootstrap > 0) {
    t.fnm.series.push_back({"", grid, grid, reps.fnm_lo[mi], reps.fnm_hi[mi], "-", false, true});
    t.fm.series.push_back({"", grid, grid, reps.fm_lo[mi], reps.fm_hi[mi], "-", false, true});
    for (const auto& [name, raw, above] : {std::tuple{"fnm_edc", &typed.fnm, &typed.fnm_above_ideal},
                                           std::tuple{"fm_edc", &typed.fm, &typed.fm_above_ideal}}) {
      nlohmann::json ci = nlohmann::json::object();
      nlohmann::json ci_above = nlohmann::json::object();
      for (std::size_t l = 0; l < opt.discard_limits.size(); ++l) {
        const auto key = limit_key(opt.discard_limits[l]);
        const auto& p = (*raw)[l];
        const auto& a = (*above)[l];
        ci[key] = interval(p.lo, p.hi);
        ci_above[key] = interval(a.lo, a.hi);
        t.pauc += io::csv_line({col.name, name, key, fmt::format("{}", p.value), fmt::format("{}", p.lo),
                                fmt::format("{}", p.hi), fmt::format("{}", a.value), fmt::format("{}", a.lo),
                                fmt::format("{}", a.hi)}) +
                  "\n";
      }
      mj[name]["pauc_ci"] = ci;
      mj[name]["pauc_minus_ideal_ci"] = ci_above;
    }
  }
  return mj;
}

// The ERC with the threshold refitted at every step, for comparison with older papers.
nlohmann::json erc_refit_json(const Study& s, const quality::ScoreColumn& col, Tables& t) {
  const auto& set = s.set;
  std::vector<double> sim, q;
  std::vector<bool> mated;
  for (const auto& c : set.comparisons) {
    sim.push_back(c.score);
    q.push_back(std::min(col.values[static_cast<std::size_t>(c.a)], col.values[static_cast<std::size_t>(c.b)]));
    mated.push_back(c.mated);
  }
  const auto erc = erc_refit_curve(sim, q, mated, s.opt.fmr);
  t.add_curve_rows(col.name, "erc_refit (threshold refitted, not an EDC)", erc.discard, erc.error);
  return {{"label", "ERC with the threshold refitted at every step (not an EDC)"},
          {"discard", erc.discard},
          {"fnmr", erc.error}};
}

// Errors within the method's low and high quality groups, and their similarity distributions.
nlohmann::json group_errors(const Study& s, const quality::ScoreColumn& col, Tables& t, EdcMethod& typed) {
  const auto& opt = s.opt;
  const auto& set = s.set;
  const double threshold = s.threshold;
  const auto groups = stats::make_groups(col.values, opt.group);
  const auto& low = groups.front();
  const auto& high = groups.back();
  const std::set<std::int64_t> low_rows(low.rows.begin(), low.rows.end());
  const std::set<std::int64_t> high_rows(high.rows.begin(), high.rows.end());
  nlohmann::json gj = nlohmann::json::object();
  viz::Panel dist{col.name, "cosine similarity", "density", {}, std::nullopt};
  for (const auto* g : {&low, &high}) {
    std::vector<double> gm, gn;
    for (const auto& c : set.comparisons) {
      const bool in =
          g == &low ? (low_rows.count(c.a) || low_rows.count(c.b)) : (high_rows.count(c.a) && high_rows.count(c.b));
      if (in) (c.mated ? gm : gn).push_back(c.score);
    }
    const double fnmr = error_rate(EdcError::Fnmr, gm, threshold);
    const double fmr = error_rate(EdcError::Fmr, gn, threshold);
    (g == &low ? typed.low : typed.high) = {g->rows.size(), gm.size(),   gn.size(), fnmr, fmr,
                                            g->score_min,   g->score_max};
    gj[g->name] = {{"faces", g->rows.size()},
                   {"mated", gm.size()},
                   {"nonmated", gn.size()},
                   {"fnmr", io::json_number(fnmr)},
                   {"fmr", io::json_number(fmr)},
                   {"score_min", io::json_number(g->score_min)},
                   {"score_max", io::json_number(g->score_max)}};
    t.groups +=
        io::csv_line({col.name, g->name, std::to_string(gm.size()), std::to_string(gn.size()), fmt::format("{}", fnmr),
                      fmt::format("{}", fmr), fmt::format("{}", g->score_min), fmt::format("{}", g->score_max)}) +
        "\n";
    const auto x = stats::linspace(-0.3, 1.0, 261);
    for (const auto& [scores, kind] : {std::pair{&gm, "mated"}, {&gn, "non-mated"}}) {
      if (scores->size() < 2) continue;
      dist.series.push_back({fmt::format("{} {} (n={})", g->name, kind, scores->size()),
                             x,
                             stats::gaussian_kde(*scores, x).values,
                             {},
                             {},
                             g == &low ? "--" : "-",
                             false});
    }
  }
  dist.series.push_back({"threshold", {threshold, threshold}, {0.0, 0.0}, {}, {}, "k|", false});
  t.distributions.push_back(dist);
  return gj;
}

// The ideal and random baselines, common to all methods.
nlohmann::json baselines_json(const Study& s, Tables& t, const std::function<void(const std::string&)>& report,
                              EdcResult& result) {
  const auto& opt = s.opt;
  const auto& set = s.set;
  const auto& index = s.index;
  const auto& grid = s.grid;
  const double threshold = s.threshold;
  const double fnmr0 = s.fnmr0;
  const double fmr0 = s.fmr0;
  nlohmann::json baselines = nlohmann::json::object();
  for (const auto& [kind, panel, mated] :
       {std::tuple{EdcError::Fnmr, &t.fnm, true}, std::tuple{EdcError::Fmr, &t.fm, false}}) {
    const double e0 = kind == EdcError::Fnmr ? fnmr0 : fmr0;
    std::vector<double> mean_pauc;
    report(kind == EdcError::Fnmr ? "random baseline (FNM)" : "random baseline (FM)");
    const auto random = random_mean_curve(kind, set, mated, index.size(), threshold, opt.random_orders, opt.seed + 1,
                                          grid, opt.discard_limits, mean_pauc);
    const auto ideal = ideal_curve(e0, grid);
    panel->series.push_back({"ideal", grid, ideal, {}, {}, "k:", false});
    panel->series.push_back({fmt::format("random (mean of {})", opt.random_orders), grid, random, {}, {}, "--", false});
    nlohmann::json pauc = nlohmann::json::object();
    nlohmann::json ideal_area = nlohmann::json::object();
    for (std::size_t l = 0; l < opt.discard_limits.size(); ++l) {
      const auto key = limit_key(opt.discard_limits[l]);
      pauc[key] = mean_pauc[l];
      EdcCurve best;
      best.error = {e0};
      ideal_area[key] = edc_ideal_area(best, opt.discard_limits[l]);
    }
    const char* name = kind == EdcError::Fnmr ? "fnm_edc" : "fm_edc";
    (kind == EdcError::Fnmr ? result.random_fnm_pauc : result.random_fm_pauc) = mean_pauc;
    baselines[name] = {
        {"starting_error", e0}, {"random_pauc_mean", pauc}, {"random_expected_error", e0}, {"ideal_area", ideal_area},
        {"grid", grid},         {"random_mean", random}};
    t.add_curve_rows("baseline_random", name, grid, random);
    t.add_curve_rows("baseline_ideal", name, grid, ideal);
  }
  return baselines;
}

// Paired differences: method a minus method b on the same replicates.
nlohmann::json paired_differences(const Study& s, const std::vector<EdcMethod>& methods, Tables& t,
                                  std::vector<PaucDifference>& typed) {
  const auto& opt = s.opt;
  const auto& columns = s.columns;
  const auto& reps = s.reps;
  nlohmann::json differences = nlohmann::json::object();
  if (opt.bootstrap > 0) {
    for (const auto& [name, fnm, all, curve] : {std::tuple{"fnm_edc", true, &reps.fnm_pauc, &EdcMethod::fnm},
                                                std::tuple{"fm_edc", false, &reps.fm_pauc, &EdcMethod::fm}}) {
      for (std::size_t l = 0; l < opt.discard_limits.size(); ++l) {
        const auto key = limit_key(opt.discard_limits[l]);
        nlohmann::json list = nlohmann::json::array();
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
            typed.push_back({fnm, opt.discard_limits[l], columns[a].name, columns[b].name, {value, lo, hi}, verdict});
            list.push_back({{"method_a", columns[a].name},
                            {"method_b", columns[b].name},
                            {"difference", value},
                            {"difference_ci", interval(lo, hi)},
                            {"verdict", verdict}});
            t.differences += io::csv_line({name, key, columns[a].name, columns[b].name, fmt::format("{}", value),
                                           fmt::format("{}", lo), fmt::format("{}", hi), verdict}) +
                             "\n";
          }
        }
        differences[name][key] = list;
      }
    }
    differences["definition"] =
        "pAUC(method_a) - pAUC(method_b) on the same bootstrap replicates; lower pAUC is better, so an interval "
        "below 0 favours method_a";
  }
  return differences;
}

void write_tables(const Study& s, const Tables& t, const fs::path& out) {
  const auto& opt = s.opt;
  const auto& set = s.set;
  const auto& index = s.index;
  std::string comparisons_csv = io::csv_line({"a", "b", "mated", "similarity"}) + "\n";
  for (const auto& c : set.comparisons) {
    comparisons_csv +=
        io::csv_line({index[static_cast<std::size_t>(c.a)].path, index[static_cast<std::size_t>(c.b)].path,
                      c.mated ? "1" : "0", fmt::format("{}", c.score)}) +
        "\n";
  }
  io::write_text_atomically(out / "comparisons.csv", comparisons_csv);
  io::write_text_atomically(out / "edc.csv", t.curves);
  io::write_text_atomically(out / "groups.csv", t.groups);
  if (opt.bootstrap > 0) {
    io::write_text_atomically(out / "pauc.csv", t.pauc);
    io::write_text_atomically(out / "pauc_differences.csv", t.differences);
  }
  if (!set.excluded.empty()) {
    std::string text;
    for (const auto& e : set.excluded) text += e + "\n";
    io::write_text_atomically(out / "excluded.txt", text);
  }
}

void draw_figures(const Study& s, const Tables& t, const fs::path& out) {
  const auto& opt = s.opt;
  const double threshold = s.threshold;
  const double fnmr0 = s.fnmr0;
  viz::FigureBatch figures;
  figures.add(viz::LinePanels{
      out / "edc",
      opt.start_fnmr ? fmt::format("EDC, threshold {:.4f} fixed at starting FNMR {:g}", threshold, *opt.start_fnmr)
                     : fmt::format("EDC, threshold {:.4f} fixed at FMR {:g} (FNMR {:.4f})", threshold, opt.fmr, fnmr0),
      {t.fnm, t.fm}});
  figures.add(viz::LinePanels{
      out / "distributions",
      fmt::format("similarity distributions in the low and high groups ({})", opt.group.to_string()), t.distributions});
  figures.render(out / ".figures");
}

}  // namespace

EdcResult run_edc(const EdcOptions& opt) {
  const auto report = [&](const std::string& m) {
    if (opt.progress) opt.progress(m);
  };
  for (const double l : opt.discard_limits) {
    if (!(l > 0 && l <= 1))
      throw Error(ErrorCode::InvalidArgument, fmt::format("discard limit {} is not in (0, 1]", l));
  }
  store::read_meta(opt.store);
  io::StagedOutput staged(opt.out, opt.force, {"edc.json"});  // moved into place when complete
  const fs::path& out = staged.dir();
  const auto index = store::read_index_entries(opt.store);
  Study s(opt, index);
  report("comparisons");
  make_comparisons(s, io::read_npy(opt.store / "embeddings.npy"));
  EdcResult result;
  result.excluded = s.set.excluded;
  load_method_scores(s, result);
  fix_threshold(s, result);
  // Resampling units for the pAUC intervals: identities when known, else images.
  s.by_identity = resamples_identities(opt.bootstrap_unit, s.identities);
  nlohmann::json summary = {{"amva_version", version()},
                            {"created", utc_timestamp()},
                            {"store", fs::absolute(opt.store).lexically_normal().string()},
                            {"comparisons",
                             {{"source", s.set.source},
                              {"requested", s.set.requested},
                              {"used", s.set.comparisons.size()},
                              {"mated", s.mated},
                              {"nonmated", s.nonmated},
                              {"excluded", s.set.excluded.size()},
                              {"similarity", "cosine of the embeddings"}}},
                            {"settings", settings_json(s)}};
  if (opt.bootstrap > 0) {
    report(fmt::format("bootstrap of the pAUC values ({} replicates, {})", opt.bootstrap,
                       s.by_identity ? "identities" : "images"));
    s.reps = bootstrap_replicates(s);
    summary["settings"]["bootstrap"]["units"] = s.reps.units;
  }
  const double xmax = std::min(1.0, 2 * *std::max_element(opt.discard_limits.begin(), opt.discard_limits.end()));
  Tables t;
  t.fnm = {"FNM-EDC", "fraction of mated comparisons discarded", "FNMR of the rest", {}, xmax};
  t.fm = {"FM-EDC", "fraction of non-mated comparisons discarded", "FMR of the rest", {}, xmax};
  nlohmann::json methods = nlohmann::json::object();
  for (std::size_t mi = 0; mi < s.columns.size(); ++mi) {
    const auto& col = s.columns[mi];
    report(fmt::format("EDC of {}", col.name));
    result.methods.emplace_back();
    nlohmann::json mj = method_curves(s, mi, t, result.methods.back());
    if (opt.erc_refit) mj["erc_refit"] = erc_refit_json(s, col, t);
    mj["groups"] = group_errors(s, col, t, result.methods.back());
    methods[col.name] = mj;
  }
  summary["methods"] = methods;
  summary["baselines"] = baselines_json(s, t, report, result);
  summary["paired_differences"] = paired_differences(s, result.methods, t, result.differences);
  write_tables(s, t, out);
  io::write_text_atomically(out / "edc.json", io::json_text(summary, 2) + "\n");
  if (opt.figures) {
    report("drawing figures");
    draw_figures(s, t, out);
  }
  staged.publish("edc.json");
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
  result.summary = std::move(summary);
  return result;
}

}  // namespace amva::eval
