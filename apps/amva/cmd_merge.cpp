#include <fmt/format.h>

#include "amva/store/store.hpp"
#include "cli.hpp"

namespace amva::cli {

void add_merge(CLI::App& app) {
  struct Args {
    std::vector<std::filesystem::path> inputs;
    std::filesystem::path out;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("merge", "Join stores made separately with the same model and settings");
  add_quiet_flag(*cmd);
  cmd->add_option("stores", args->inputs, "Stores to merge")->required()->expected(1, -1);
  cmd->add_option("--out", args->out, "New store folder")->required()->check(folder_name());
  cmd->callback([args] {
    const auto merged = store::merge_stores(args->inputs, args->out);
    fmt::print("merged {} stores into {}: {} records\n", args->inputs.size(), args->out.string(),
               merged.table.records.size());
  });
}

}  // namespace amva::cli
