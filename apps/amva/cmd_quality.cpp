#include <fmt/format.h>

#include "amva/error.hpp"
#include "amva/pipeline/deviation.hpp"
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
  q.measures = ModelOptions::measure_config();
  if (!part.empty()) q.part = io::parse_list_part(part);
  auto& team = launched_team();
  // Under mpirun the root speaks for the job; its progress counts every rank's faces.
  TerminalProgress display;
  if (team.is_root()) q.progress = display.progress();
  const auto summary = pipeline::compute_quality(q, &team);
  display.finish();
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

void print_deviation(const pipeline::DeviationSummary& s, const pipeline::DeviationOptions& o) {
  fmt::print("quality.csv: deviation of {} faces ({} maps; {}), in {:.1f} s\n", s.scored, o.cam, s.reference,
             s.seconds);
  fmt::print(
      "  {:<11} mean |Z| of the face's map against a reference without the face or its person, negated "
      "(higher is better; 0 would be the reference's mean map)\n",
      quality::kDeviationMethod);
  if (!s.fold_references.empty()) {
    fmt::print("  fold references (for amva explain): {}\n", o.references_out.string());
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
    pipeline::DeviationOptions deviation;
    DeviationCliOptions deviation_cli;
    bool no_identities = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("quality", "Score every face of a store with built-in FIQA methods (quality.csv)");
  add_quiet_flag(*cmd);
  cmd->add_option("--store", args->store, "Store folder")->required()->check(folder_name());
  cmd->add_option("--methods", args->methods,
                  "Methods, comma-separated (deviation: after the others, from the store's maps of --deviation-cam)")
      ->required()
      ->delimiter(',')
      ->check(CLI::IsMember(fiqa_method_names()));
  cmd->add_option("--cache", args->cache, "Jacobian cache folder");
  add_threads_option(*cmd, args->threads);
  cmd->add_option("--part", args->part,
                  "Only part i of N (every N-th face), for a job array; the same command without --part joins "
                  "the parts");
  args->deviation_cli.add_to(*cmd, args->deviation);
  cmd->add_option("--reference", args->deviation.reference,
                  "deviation: score against this saved reference_<method>/ folder instead of cross-fitting (refused "
                  "when it holds a face it would score, or that face's person)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--deviation-references", args->deviation.references_out,
                  "deviation: save each fold's reference here (fold_K/, for amva explain --reference)");
  add_identity_options(*cmd, args->deviation.identities);
  add_no_identities_flag(*cmd, args->no_identities);
  args->models.add_to(*cmd);
  cmd->callback([args] {
    std::vector<std::string> per_face;
    for (const auto& m : args->methods) {
      if (m != quality::kDeviationMethod) per_face.push_back(m);
    }
    const bool deviation = per_face.size() < args->methods.size();
    if (deviation && !args->part.empty()) {
      throw Error(ErrorCode::InvalidArgument,
                  "--part: deviation needs every face's maps at once; score it without --part, after the parts are "
                  "joined");
    }
    if (!per_face.empty()) {
      run_quality(args->store, per_face, args->models.card(), args->cache, args->threads, args->part);
    }
    if (!deviation || !launched_team().is_root()) return;
    auto& d = args->deviation;
    args->deviation_cli.apply(d);
    d.store = args->store;
    d.identities_from_evident_folders = !args->no_identities;
    d.progress = stage_messages("quality");
    print_deviation(pipeline::compute_deviation(d), d);
  });
}

}  // namespace amva::cli
