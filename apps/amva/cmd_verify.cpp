#include <fmt/format.h>

#include "amva/eval/pairs.hpp"
#include "amva/eval/verification.hpp"
#include "amva/store/store.hpp"
#include "cli.hpp"

namespace amva::cli {

void add_verify(CLI::App& app) {
  struct Args {
    std::filesystem::path store;
    std::filesystem::path pairs;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("verify", "LFW-protocol k-fold verification accuracy from a store's embeddings");
  add_quiet_flag(*cmd);
  cmd->add_option("--store", args->store, "Store folder")->required()->check(folder_name());
  cmd->add_option("--pairs", args->pairs, "LFW pairs.txt")->required();
  cmd->callback([args] {
    const auto store = store::read_store(args->store);
    const auto pairs = eval::read_lfw_pairs(args->pairs);
    const auto scored = eval::score_pairs(store.table, pairs);
    const auto acc = eval::kfold_accuracy(scored);
    fmt::print("{} pairs, {} compared, {} left out (image missing or failed)\n", pairs.size(), scored.scores.size(),
               scored.missing.size());
    for (const auto& key : scored.missing) fmt::print("  left out: {}\n", key);
    fmt::print("{}-fold accuracy {:.2f} % +- {:.2f} %\n", acc.per_fold.size(), 100 * acc.mean, 100 * acc.std);
  });
}

}  // namespace amva::cli
