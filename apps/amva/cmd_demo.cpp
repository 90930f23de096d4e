#include <fmt/format.h>

#include "amva/data/default_data.hpp"
#include "amva/io/folder_lock.hpp"
#include "amva/io/output_dir.hpp"
#include "amva/share.hpp"
#include "cli.hpp"

namespace amva::cli {

void add_demo(CLI::App& app) {
  struct Args {
    ModelOptions models;
    std::filesystem::path sources;
    std::filesystem::path out = "amva-demo";
    int levels = 3;
    int threads = 2;
    int faithfulness_faces = 6;
    bool force = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "demo", "Build the default data set (registry faces and controlled degradations) and run the whole study on it");
  add_quiet_flag(*cmd);
  cmd->add_option("--sources", args->sources, "Source photos (default: data/default/sources from setup)");
  cmd->add_option("--out", args->out, "Output folder")->capture_default_str()->check(folder_name());
  cmd->add_option("--levels", args->levels, "Degradation levels, 1 to 3")
      ->capture_default_str()
      ->check(CLI::Range(1, 3));
  add_threads_option(*cmd, args->threads);
  cmd->add_option("--faithfulness-faces", args->faithfulness_faces,
                  "Faces on which the faithfulness of the maps is measured (0: not measured)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--force", args->force,
                "Write into a non-empty --out folder that amva did not make (its same-named files are overwritten)");
  args->models.add_to(*cmd);
  cmd->callback([args] {
    io::claim_output_dir(args->out, args->force, {"store/meta.json", "report.html"});
    // Held from the data through the report; the study's own lock on the folder is this one.
    const io::FolderLock one_writer(args->out, "demo folder");
    data::DefaultDataOptions d;
    d.sources = args->sources.empty() ? share_dir() / "sources" : args->sources;
    d.out = args->out / "data";
    d.levels = args->levels;
    d.detector = args->models.detector_config();
    fmt::print("[data] default data: faces from {}, degraded at {} levels\n", d.sources.string(), d.levels);
    TerminalProgress data_display;
    const auto data = data::prepare_default_data(d, data_display.progress());
    data_display.finish();  // its last line before the study's
    fmt::print("{} photos, {} faces, {} images (identities in {})\n", data.photos, data.faces, data.degraded.written,
               (data.set.parent_path() / "labels.txt").string());

    pipeline::StudyOptions o;
    o.images = data.set;
    o.out = args->out;
    o.labels = data.set.parent_path() / "labels.txt";
    args->models.choose_models(o);
    o.measures = ModelOptions::measure_config();
    o.detector = d.detector;
    o.threads = args->threads;
    o.title = "amva demo: the default faces and their controlled degradations";
    o.force = args->force;
    if (args->faithfulness_faces > 0) o.faithfulness_faces = args->faithfulness_faces;
    run_study_and_report(o, args->models);
  });
}

}  // namespace amva::cli
