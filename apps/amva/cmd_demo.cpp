#include <fmt/format.h>

#include "amva/analysis/amva_analysis.hpp"
#include "amva/data/default_data.hpp"
#include "amva/pipeline/extract.hpp"
#include "cli.hpp"
#include "report_summary.hpp"

namespace amva::cli {

void add_demo(CLI::App& app) {
  struct Args {
    ModelOptions models;
    std::filesystem::path sources;
    std::filesystem::path out = "amva-demo";
    int levels = 3;
    int threads = 2;
    std::vector<std::string> cams = {"gradcam", "contribution"};
    std::vector<std::string> quality = {"serfiq",     "brisque",  "magnitude", "sharpness",
                                        "brightness", "contrast", "face_size"};
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("demo", "Build the default data set and run amva on it");
  cmd->add_option("--sources", args->sources, "Source photos (default: data/default/sources from setup)");
  cmd->add_option("--out", args->out, "Output folder")->capture_default_str();
  cmd->add_option("--levels", args->levels, "Degradation levels, 1 to 3")
      ->capture_default_str()
      ->check(CLI::Range(1, 3));
  cmd->add_option("--threads", args->threads, "Worker threads")->capture_default_str();
  args->models.add_to(*cmd);
  cmd->callback([args] {
    data::DefaultDataOptions d;
    d.sources = args->sources.empty() ? std::filesystem::path(AMVA_DEFAULT_SOURCES_DIR) : args->sources;
    d.out = args->out / "data";
    d.levels = args->levels;
    d.detector = args->models.detector_config();
    fmt::print("[1/4] default data: faces from {}, degraded at {} levels\n", d.sources.string(), d.levels);
    Progress data_progress("degrade");
    const auto data = data::prepare_default_data(d, [&](std::size_t a, std::size_t b) { data_progress.update(a, b); });
    fmt::print("{} photos, {} faces, {} images (identities in {})\n", data.photos, data.faces, data.degraded.written,
               (data.set.parent_path() / "labels.txt").string());

    pipeline::ExtractOptions e;
    e.images = data.set;
    e.out = args->out / "store";
    e.card = args->models.card();
    e.detector = d.detector;
    e.threads = args->threads;
    e.cams = args->cams;
    fmt::print("[2/4] extract embeddings and maps ({}) into {}\n", fmt::join(e.cams, ", "), e.out.string());
    Progress progress("extract");
    const auto summary =
        pipeline::extract(e, [&](const pipeline::ExtractProgress& p) { progress.update(p.done, p.total); });
    print_extract_summary(summary, e.out);
    fmt::print("[3/4] built-in FIQA scores\n");
    run_quality(e.out, args->quality, e.card, e.cache_dir, args->threads);

    analysis::AnalysisOptions a;
    a.store = e.out;
    a.out = args->out / "analysis";
    a.cam = "gradcam";
    fmt::print("[4/4] activation map variation analysis ({} maps, {}) into {}\n", a.cam, a.group.to_string(),
               a.out.string());
    print_analysis(analysis::analyze(a), a.out);
  });
}

}  // namespace amva::cli
