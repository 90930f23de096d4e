#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "amva/eval/edc_study.hpp"
#include "cli.hpp"

namespace amva::cli {

void add_edc(CLI::App& app) {
  struct Args {
    eval::EdcOptions options;
    ScoreCliOptions scores;
    std::string group = "top:10";
    double start_fnmr = -1;
    bool no_figures = false;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->options;
  auto* cmd = app.add_subcommand("edc",
                                 "Error-versus-discard characteristic of every FIQA method at one fixed "
                                 "threshold, with ideal and random baselines and errors per quality group");
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
  cmd->add_option("--seed", o.seed, "Seed for sampled pairs and random baselines")->capture_default_str();
  cmd->add_flag("--no-figures", args->no_figures, "Skip the figures");
  cmd->callback([args] {
    auto& opt = args->options;
    args->scores.apply(opt.scores);
    opt.group = stats::GroupRule::parse(args->group);
    if (args->start_fnmr >= 0) opt.start_fnmr = args->start_fnmr;
    opt.figures = !args->no_figures;
    if (isatty(STDERR_FILENO)) opt.progress = [](const std::string& m) { fmt::print(stderr, "amva edc: {}\n", m); };
    const auto r = eval::run_edc(opt);
    for (const auto& rep : r.score_reports) fmt::print("{}\n", rep.describe());
    const auto& s = r.summary;
    const auto& c = s["comparisons"];
    fmt::print("{}: {} comparisons ({} mated, {} non-mated), {} pairs left out{}\n", c["source"].get<std::string>(),
               c["used"].get<std::size_t>(), c["mated"].get<std::size_t>(), c["nonmated"].get<std::size_t>(),
               c["excluded"].get<std::size_t>(), r.excluded.empty() ? "" : " (listed in excluded.txt)");
    for (std::size_t i = 0; i < std::min<std::size_t>(r.excluded.size(), 5); ++i)
      fmt::print("  left out: {}\n", r.excluded[i]);
    const auto& st = s["settings"];
    fmt::print("threshold {:.5f} ({}): FNMR {:.4f}, FMR {:.5f}\n", st["threshold"].get<double>(),
               st["threshold_rule"].get<std::string>(), st["fnmr_at_threshold"].get<double>(),
               st["fmr_at_threshold"].get<double>());
    fmt::print("{:<12}", "FNM-EDC pAUC");
    for (const double l : opt.discard_limits) fmt::print("  @{:.2f} raw / -ideal", l);
    fmt::print("\n");
    for (const auto& [name, m] : s["methods"].items()) {
      fmt::print("{:<12}", name);
      for (const double l : opt.discard_limits) {
        const auto key = fmt::format("{:.2f}", l);
        fmt::print("  {:.5f} / {:.5f}  ", m["fnm_edc"]["pauc"][key].get<double>(),
                   m["fnm_edc"]["pauc_minus_ideal"][key].get<double>());
      }
      fmt::print("\n");
    }
    fmt::print("{:<12}", "random order");
    for (const double l : opt.discard_limits) {
      fmt::print("  {:.5f}            ",
                 s["baselines"]["fnm_edc"]["random_pauc_mean"][fmt::format("{:.2f}", l)].get<double>());
    }
    fmt::print("\nwrote {}\n", (opt.out / "edc.json").string());
  });
}

}  // namespace amva::cli
