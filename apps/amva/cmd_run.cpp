#include <fmt/format.h>

#include "amva/cam/cam_method.hpp"
#include "amva/pipeline/study.hpp"
#include "amva/quality/quality_measure.hpp"
#include "cli.hpp"

namespace amva::cli {

void run_study_and_report(pipeline::StudyOptions& o, const ModelOptions& models) {
  const auto dir = models.resolved_models_dir();
  if (std::filesystem::exists(dir / "fr_pose.onnx") && std::filesystem::exists(dir / "fr_eye.onnx")) {
    o.pose_model = dir / "fr_pose.onnx";
    o.eye_model = dir / "fr_eye.onnx";
  }
  // Stage lines on stdout, one bar per long stage.
  TerminalProgress display([](const std::string& m) {
    if (!quiet()) fmt::print("{}\n", m);
  });
  o.progress = display.progress();
  const auto r = pipeline::run_study(o);
  display.finish();
  fmt::print("\nreport: {}\n", std::filesystem::absolute(r.report).string());
  for (const auto& line : r.findings) fmt::print("  {}\n", line);
}

void add_run(CLI::App& app) {
  struct Args {
    ModelOptions models;
    pipeline::StudyOptions options;
    ScoreCliOptions scores;
    std::string group = "top:10";
    TieCliOptions ties;
    DeviationCliOptions deviation;
    VerdictCliOptions verdicts;
    RobustnessCliOptions robustness;
    bool no_identities = false;
    bool faithfulness = false;
    int faithfulness_faces = 200;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->options;
  auto* cmd = app.add_subcommand("run",
                                 "The whole study: extract, built-in FIQA, analysis, EDC, explanations and "
                                 "a self-contained HTML report");
  add_quiet_flag(*cmd);
  cmd->add_option("--images", o.images, "Image folder or list")->required();
  cmd->add_option("--out", o.out, "Study folder (an existing store in it is resumed)")
      ->required()
      ->check(folder_name());
  add_comparison_options(*cmd, o.pairs, o.labels, o.labels_from_folders);
  add_no_identities_flag(*cmd, args->no_identities);
  cmd->add_option("--methods", o.scores.methods,
                  "Built-in FIQA methods (deviation: made after extraction from --deviation-cam maps, which the pass "
                  "then also extracts)")
      ->delimiter(',')
      ->check(CLI::IsMember(fiqa_method_names()))
      ->capture_default_str();
  args->deviation.add_to(*cmd, o.deviation);
  args->scores.add_to(*cmd, o.scores);
  cmd->add_option("--cam", o.cam, "CAM method of the maps")->capture_default_str();
  cmd->add_flag("--aligned", o.aligned, "Images are aligned 112x112 crops");
  cmd->add_flag("--force", o.force,
                "Write into a non-empty --out folder that amva did not make (its same-named files are overwritten)");
  cmd->add_option("--group", args->group, "Quality groups: top:K, quantiles:B or thresholds:...")
      ->capture_default_str();
  args->ties.add_to(*cmd);
  args->verdicts.add_to(*cmd, o.verdicts);
  args->robustness.add_to(*cmd, true);
  cmd->add_option("--explain", o.explain_count, "Explain the N most and N least deviating faces")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--explain-cam", o.explain_cam,
                  "Maps of the explanations and their reference (made from the first method's high and low groups "
                  "when it differs from --cam)")
      ->check(CLI::IsMember(cam::CamMethod::names()))
      ->capture_default_str();
  cmd->add_flag("--faithfulness", args->faithfulness,
                "Also measure how faithful the maps of --cam and --explain-cam are (amva faithfulness: about 800 "
                "forward passes per face)");
  cmd->add_option("--faithfulness-faces", args->faithfulness_faces, "Faces of the faithfulness games")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--faithfulness-steps", o.faithfulness_steps, "The games change the face in steps of 1/STEPS")
      ->capture_default_str()
      ->check(CLI::Range(2, 1000));
  cmd->add_option("--title", o.title, "Report title")->capture_default_str();
  add_figure_options(*cmd, o.figures, FigureChoice::Always);
  cmd->add_option("--cache", o.cache_dir, "Jacobian cache folder");
  add_threads_option(*cmd, o.threads);
  args->models.add_to(*cmd);
  cmd->callback([args] {
    auto& opt = args->options;
    args->scores.apply(opt.scores);
    opt.group = stats::GroupRule::parse(args->group);
    args->ties.apply(opt.group);
    args->verdicts.apply(opt.verdicts);
    args->deviation.apply(opt.deviation);
    opt.robustness = args->robustness.grid();
    if (args->faithfulness) opt.faithfulness_faces = args->faithfulness_faces;
    opt.identities_from_evident_folders = !args->no_identities;
    args->models.choose_models(opt);
    opt.measures = ModelOptions::measure_config();
    opt.detector = args->models.detector_config();
    run_study_and_report(opt, args->models);
  });
}

}  // namespace amva::cli
