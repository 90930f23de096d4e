#include "amva/pipeline/extract.hpp"
#include "cli.hpp"
#include "launch.hpp"
#include "report_summary.hpp"

namespace amva::cli {

void add_extract(CLI::App& app) {
  struct Args {
    ModelOptions models;
    pipeline::ExtractOptions extract;
    std::string face_rule = "central";
    CamCliOptions cam;
    std::vector<std::string> quality;
    std::string part;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("extract", "Detect, align and embed every face into a store (resumable)");
  add_quiet_flag(*cmd);
  cmd->add_option("--images", args->extract.images, "Folder (recursive) or list file of images")->required();
  cmd->add_option("--out", args->extract.out, "Store folder to create or resume")->required()->check(folder_name());
  args->models.add_to(*cmd);
  cmd->add_flag("--aligned", args->extract.aligned, "Inputs are aligned face crops (resized to 112x112)");
  cmd->add_flag("--all-faces", args->extract.all_faces, "Keep every detected face, not only the primary one");
  cmd->add_option("--face-rule", args->face_rule,
                  "Which face is the image's: central (area - 2 * squared offset from the image centre, as "
                  "insightface) or largest")
      ->capture_default_str()
      ->check(CLI::IsMember({"central", "largest"}));
  add_cam_options(*cmd, args->cam);
  add_quality_option(*cmd, args->quality);
  add_threads_option(*cmd, args->extract.threads);
  cmd->add_option("--batch", args->extract.batch, "Images per batch (0: 32, or 2 with scorecam)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--shard-size", args->extract.shard_size, "Images per shard (unit of resumption)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-pixels", args->extract.max_pixels,
                  "Images whose header claims more pixels are recorded as too_large, not decoded")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--part", args->part,
                  "Only part i of N (every N-th image), for a job array; join the parts with amva merge");
  cmd->callback([args] {
    auto& opt = args->extract;
    if (!args->part.empty()) opt.part = io::parse_list_part(args->part);
    opt.card = args->models.card();
    opt.measures = ModelOptions::measure_config();
    if (!opt.aligned) opt.detector = args->models.detector_config();
    opt.face_rule = face::face_rule_from_string(args->face_rule);
    args->cam.apply(opt);
    opt.quality = args->quality;  // scored in the same pass
    auto& team = launched_team();
    // Under mpirun the root speaks for the job; its progress counts every rank's images.
    TerminalProgress display;
    const auto progress = team.is_root() ? display.progress() : amva::Progress{};
    const auto summary = pipeline::extract(opt, progress, &team);
    if (summary.finished) progress.count("extract", summary.processed, summary.listed - summary.resumed);
    display.finish();
    if (!team.is_root()) return;
    if (team.size() > 1) fmt::print("{} ranks\n", team.size());
    print_extract_summary(summary, opt.out);
    if (summary.quality) print_quality(*summary.quality, opt.quality);
  });
}

}  // namespace amva::cli
