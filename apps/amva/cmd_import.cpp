#include <fmt/format.h>

#include "amva/store/import.hpp"
#include "cli.hpp"

namespace amva::cli {

void add_import(CLI::App& app) {
  struct Args {
    store::MapsImport maps;
    std::filesystem::path group_stacks;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("import",
                                 "Make a store of activation maps computed elsewhere (pytorch-grad-cam, "
                                 "the official AMVA code), for analyze and edc");
  add_quiet_flag(*cmd);
  auto* maps = cmd->add_option("--maps", args->maps.maps,
                               "An N x H x W float32 .npy (with --list), or a folder of one .npy per image");
  cmd->add_option("--list", args->maps.list, "The images of the .npy's rows, one path per line, in row order");
  cmd->add_option("--embeddings", args->maps.embeddings, "N x D float32 .npy of embeddings, same row order (for edc)");
  auto* stacks =
      cmd->add_option("--group-stacks", args->group_stacks,
                      "A folder of <METHOD>_high.npy and <METHOD>_low.npy (the official AMVA code's layout)");
  cmd->add_option("--cam", args->maps.cam, "Name of the maps in the store (maps_<name>.npy)")->capture_default_str();
  cmd->add_option("--out", args->maps.out, "New store folder")->required()->check(folder_name());
  maps->excludes(stacks);
  stacks->excludes(maps);
  cmd->callback([args, maps, stacks] {
    if (maps->count() == 0 && stacks->count() == 0) {
      throw Error(ErrorCode::InvalidArgument, "amva import needs --maps (with --list for a stack) or --group-stacks");
    }
    const auto content = stacks->count()
                             ? store::import_group_stacks(args->group_stacks, args->maps.cam, args->maps.out)
                             : store::import_maps(args->maps);
    const auto& shape = content.table.maps(args->maps.cam).row_shape;
    fmt::print("store {}: {} maps of {} x {} as maps_{}.npy{}\n", args->maps.out.string(), content.table.records.size(),
               shape[0], shape[1], args->maps.cam, content.table.arrays.count(store::kEmbeddings) ? ", with embeddings" : "");
    if (stacks->count()) {
      fmt::print("groups as chosen: amva analyze --store {} --out DIR --cam {} --group thresholds:0.5\n",
                 args->maps.out.string(), args->maps.cam);
    } else {
      fmt::print("next: amva analyze --store {} --out DIR --cam {} --scores FILE (FIQA scores by image path)\n",
                 args->maps.out.string(), args->maps.cam);
    }
  });
}

}  // namespace amva::cli
