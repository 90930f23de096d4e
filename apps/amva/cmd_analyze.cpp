#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "amva/analysis/analyze.hpp"
#include "amva/analysis/analysis_folder.hpp"
#include "amva/io/json_values.hpp"
#include "cli.hpp"
#include "launch.hpp"

namespace amva::cli {

void print_null_controls(const analysis::NullControls& n) {
  fmt::print(
      "null controls: {} of {} got a false verdict (nominal {:g}, binomial p = {:.3g}); {} had a significant "
      "cell (nominal {:g}, p = {:.3g})\n",
      n.false_verdicts, n.controls.size(), n.alpha, n.p_false_verdicts, n.with_significant_cell, n.cell_level,
      n.p_significant_cell);
  if (n.warns_verdicts() || n.warns_cells()) {
    fmt::print(
        "warning: the null controls got more false {} than the nominal rate allows: the verdicts on this data "
        "are not calibrated{}\n",
        n.warns_verdicts() ? "verdicts" : "significant cells",
        n.identities ? "" : " (give identities, so that the tests move whole people)");
  }
}

void print_robustness(const analysis::Robustness& r) {
  fmt::print("robustness: {} specifications per method ({} CAM methods x {} normalisations x {} group sizes x {} "
             "margins), {:.1f} s (the joint test {:.1f} s):\n",
             r.methods.empty() ? 0 : r.methods.front().specifications, r.grid.cams.size(), r.grid.normalizations.size(),
             r.grid.group_percents.size(), r.grid.margins.size(), r.seconds, r.joint_seconds);
  for (const auto& m : r.methods) fmt::print("  {:<12} {}\n", m.method, m.sentence);
}

void print_analysis(const analysis::AnalysisResult& result, const std::filesystem::path& out) {
  for (const auto& r : result.score_reports) fmt::print("{}\n", r.describe());
  for (const auto& w : result.warnings) fmt::print("warning: {}\n", w);
  fmt::print("{} faces of {} records; {} maps, {} normalisation, groups {}\n", result.faces, result.records, result.cam,
             result.normalization, result.group_rule);
  if (result.constant_maps_dropped > 0) {
    fmt::print("left out {} faces whose map holds one value everywhere (--drop-constant-maps)\n",
               result.constant_maps_dropped);
  }
  if (result.identities_from_evident_folders) {
    fmt::print(
        "identities: from the images' folders, one sub-folder per person (--no-identities to treat images as "
        "independent)\n");
  }
  fmt::print("mean AM-V outside / inside the central face, {:.0f} % bootstrap intervals over {}{}:\n",
             100 * result.confidence, result.bootstrap_unit == "identity" ? "identities" : "images",
             result.bootstrap_unit == "identity" ? " (" + result.bootstrap_identities + ")" : std::string());
  const auto text = [](const analysis::Interval& i) { return io::bounded_text(i.value, i.lo, i.hi); };
  for (std::size_t k = 0; k < result.methods.size(); ++k) {
    const auto& m = result.methods[k];
    const auto& f = result.findings[k];
    for (const auto& g : m.groups) {
      if (!g.region) continue;
      fmt::print("  {:<12} {:<6} n={:<6} outside {}  inside {}\n", m.name, g.name, g.faces, text(g.region->outside_amv),
                 text(g.region->inside_amv));
    }
    if (m.compared()) {
      fmt::print("  {:<12} low - high outside: {}, p = {:.3g} ({}: {:.3g}) -> {}{}\n", m.name,
                 text(f.outside_amv_low_minus_high), f.p_outside, result.family, f.p_outside_family, f.finding,
                 result.bootstrap_unit == "identity" ? "" : " (images treated as independent)");
      fmt::print("  {:<12} log(outside AM-V low / high): {}; smallest detectable {:.3g}\n", m.name, text(f.log_ratio),
                 f.detectable_log_ratio);
      fmt::print("  {:<12} (outside - inside) of low - high: {} -> {}\n", m.name, text(f.outside_minus_inside),
                 f.specificity.empty() ? "n/a" : f.specificity);
    }
    if (const auto& v = m.variance_test) {
      fmt::print("  {:<12} cells with a variance difference ({}, level {:g}): {}/{} outside, {}/{} inside\n", m.name,
                 v->test, result.fdr, v->significant_outside, v->cells_outside, v->significant_inside, v->cells_inside);
    }
    if (const auto& d = m.degenerate; d && (d->low || d->high)) {
      fmt::print("  {:<12} maps with one value everywhere: {} low, {} high\n", m.name, d->low, d->high);
    }
  }
  fmt::print("verdicts at alpha {:g}, {} permutations of {}; family correction: {} over {} methods\n", result.alpha,
             result.permutations, result.bootstrap_unit == "identity" ? "whole people" : "images", result.family,
             result.family_size);
  if (result.bootstrap_unit != "identity") {
    fmt::print(
        "note: identities unknown, so every verdict treats images as independent; give --labels FILE, --pairs "
        "FILE or --labels-from-folders so that the tests move whole people\n");
  }
  if (const auto& n = result.null_controls) print_null_controls(*n);
  if (const auto& r = result.robustness) print_robustness(*r);
  fmt::print("wrote {}\n", analysis::AnalysisFolder{out}.summary().string());
}

void add_analyze(CLI::App& app) {
  struct Args {
    analysis::AnalysisOptions options;
    ScoreCliOptions scores;
    std::string group = "top:10";
    std::string normalize = "minmax";
    std::string median = "lower";
    std::string bootstrap_unit = "auto";
    TieCliOptions ties;
    VerdictCliOptions verdicts;
    RobustnessCliOptions robustness;
    std::size_t memory_mib = 256;
    bool no_identities = false;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->options;
  auto* cmd =
      app.add_subcommand("analyze",
                         "Activation map variation analysis: quality groups per FIQA method, per-pixel statistics, "
                         "region statistics with intervals, inter-FIQA comparison, references for amva explain");
  add_quiet_flag(*cmd);
  cmd->add_option("--store", o.store, "Store folder (with activation maps)")->required()->check(folder_name());
  cmd->add_option("--out", o.out, "Output folder")->required()->check(folder_name());
  cmd->add_option("--methods", o.scores.methods,
                  "Built-in FIQA methods from the store's quality.csv, comma-separated (default: all of them, or "
                  "none when --scores is given)")
      ->delimiter(',');
  args->scores.add_to(*cmd, o.scores);
  cmd->add_option("--cam", o.cam, "Which maps (default: the store's only ones, or gradcam)");
  cmd->add_option("--group", args->group, "top:K (bottom and top K %), quantiles:B, or thresholds:T1,T2,...")
      ->capture_default_str();
  cmd->add_option("--normalize", args->normalize, "Per-map normalisation before statistics")
      ->capture_default_str()
      ->check(CLI::IsMember({"minmax", "minmax-native", "none"}));
  args->ties.add_to(*cmd);
  cmd->add_option("--median", args->median,
                  "Median of an even count: lower (torch.median, the seed paper's code) or midpoint (NumPy)")
      ->capture_default_str()
      ->check(CLI::IsMember({"lower", "midpoint"}));
  add_identity_options(*cmd, o.identities);
  add_no_identities_flag(*cmd, args->no_identities);
  cmd->add_option("--bootstrap-unit", args->bootstrap_unit,
                  "Resample images, or identities then their images (auto: identities when given)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "image", "identity"}));
  args->verdicts.add_to(*cmd, o.verdicts);
  args->robustness.add_to(*cmd, false);
  cmd->add_option("--fdr", o.fdr,
                  "Level of the per-cell variance tests (family-wise with the permutation test, false discovery rate "
                  "with brown-forsythe)")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 0.5));
  cmd->add_option("--bootstrap", o.bootstrap.replicates, "Bootstrap replicates for the intervals")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--seed", o.bootstrap.seed, "Bootstrap seed")->capture_default_str()->check(seed_value());
  cmd->add_option("--confidence", o.bootstrap.confidence, "Interval confidence")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 0.999));
  cmd->add_option("--memory-budget", args->memory_mib,
                  "MiB for exact per-pixel medians of one group; larger groups use histograms")
      ->capture_default_str();
  cmd->add_flag("--drop-constant-maps", o.drop_constant_maps,
                "Leave out faces whose map holds one value everywhere (all zero after the ReLU): they carry no "
                "location (counted per group either way)");
  add_figure_options(*cmd, o.figures, FigureChoice::CanSkip);
  cmd->add_flag("--force", o.force,
                "Write into a non-empty --out folder that amva did not make (its same-named files are overwritten)");
  cmd->callback([args] {
    auto& opt = args->options;
    args->scores.apply(opt.scores);
    opt.group = stats::GroupRule::parse(args->group);
    args->ties.apply(opt.group);
    args->verdicts.apply(opt.verdicts);
    opt.robustness = args->robustness.grid();
    opt.normalization = analysis::parse_normalization(args->normalize);
    opt.median = stats::parse_median_convention(args->median);
    opt.bootstrap_unit = eval::parse_bootstrap_unit(args->bootstrap_unit);
    opt.memory_budget = args->memory_mib << 20;
    opt.identities_from_evident_folders = !args->no_identities;
    // Under mpirun the ranks share each group's maps; the root speaks and writes the folder.
    auto& team = launched_team();
    if (team.is_root()) opt.progress = stage_messages("analyze");
    const auto result = analysis::analyze(opt, &team);
    if (team.is_root()) print_analysis(result, opt.out);
  });
}

}  // namespace amva::cli
