#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "amva/eval/edc_folder.hpp"
#include "amva/eval/edc_study.hpp"
#include "amva/io/json_values.hpp"
#include "cli.hpp"

namespace amva::cli {
namespace {

// The terminal's summary: comparisons, threshold, the pAUC table and the paired differences.
void print_edc(const eval::EdcResult& r, const eval::EdcOptions& opt) {
  for (const auto& rep : r.score_reports) fmt::print("{}\n", rep.describe());
  const auto& c = r.comparisons;
  fmt::print("{}: {} comparisons ({} mated, {} non-mated), {} pairs left out{}\n", c.source, c.used, c.mated,
             c.nonmated, c.excluded, r.excluded.empty() ? "" : " (listed in excluded.txt)");
  for (std::size_t i = 0; i < std::min<std::size_t>(r.excluded.size(), 5); ++i)
    fmt::print("  left out: {}\n", r.excluded[i]);
  fmt::print("threshold {:.5f} ({}): FNMR {:.4f}, FMR {:.5f}, {} false matches\n", r.threshold, r.threshold_rule,
             r.fnmr_at_threshold, r.fmr_at_threshold, r.false_matches_at_threshold);
  for (const auto& w : r.warnings) fmt::print("warning: {}\n", w);
  const bool intervals = r.bootstrap;
  if (intervals) {
    fmt::print("pAUC intervals: {:.0f} %, {} bootstrap replicates over {}, threshold held\n", 100 * opt.confidence,
               opt.bootstrap, r.bootstrap_identities ? "identities" : "images");
  }
  fmt::print("{:<12}", "FNM-EDC pAUC");
  for (const double l : r.discard_limits) fmt::print("  @{:.2f} raw{} / -ideal", l, intervals ? " [interval]" : "");
  fmt::print("\n");
  // By name, as edc.json lists them.
  std::vector<const eval::EdcMethod*> methods;
  for (const auto& m : r.methods) methods.push_back(&m);
  std::sort(methods.begin(), methods.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  for (const auto* m : methods) {
    fmt::print("{:<12}", m->name);
    for (std::size_t l = 0; l < r.discard_limits.size(); ++l) {
      const auto& p = m->fnm[l];
      fmt::print("  {} / {:.5f}  ",
                 intervals ? io::bounded_text(p.value, p.lo, p.hi, 5) : fmt::format("{:.5f}", p.value),
                 m->fnm_above_ideal[l].value);
    }
    fmt::print("\n");
  }
  fmt::print("{:<12}", "random order");
  for (const double mean : r.random_fnm_pauc) fmt::print("  {:.5f}            ", mean);
  fmt::print("\n");
  std::vector<const eval::PaucDifference*> differences;
  for (const auto& d : r.differences)
    if (d.fnm) differences.push_back(&d);
  std::stable_sort(differences.begin(), differences.end(),
                   [](const auto* a, const auto* b) { return a->limit < b->limit; });
  for (const auto* d : differences) {
    fmt::print("FNM pAUC@{:.2f} {} - {}: {} -> {}\n", d->limit, d->method_a, d->method_b,
               io::bounded_text(d->difference.value, d->difference.lo, d->difference.hi, 5), d->verdict);
  }
}

}  // namespace

void add_edc(CLI::App& app) {
  struct Args {
    eval::EdcOptions options;
    ScoreCliOptions scores;
    std::string group = "top:10";
    TieCliOptions ties;
    std::string bootstrap_unit = "auto";
    double start_fnmr = -1;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->options;
  auto* cmd = app.add_subcommand("edc",
                                 "Error-versus-discard characteristic of every FIQA method at one fixed "
                                 "threshold, with ideal and random baselines and errors per quality group");
  add_quiet_flag(*cmd);
  cmd->add_option("--store", o.store, "Store folder")->required()->check(folder_name());
  cmd->add_option("--out", o.out, "Output folder")->required()->check(folder_name());
  add_comparison_options(*cmd, o.pairs, o.labels, o.labels_from_folders);
  cmd->add_option("--max-nonmated", o.max_nonmated, "Non-mated pairs drawn from labels")->capture_default_str();
  cmd->add_option("--methods", o.scores.methods, "Built-in FIQA methods from quality.csv (default: all, or none when --scores is given)")
      ->delimiter(',');
  args->scores.add_to(*cmd, o.scores);
  cmd->add_flag("--with-random", o.with_random, "Add a 'random' FIQA method (uniform scores) as a control");
  auto* fmr = cmd->add_option("--fmr", o.fmr, "Target FMR that fixes the threshold")
                   ->capture_default_str()
                   ->check(CLI::Range(1e-9, 0.5));
  // One threshold rule: given both, --fmr was ignored.
  cmd->add_option("--start-fnmr", args->start_fnmr, "Fix the threshold at this starting FNMR instead")
      ->check(CLI::Range(0.0, 1.0))
      ->excludes(fmr);
  cmd->add_option("--discard-limit", o.discard_limits, "pAUC discard limits, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--erc-refit", o.erc_refit,
                "Also the refitted-threshold 'ERC' of many FIQA papers (labelled as such; not an EDC)");
  cmd->add_option("--group", args->group, "Quality groups, as amva analyze")->capture_default_str();
  args->ties.add_to(*cmd);
  cmd->add_option("--bootstrap", o.bootstrap, "Bootstrap replicates for the pAUC intervals (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--bootstrap-unit", args->bootstrap_unit,
                  "Resample images or identities (auto: identities when the pairs or labels name them)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "image", "identity"}));
  cmd->add_option("--confidence", o.confidence, "Interval confidence")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 0.999));
  cmd->add_option("--seed", o.seed, "Seed for sampled pairs and random baselines")
      ->capture_default_str()
      ->check(seed_value());
  add_figure_options(*cmd, o.figures, FigureChoice::CanSkip);
  cmd->add_flag("--force", o.force,
                "Write into a non-empty --out folder that amva did not make (its same-named files are overwritten)");
  cmd->callback([args] {
    auto& opt = args->options;
    args->scores.apply(opt.scores);
    opt.group = stats::GroupRule::parse(args->group);
    args->ties.apply(opt.group);
    opt.bootstrap_unit = eval::parse_bootstrap_unit(args->bootstrap_unit);
    if (args->start_fnmr >= 0) opt.start_fnmr = args->start_fnmr;
    opt.progress = stage_messages("edc");
    const auto r = eval::run_edc(opt);
    print_edc(r, opt);
    fmt::print("wrote {}\n", eval::EdcFolder{opt.out}.summary().string());
  });
}

}  // namespace amva::cli
