#include <fmt/format.h>

#include "amva/data/degradations.hpp"
#include "cli.hpp"

namespace amva::cli {

void add_degrade(CLI::App& app) {
  struct Args {
    ModelOptions models;
    data::DegradeOptions degrade;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("degrade", "Write controlled degradations of face images, identities kept");
  add_quiet_flag(*cmd);
  cmd->add_option("--images", args->degrade.images, "Folder or list of face images, one identity each")->required();
  cmd->add_option("--out", args->degrade.out, "Output folder (gets manifest.csv and labels.txt)")->required()->check(folder_name());
  cmd->add_option("--levels", args->degrade.levels, "Strength levels per degradation, 1 to 3")
      ->capture_default_str()
      ->check(CLI::Range(1, 3));
  cmd->add_option("--seed", args->degrade.seed, "Random seed (noise, motion direction)")
      ->capture_default_str()
      ->check(seed_value());
  cmd->add_flag("--force", args->degrade.force,
                "Write into a non-empty --out folder that amva did not make (its same-named files are overwritten)");
  args->models.add_to(*cmd, false);
  cmd->callback([args] {
    args->degrade.detector = args->models.detector_config();
    TerminalProgress display;
    const auto s = data::generate_degraded_set(args->degrade, display.progress());
    fmt::print("{} source faces, {} images written to {}\n", s.sources, s.written, args->degrade.out.string());
    for (const auto& why : s.skipped) fmt::print("  skipped {}\n", why);
  });
}

}  // namespace amva::cli
