// amva faithfulness: the deletion and insertion games for every CAM method on a store's faces.
#include <fmt/format.h>

#include "amva/pipeline/faithfulness.hpp"
#include "amva/report/faithfulness_section.hpp"
#include "cli.hpp"

namespace amva::cli {

void add_faithfulness(CLI::App& app) {
  struct Args {
    ModelOptions models;
    pipeline::FaithfulnessOptions options;
    std::filesystem::path cache;
    bool no_identities = false;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->options;
  auto* cmd = app.add_subcommand(
      "faithfulness",
      "Which CAM method's maps reflect what the FR model uses: deletion and insertion games on a sample of a store's "
      "faces, against a random order and a centre prior");
  add_quiet_flag(*cmd);
  cmd->add_option("--store", o.store, "A store made by amva extract (its images are read again)")
      ->required()
      ->check(folder_name());
  cmd->add_option("--out", o.out, "Output folder: faithfulness.csv, faithfulness.json, faithfulness.svg")
      ->required()
      ->check(folder_name());
  cmd->add_option("--cam", o.cams, "CAM methods to judge, comma-separated (default: those the store holds)")
      ->delimiter(',')
      ->check(CLI::IsMember(cam::CamMethod::names()));
  cmd->add_option("--faces", o.faces, "Faces sampled (seeded)")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--steps", o.game.steps, "The games change the face in steps of 1/STEPS")
      ->capture_default_str()
      ->check(CLI::Range(2, 1000));
  cmd->add_option("--seed", o.seed, "Seed of the sample, ties, random orders, ROAD's noise and the bootstrap")
      ->capture_default_str()
      ->check(seed_value());
  cmd->add_option("--bootstrap", o.bootstrap, "Bootstrap replicates of the intervals (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_flag("--force", o.force,
                "Write into a non-empty --out folder that amva did not make (its same-named files are overwritten)");
  add_identity_options(*cmd, o.identities);
  add_no_identities_flag(*cmd, args->no_identities);
  cmd->add_option("--cache", args->cache, "Jacobian cache folder");
  add_threads_option(*cmd, o.threads);
  args->models.add_to(*cmd, true);
  cmd->callback([args] {
    auto opt = args->options;
    opt.card = args->models.card();
    opt.cache_dir = args->cache;
    opt.identities_from_evident_folders = !args->no_identities;
    TerminalProgress display;
    opt.progress = display.progress();
    const auto r = pipeline::measure_faithfulness(opt);
    display.finish();
    for (const auto& line : report::faithfulness_lines(r)) fmt::print("{}\n", line);
    fmt::print("{} faces{}, {} forward passes per face, {:.1f} s; written to {}\n", r.faces,
               r.identities ? fmt::format(" of {} people", r.identities) : "", r.forwards_per_face, r.seconds,
               opt.out.string());
  });
}

}  // namespace amva::cli
