#include <fmt/format.h>

#include "amva/pipeline/quality.hpp"
#include "amva/quality/quality_measure.hpp"
#include "cli.hpp"
#include "launch.hpp"

namespace amva::cli {

void add_quality_option(CLI::App& app, std::vector<std::string>& methods) {
  app.add_option("--quality", methods,
                 "Built-in FIQA methods, comma-separated: " +
                     fmt::format("{}", fmt::join(quality::QualityRegistry::instance().names(), ", ")))
      ->delimiter(',')
      ->check(CLI::IsMember(quality::QualityRegistry::instance().names()));
}

void run_quality(const std::filesystem::path& store, const std::vector<std::string>& methods,
                 const model::ModelCard& card, const std::filesystem::path& cache, int threads,
                 const std::string& part) {
  pipeline::QualityOptions q;
  q.store = store;
  q.methods = methods;
  q.card = card;
  q.cache_dir = cache.empty() ? model::default_cache_dir() : cache;
  q.threads = threads;
  if (!part.empty()) q.part = io::parse_list_part(part);
  auto& team = launched_team();
  // Under mpirun the root speaks for the job; its progress counts every rank's faces.
  auto progress = team.is_root() ? std::make_unique<Progress>("quality") : nullptr;
  if (progress) q.progress = [&](std::size_t d, std::size_t t) { progress->update(d, t); };
  const auto summary = pipeline::compute_quality(q, &team);
  progress.reset();
  if (!team.is_root()) return;
  if (team.size() > 1) fmt::print("{} ranks\n", team.size());
  if (!summary.part_file.empty()) {
    fmt::print(
        "part {}: {} faces scored into {}; once every part is done, the same command without --part "
        "joins them into quality.csv\n",
        q.part.to_string(), summary.scored, summary.part_file.string());
    return;
  }
  print_quality(summary, methods);
}

void print_quality(const pipeline::QualitySummary& s, const std::vector<std::string>& methods) {
  fmt::print("quality.csv: {} faces scored, {} failed records left NaN; columns {}\n", s.scored, s.skipped,
             fmt::join(s.columns, ", "));
  for (const auto& [name, count] : s.undefined) {
    fmt::print("  {}: {} face(s) could not be scored (NaN; left out of its groups)\n", name, count);
  }
  for (const auto& name : methods) {
    fmt::print("  {:<11} {}\n", name, quality::QualityRegistry::instance().create(name)->description());
  }
}

void add_quality(CLI::App& app) {
  struct Args {
    ModelOptions models;
    std::filesystem::path store;
    std::vector<std::string> methods;
    std::filesystem::path cache;
    int threads = 2;
    std::string part;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("quality", "Score every face of a store with built-in FIQA methods (quality.csv)");
  add_quiet_flag(*cmd);
  cmd->add_option("--store", args->store, "Store folder")->required()->check(folder_name());
  cmd->add_option("--methods", args->methods, "Methods, comma-separated")
      ->required()
      ->delimiter(',')
      ->check(CLI::IsMember(quality::QualityRegistry::instance().names()));
  cmd->add_option("--cache", args->cache, "Jacobian cache folder");
  add_threads_option(*cmd, args->threads);
  cmd->add_option("--part", args->part,
                  "Only part i of N (every N-th face), for a job array; the same command without --part joins "
                  "the parts");
  args->models.add_to(*cmd);
  cmd->callback(
      [args] { run_quality(args->store, args->methods, args->models.card(), args->cache, args->threads, args->part); });
}

}  // namespace amva::cli
