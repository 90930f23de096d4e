#include <fmt/format.h>

#include "amva/explain/explanation_folder.hpp"
#include "amva/pipeline/explain.hpp"
#include "cli.hpp"

namespace amva::cli {

void add_explain(CLI::App& app) {
  struct Args {
    ModelOptions models;
    std::filesystem::path reference;
    std::vector<std::filesystem::path> images;
    std::filesystem::path out;
    bool aligned = false;
    bool force = false;
    std::filesystem::path cache;
    int threads = 2;
    viz::Colormap colormap = viz::Colormap::Jet;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("explain",
                                 "Explain single images against a high-quality reference made by "
                                 "amva analyze (D and Z maps, regions, pose, eyes, FIQA scores)");
  add_quiet_flag(*cmd);
  cmd->add_option("--reference", args->reference, "A reference_<method>/ folder written by amva analyze")->required();
  cmd->add_option("--image", args->images, "An image or a folder of images; repeatable")->required();
  cmd->add_option("--out", args->out, "Output folder")->required()->check(folder_name());
  cmd->add_flag("--aligned", args->aligned, "Images are aligned 112x112 crops (no detection)");
  cmd->add_flag("--force", args->force,
                "Write into a non-empty --out folder that amva did not make (its same-named files are overwritten)");
  cmd->add_option("--cache", args->cache, "Jacobian cache folder");
  add_threads_option(*cmd, args->threads);
  add_colormap_option(*cmd, args->colormap);
  args->models.add_to(*cmd);
  cmd->callback([args] {
    pipeline::ExplainOptions o;
    o.reference = args->reference;
    o.images = args->images;
    o.out = args->out;
    o.card = args->models.card();
    o.measures = ModelOptions::measure_config();
    o.aligned = args->aligned;
    o.force = args->force;
    o.detector = args->models.detector_config();  // for --aligned: only its 68 points, for the eyes
    pipeline::use_attribute_models(o, args->models.resolved_models_dir());
    o.cache_dir = args->cache;
    o.threads = args->threads;
    o.colormap = args->colormap;
    TerminalProgress display;
    o.progress = display.progress();
    const auto r = pipeline::explain(o);
    display.finish();
    std::size_t ok = 0;
    for (const auto& x : r.images) {
      if (!x.ok) {
        fmt::print("{}: not explained ({})\n", x.path, x.error);
        continue;
      }
      ++ok;
      fmt::print(
          "{}: deviation {:.3f} (percentile {:.0f} among the high group), {:.0f} % outside the central face; {}\n",
          x.folder, x.deviation, x.percentile_high, 100 * x.share_outside, x.causes);
    }
    fmt::print("{} of {} images explained; ranking in {}\n", ok, r.images.size(),
               explain::ExplanationFolder{args->out}.ranking_csv().string());
  });
}

}  // namespace amva::cli
