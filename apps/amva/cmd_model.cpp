#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "amva/error.hpp"
#include "amva/model/affine_head.hpp"
#include "amva/pipeline/inspect_model.hpp"
#include "amva/share.hpp"
#include "cli.hpp"

namespace amva::cli {
namespace {

std::string shape_text(const std::vector<std::int64_t>& dims) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    parts.push_back(dims[i] >= 0 ? std::to_string(dims[i]) : (i == 0 ? "N" : "?"));
  }
  return fmt::format("{}", fmt::join(parts, " x "));
}

std::string layer_text(const model::LayerCandidate& layer) {
  return fmt::format("{} ({}): {}", layer.tensor, layer.op_type,
                     layer.affine_head() ? "the rest of the network is affine after it"
                                         : "not affine after it, at " + layer.non_affine_op);
}

void print_graph(const pipeline::ModelInspection& r) {
  const auto& g = r.graph;
  fmt::print("model   {}\n", g.file.string());
  fmt::print("input   {}: {}{}\n", g.input.name, shape_text(g.input.dims),
             g.dynamic_batch ? "" : " (the graph fixes the batch; amva runs batches all the same)");
  for (std::size_t i = 0; i < g.embedding_outputs.size(); ++i) {
    fmt::print("{}{}: {}{}\n", i == 0 ? "output  " : "        ", g.embedding_outputs[i].name,
               shape_text(g.embedding_outputs[i].dims),
               i == 0 ? fmt::format(", the embedding ({}-d)", r.embedding_size) : ", another candidate");
  }
  if (g.target) {
    fmt::print("target layer  {} ({}): {}\n", g.target->tensor, g.target->op_type, r.affine_check);
  } else {
    fmt::print("target layer  none found: {}\n", g.target_problem);
  }
  for (const auto& a : g.alternatives) fmt::print("  or earlier   {}\n", layer_text(a));
}

void print_conventions(const pipeline::ModelInspection& r) {
  fmt::print(
      "\ninput convention, by how well the embeddings separate identities (d': mated against non-mated "
      "cosine similarity)\n");
  std::size_t width = std::string("aligned pixels, no model").size();
  for (const auto& s : r.scores) width = std::max(width, s.convention.name.size());
  for (std::size_t k = 0; k < r.face_sets.size(); ++k) fmt::print("  [{}] {}\n", k + 1, r.face_sets[k]);
  fmt::print("  {:<{}}", "", width);
  for (std::size_t k = 0; k < r.face_sets.size(); ++k) fmt::print("  {:>7}", fmt::format("[{}]", k + 1));
  fmt::print("\n");
  for (std::size_t i = 0; i < r.scores.size(); ++i) {
    fmt::print("  {:<{}}", r.scores[i].convention.name, width);
    for (const auto& s : r.scores[i].separation) fmt::print("  {:7.2f}", s.d_prime);
    fmt::print("{}\n", i == 0 ? "  best" : "");
  }
  fmt::print("  {:<{}}", "aligned pixels, no model", width);
  for (const auto& s : r.pixels) fmt::print("  {:7.2f}", s.d_prime);
  fmt::print("\n");
  if (!r.card) return;  // refused: the reason follows as the error
  const auto& best = r.scores[0].convention.name;
  const auto& runner_up = r.scores[1].convention.name;
  const int share = static_cast<int>(std::lround(100 * r.win_share));
  if (r.near_tie) {
    fmt::print(
        "near-tie: {} beat {} in only {} % of the identity-bootstrap replicates on [{}]; either may be the "
        "model's convention (give --lfw for more faces, or compare both cards with amva verify)\n",
        best, runner_up, share, r.face_sets.size());
  } else {
    fmt::print(
        "{} separates identities best: it beat the runner-up, {}, in {} % of the identity-bootstrap "
        "replicates on [{}]\n",
        best, runner_up, share, r.face_sets.size());
  }
}

}  // namespace

void add_model(CLI::App& app) {
  struct Args {
    std::filesystem::path file;
    std::filesystem::path card_out;
    std::filesystem::path lfw;
    int lfw_pairs = 600;
    std::filesystem::path sources;
    std::filesystem::path cache;
    ModelOptions models;
  };
  auto args = std::make_shared<Args>();
  auto* model = app.add_subcommand("model", "Face recognition models: inspect one that has no model card yet");
  model->require_subcommand(1);
  auto* cmd = model->add_subcommand(
      "inspect", "Read an ONNX face recognition model, find its input convention on faces, and write its model card");
  add_quiet_flag(*cmd);
  cmd->add_option("file", args->file, "The ONNX model")->required()->check(CLI::ExistingFile);
  cmd->add_option("--card-out", args->card_out,
                  "Write the model card here (its model file named relative to the card); default: print it");
  cmd->add_option("--lfw", args->lfw, "LFW folder (pairs.txt, lfw-deepfunneled/): decide on its pairs as well")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--lfw-pairs", args->lfw_pairs,
                  "How many of LFW's 6,000 pairs, spread evenly over its folds (half mated, half not)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--sources", args->sources, "Folder of the demo's source photos (default: amva's own)");
  cmd->add_option("--cache", args->cache, "Jacobian cache folder (default: $AMVA_CACHE or ~/.cache/amva)");
  args->models.add_to(*cmd, false);
  cmd->callback([args] {
    TerminalProgress display([](const std::string& m) { print_stage("model inspect", m); });
    const auto detector = args->models.detector_config();
    std::vector<pipeline::LabelledFaces> faces(1);
    // LFW first, where a mistake in --lfw shows at once; it decides, so it is the last set.
    if (!args->lfw.empty()) {
      faces.push_back(pipeline::lfw_faces(args->lfw, args->lfw_pairs, detector, display.progress()));
    }
    faces.front() = pipeline::demo_faces(args->sources.empty() ? share_dir() / "sources" : args->sources, detector,
                                         display.progress());
    pipeline::InspectModelOptions options;
    options.cache_dir = args->cache.empty() ? model::default_cache_dir() : args->cache;
    const auto r = pipeline::inspect_model(args->file, faces, options, display.progress());
    display.finish();
    print_graph(r);
    print_conventions(r);
    if (!r.card) throw Error(ErrorCode::Model, fmt::format("{}: {}", args->file.string(), r.refusal));
    if (args->card_out.empty()) {
      fmt::print("\nmodel card (save it and pass it to --model-card):\n{}\n", r.card->to_json().dump(2));
    } else {
      r.card->save(args->card_out);
      fmt::print("\nmodel card: {} (use it with --model-card {})\n", args->card_out.string(), args->card_out.string());
    }
  });
}

}  // namespace amva::cli
