#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "amva/eval/edc_study.hpp"
#include "amva/io/json_values.hpp"
#include "cli.hpp"

namespace amva::cli {
namespace {

// The terminal's summary: comparisons, threshold, the pAUC table and the paired differences.
void print_edc(const eval::EdcResult& r, const eval::EdcOptions& opt) {
  for (const auto& rep : r.score_reports) fmt::print("{}\n", rep.describe());
  const auto& s = r.summary;
  const auto& c = s["comparisons"];
  fmt::print("{}: {} comparisons ({} mated, {} non-mated), {} pairs left out{}\n", c["source"].get<std::string>(),
             c["used"].get<std::size_t>(), c["mated"].get<std::size_t>(), c["nonmated"].get<std::size_t>(),
             c["excluded"].get<std::size_t>(), r.excluded.empty() ? "" : " (listed in excluded.txt)");
  for (std::size_t i = 0; i < std::min<std::size_t>(r.excluded.size(), 5); ++i)
    fmt::print("  left out: {}\n", r.excluded[i]);
  const auto& st = s["settings"];
  fmt::print("threshold {:.5f} ({}): FNMR {:.4f}, FMR {:.5f}, {} false matches\n", st["threshold"].get<double>(),
             st["threshold_rule"].get<std::string>(), st["fnmr_at_threshold"].get<double>(),
             st["fmr_at_threshold"].get<double>(), st["false_matches_at_threshold"].get<std::size_t>());
  for (const auto& w : r.warnings) fmt::print("warning: {}\n", w);
  const bool intervals = opt.bootstrap > 0;
  if (intervals) {
    fmt::print("pAUC intervals: {:.0f} %, {} bootstrap replicates over {}, threshold held\n", 100 * opt.confidence,
               opt.bootstrap, st["bootstrap"]["unit"].get<std::string>() == "identity" ? "identities" : "images");
  }
  fmt::print("{:<12}", "FNM-EDC pAUC");
  for (const double l : opt.discard_limits) fmt::print("  @{:.2f} raw{} / -ideal", l, intervals ? " [interval]" : "");
  fmt::print("\n");
  for (const auto& [name, m] : s["methods"].items()) {
    fmt::print("{:<12}", name);
    for (const double l : opt.discard_limits) {
      const auto key = fmt::format("{:.2f}", l);
      const auto& e = m["fnm_edc"];
      fmt::print("  {} / {:.5f}  ",
                 intervals ? io::interval_text(e["pauc"][key], e["pauc_ci"][key], 5)
                           : fmt::format("{:.5f}", e["pauc"][key].get<double>()),
                 e["pauc_minus_ideal"][key].get<double>());
    }
    fmt::print("\n");
  }
  fmt::print("{:<12}", "random order");
  for (const double l : opt.discard_limits) {
    fmt::print("  {:.5f}            ",
               s["baselines"]["fnm_edc"]["random_pauc_mean"][fmt::format("{:.2f}", l)].get<double>());
  }
  fmt::print("\n");
  if (intervals) {
    for (const auto& [key, list] : s["paired_differences"]["fnm_edc"].items()) {
      for (const auto& d : list) {
        fmt::print("FNM pAUC@{} {} - {}: {} -> {}\n", key, d["method_a"].get<std::string>(),
                   d["method_b"].get<std::string>(), io::interval_text(d["difference"], d["difference_ci"], 5),
                   d["verdict"].get<std::string>());
      }
    }
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
    bool no_figures = false;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->options;
  auto* cmd = app.add_subcommand("edc",
                                 "Error-versus-discard characteristic of every FIQA method at one fixed "
                                 "threshold, with ideal and random baselines and errors per quality group");
  add_quiet_flag(*cmd);
  cmd->add_option("--store", o.store, "Store folder")->required();
  cmd->add_option("--out", o.out, "Output folder")->required();
  add_comparison_options(*cmd, o.pairs, o.labels, o.labels_from_folders);
  cmd->add_option("--max-nonmated", o.max_nonmated, "Non-mated pairs drawn from labels")->capture_default_str();
  cmd->add_option("--methods", o.scores.methods, "Built-in FIQA methods from quality.csv (default: all)")
      ->delimiter(',');
  args->scores.add_to(*cmd, o.scores);
  cmd->add_flag("--with-random", o.with_random, "Add a 'random' FIQA method (uniform scores) as a control");
  cmd->add_option("--fmr", o.fmr, "Target FMR that fixes the threshold")
      ->capture_default_str()
      ->check(CLI::Range(1e-9, 0.5));
  cmd->add_option("--start-fnmr", args->start_fnmr, "Fix the threshold at this starting FNMR instead")
      ->check(CLI::Range(0.0, 1.0));
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
  cmd->add_option("--seed", o.seed, "Seed for sampled pairs and random baselines")->capture_default_str();
  cmd->add_flag("--no-figures", args->no_figures, "Skip the figures");
  cmd->add_flag("--force", o.force,
                "Write into a non-empty --out folder that amva did not make (its same-named files are overwritten)");
  cmd->callback([args] {
    auto& opt = args->options;
    args->scores.apply(opt.scores);
    opt.group = stats::GroupRule::parse(args->group);
    args->ties.apply(opt.group);
    opt.bootstrap_unit = eval::parse_bootstrap_unit(args->bootstrap_unit);
    if (args->start_fnmr >= 0) opt.start_fnmr = args->start_fnmr;
    opt.figures = !args->no_figures;
    opt.progress = [](const std::string& m) { print_stage("edc", m); };
    const auto r = eval::run_edc(opt);
    print_edc(r, opt);
    fmt::print("wrote {}\n", (opt.out / "edc.json").string());
  });
}

}  // namespace amva::cli
