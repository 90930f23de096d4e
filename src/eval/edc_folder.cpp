// amva edc's output folder: the only code that knows its file names (through EdcFolder), its
// CSV columns and edc.json's keys.
#include "amva/eval/edc_folder.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/json_values.hpp"
#include "amva/version.hpp"
#include "amva/viz/figures.hpp"
#include "edc_parts.hpp"

namespace amva::eval {
namespace fs = std::filesystem;
namespace {

const char* curve_name(bool fnm) {
  return fnm ? "fnm_edc" : "fm_edc";
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

nlohmann::json settings_json(const EdcStudy& s) {
  const auto& opt = s.opt;
  nlohmann::json settings = {
      {"threshold_rule", threshold_rule(opt)},
      {"target_fmr", opt.start_fnmr ? nlohmann::json(nullptr) : nlohmann::json(opt.fmr)},
      {"threshold", s.threshold},
      {"fnmr_at_threshold", io::json_number(s.fnmr0)},
      {"fmr_at_threshold", io::json_number(s.fmr0)},
      {"false_matches_at_threshold", s.false_matches},
      {"bootstrap",
       {{"replicates", opt.bootstrap},
        {"confidence", opt.confidence},
        {"seed", opt.seed},
        {"unit", s.by_identity ? "identity" : "image"},
        {"identities", s.by_identity ? nlohmann::json(s.identities.description) : nullptr},
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
  if (opt.bootstrap > 0) settings["bootstrap"]["units"] = s.reps.units;
  return settings;
}

nlohmann::json group_json(const EdcGroupErrors& g) {
  return {{"faces", g.faces},
          {"mated", g.mated},
          {"nonmated", g.nonmated},
          {"fnmr", io::json_number(g.fnmr)},
          {"fmr", io::json_number(g.fmr)},
          {"score_min", io::json_number(g.score_min)},
          {"score_max", io::json_number(g.score_max)}};
}

// edc.json's methods.<name>.
nlohmann::json method_json(const EdcStudy& s, std::size_t mi, const EdcMethod& m) {
  const auto& opt = s.opt;
  const auto& col = s.columns[mi];
  const auto& c = s.curves[mi];
  nlohmann::json j = {{"source", col.source},
                      {"negated", col.negated},
                      {"fnm_edc", curve_json(c.fnm, opt.discard_limits, "fnmr")},
                      {"fm_edc", curve_json(c.fm, opt.discard_limits, "fmr")}};
  if (opt.bootstrap > 0) {
    for (const auto& [name, raw, above] :
         {std::tuple{"fnm_edc", &m.fnm, &m.fnm_above_ideal}, std::tuple{"fm_edc", &m.fm, &m.fm_above_ideal}}) {
      nlohmann::json ci = nlohmann::json::object();
      nlohmann::json ci_above = nlohmann::json::object();
      for (std::size_t l = 0; l < opt.discard_limits.size(); ++l) {
        const auto key = limit_key(opt.discard_limits[l]);
        ci[key] = io::json_interval((*raw)[l].lo, (*raw)[l].hi);
        ci_above[key] = io::json_interval((*above)[l].lo, (*above)[l].hi);
      }
      j[name]["pauc_ci"] = ci;
      j[name]["pauc_minus_ideal_ci"] = ci_above;
    }
  }
  if (c.erc_refit) {
    j["erc_refit"] = {{"label", "ERC with the threshold refitted at every step (not an EDC)"},
                      {"discard", c.erc_refit->discard},
                      {"fnmr", c.erc_refit->error}};
  }
  j["groups"] = {{c.low_group, group_json(m.low)}, {c.high_group, group_json(m.high)}};
  return j;
}

nlohmann::json baselines_json(const EdcStudy& s) {
  nlohmann::json baselines = nlohmann::json::object();
  for (const auto& b : s.baselines) {
    nlohmann::json pauc = nlohmann::json::object();
    nlohmann::json ideal_area = nlohmann::json::object();
    for (std::size_t l = 0; l < s.opt.discard_limits.size(); ++l) {
      const auto key = limit_key(s.opt.discard_limits[l]);
      pauc[key] = b.random_pauc[l];
      ideal_area[key] = b.ideal_area[l];
    }
    baselines[curve_name(b.fnm)] = {
        {"starting_error", b.starting_error}, {"random_pauc_mean", pauc}, {"random_expected_error", b.starting_error},
        {"ideal_area", ideal_area},           {"grid", s.grid},           {"random_mean", b.random}};
  }
  return baselines;
}

nlohmann::json paired_differences_json(const EdcStudy& s, const std::vector<PaucDifference>& differences) {
  nlohmann::json j = nlohmann::json::object();
  if (s.opt.bootstrap <= 0) return j;
  for (const bool fnm : {true, false}) {
    for (const double limit : s.opt.discard_limits) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& d : differences) {
        if (d.fnm != fnm || d.limit != limit) continue;
        list.push_back({{"method_a", d.method_a},
                        {"method_b", d.method_b},
                        {"difference", d.difference.value},
                        {"difference_ci", io::json_interval(d.difference.lo, d.difference.hi)},
                        {"verdict", d.verdict}});
      }
      j[curve_name(fnm)][limit_key(limit)] = list;
    }
  }
  j["definition"] =
      "pAUC(method_a) - pAUC(method_b) on the same bootstrap replicates; lower pAUC is better, so an interval "
      "below 0 favours method_a";
  return j;
}

std::string curve_rows(const std::string& method, const std::string& curve, const std::vector<double>& x,
                       const std::vector<double>& y) {
  std::string rows;
  for (std::size_t i = 0; i < x.size(); ++i) {
    rows += io::csv_line({method, curve, fmt::format("{}", x[i]), fmt::format("{}", y[i])}) + "\n";
  }
  return rows;
}

// edc.csv: every point of every curve, then the baselines.
std::string curves_csv(const EdcStudy& s) {
  std::string csv = io::csv_line({"method", "curve", "discard", "error"}) + "\n";
  for (std::size_t mi = 0; mi < s.columns.size(); ++mi) {
    const auto& name = s.columns[mi].name;
    const auto& c = s.curves[mi];
    csv += curve_rows(name, "fnm_edc", c.fnm.discard, c.fnm.error);
    csv += curve_rows(name, "fm_edc", c.fm.discard, c.fm.error);
    if (c.erc_refit) {
      csv += curve_rows(name, "erc_refit (threshold refitted, not an EDC)", c.erc_refit->discard, c.erc_refit->error);
    }
  }
  for (const auto& b : s.baselines) {
    csv += curve_rows("baseline_random", curve_name(b.fnm), s.grid, b.random);
    csv += curve_rows("baseline_ideal", curve_name(b.fnm), s.grid, b.ideal);
  }
  return csv;
}

std::string groups_csv(const EdcStudy& s, const EdcResult& result) {
  std::string csv =
      io::csv_line({"method", "group", "mated", "nonmated", "fnmr", "fmr", "score_min", "score_max"}) + "\n";
  for (std::size_t mi = 0; mi < s.columns.size(); ++mi) {
    const auto& m = result.methods[mi];
    for (const auto& [name, g] : {std::pair{&s.curves[mi].low_group, &m.low}, {&s.curves[mi].high_group, &m.high}}) {
      csv += io::csv_line({s.columns[mi].name, *name, std::to_string(g->mated), std::to_string(g->nonmated),
                           fmt::format("{}", g->fnmr), fmt::format("{}", g->fmr), fmt::format("{}", g->score_min),
                           fmt::format("{}", g->score_max)}) +
             "\n";
    }
  }
  return csv;
}

std::string pauc_csv(const EdcStudy& s, const EdcResult& result) {
  std::string csv = io::csv_line({"method", "curve", "discard_limit", "pauc", "pauc_lo", "pauc_hi", "pauc_minus_ideal",
                                  "pauc_minus_ideal_lo", "pauc_minus_ideal_hi"}) +
                    "\n";
  for (const auto& m : result.methods) {
    for (const auto& [name, raw, above] :
         {std::tuple{"fnm_edc", &m.fnm, &m.fnm_above_ideal}, std::tuple{"fm_edc", &m.fm, &m.fm_above_ideal}}) {
      for (std::size_t l = 0; l < s.opt.discard_limits.size(); ++l) {
        const auto& p = (*raw)[l];
        const auto& a = (*above)[l];
        csv += io::csv_line({m.name, name, limit_key(s.opt.discard_limits[l]), fmt::format("{}", p.value),
                             fmt::format("{}", p.lo), fmt::format("{}", p.hi), fmt::format("{}", a.value),
                             fmt::format("{}", a.lo), fmt::format("{}", a.hi)}) +
               "\n";
      }
    }
  }
  return csv;
}

std::string differences_csv(const std::vector<PaucDifference>& differences) {
  std::string csv =
      io::csv_line({"curve", "discard_limit", "method_a", "method_b", "difference", "lo", "hi", "verdict"}) + "\n";
  for (const auto& d : differences) {
    csv += io::csv_line({curve_name(d.fnm), limit_key(d.limit), d.method_a, d.method_b,
                         fmt::format("{}", d.difference.value), fmt::format("{}", d.difference.lo),
                         fmt::format("{}", d.difference.hi), d.verdict}) +
           "\n";
  }
  return csv;
}

void write_tables(const EdcStudy& s, const EdcResult& result, const EdcFolder& folder) {
  const auto& set = s.set;
  std::string comparisons_csv = io::csv_line({"a", "b", "mated", "similarity"}) + "\n";
  for (const auto& c : set.comparisons) {
    comparisons_csv +=
        io::csv_line({s.index[static_cast<std::size_t>(c.a)].path, s.index[static_cast<std::size_t>(c.b)].path,
                      c.mated ? "1" : "0", fmt::format("{}", c.score)}) +
        "\n";
  }
  io::write_text_atomically(folder.comparisons_csv(), comparisons_csv);
  io::write_text_atomically(folder.curves_csv(), curves_csv(s));
  io::write_text_atomically(folder.groups_csv(), groups_csv(s, result));
  if (s.opt.bootstrap > 0) {
    io::write_text_atomically(folder.pauc_csv(), pauc_csv(s, result));
    io::write_text_atomically(folder.pauc_differences_csv(), differences_csv(result.differences));
  }
  if (!set.excluded.empty()) {
    std::string text;
    for (const auto& e : set.excluded) text += e + "\n";
    io::write_text_atomically(folder.excluded_txt(), text);
  }
}

// The EDC panel of one curve kind: every method's curve (with its bootstrap band), then the
// ideal and random baselines.
viz::Panel edc_panel(const EdcStudy& s, bool fnm) {
  const auto& opt = s.opt;
  const double xmax = std::min(1.0, 2 * *std::max_element(opt.discard_limits.begin(), opt.discard_limits.end()));
  viz::Panel panel =
      fnm ? viz::Panel{"FNM-EDC", "fraction of mated comparisons discarded", "FNMR of the rest", {}, xmax}
          : viz::Panel{"FM-EDC", "fraction of non-mated comparisons discarded", "FMR of the rest", {}, xmax};
  for (std::size_t mi = 0; mi < s.columns.size(); ++mi) {
    const auto& c = fnm ? s.curves[mi].fnm : s.curves[mi].fm;
    panel.series.push_back({s.columns[mi].name, c.discard, c.error, {}, {}, "-", true});
    if (opt.bootstrap > 0) {
      panel.series.push_back({"", s.grid, s.grid, fnm ? s.reps.fnm_lo[mi] : s.reps.fm_lo[mi],
                              fnm ? s.reps.fnm_hi[mi] : s.reps.fm_hi[mi], "-", false, true});
    }
  }
  for (const auto& b : s.baselines) {
    if (b.fnm != fnm) continue;
    panel.series.push_back({"ideal", s.grid, b.ideal, {}, {}, "k:", false});
    panel.series.push_back(
        {fmt::format("random (mean of {})", opt.random_orders), s.grid, b.random, {}, {}, "--", false});
  }
  return panel;
}

void draw_figures(const EdcStudy& s, const EdcFolder& folder) {
  const auto& opt = s.opt;
  viz::FigureBatch figures(opt.figures);
  figures.add(viz::LinePanels{
      folder.edc_figure(),
      opt.start_fnmr
          ? fmt::format("EDC, threshold {:.4f} fixed at starting FNMR {:g}", s.threshold, *opt.start_fnmr)
          : fmt::format("EDC, threshold {:.4f} fixed at FMR {:g} (FNMR {:.4f})", s.threshold, opt.fmr, s.fnmr0),
      {edc_panel(s, true), edc_panel(s, false)}});
  std::vector<viz::Panel> distributions;
  const auto x = similarity_grid();
  for (std::size_t mi = 0; mi < s.columns.size(); ++mi) {
    viz::Panel dist{s.columns[mi].name, "cosine similarity", "density", {}, std::nullopt};
    for (const auto& d : s.curves[mi].densities) {
      dist.series.push_back({d.label, x, d.values, {}, {}, d.low ? "--" : "-", false});
    }
    dist.series.push_back({"threshold", {s.threshold, s.threshold}, {0.0, 0.0}, {}, {}, "k|", false});
    distributions.push_back(dist);
  }
  figures.add(viz::LinePanels{
      folder.distributions_figure(),
      fmt::format("similarity distributions in the low and high groups ({})", opt.group.to_string()), distributions});
  figures.render(folder.dir / ".figures");
}

}  // namespace

std::string limit_key(double limit) {
  return fmt::format("{:.2f}", limit);
}

nlohmann::json write_edc_folder(const EdcStudy& s, const EdcResult& result, const fs::path& dir) {
  const auto& opt = s.opt;
  const EdcFolder folder{dir};
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
                            {"settings", settings_json(s)},
                            {"methods", nlohmann::json::object()},
                            {"baselines", baselines_json(s)},
                            {"paired_differences", paired_differences_json(s, result.differences)}};
  for (std::size_t mi = 0; mi < s.columns.size(); ++mi) {
    summary["methods"][s.columns[mi].name] = method_json(s, mi, result.methods[mi]);
  }
  write_tables(s, result, folder);
  io::write_text_atomically(folder.summary(), io::json_text(summary, 2) + "\n");
  if (opt.figures.draw) {
    opt.progress.stage("drawing figures");
    draw_figures(s, folder);
  }
  return summary;
}

}  // namespace amva::eval
