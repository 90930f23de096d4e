#include "cli.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <thread>

#include "amva/cam/cam_method.hpp"
#include "amva/error.hpp"
#include "amva/io/hash.hpp"
#include "amva/io/safe_name.hpp"
#include "amva/quality/quality_measure.hpp"
#include "amva/share.hpp"

namespace amva::cli {

CLI::Validator folder_name() {
  return CLI::Validator(
      [](const std::string& text) -> std::string { return text.empty() ? "an empty name names no folder" : ""; },
      "FOLDER", "folder");
}

CLI::Validator seed_value() {
  return CLI::Validator(
      [](const std::string& text) -> std::string {
        std::uint64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
          return fmt::format("'{}' is not a seed: use a whole number from 0 to {}", text,
                             std::numeric_limits<std::uint64_t>::max());
        }
        return {};
      },
      "SEED", "seed");
}

CLI::Validator thread_count() {
  const int most = 4 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return CLI::Validator(
      [most](const std::string& text) -> std::string {
        int value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1 || value > most) {
          return fmt::format(
              "'{}' threads: use 1 to {} (4 per hardware thread of this machine; each worker holds "
              "its own network)",
              text, most);
        }
        return {};
      },
      fmt::format("1..{}", most), "threads");
}

void add_threads_option(CLI::App& app, int& threads) {
  app.add_option("--threads", threads, "Worker threads")->capture_default_str()->check(thread_count());
}
namespace fs = std::filesystem;

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void ModelOptions::add_to(CLI::App& app, bool with_recognizer) {
  app.add_option("--models", models_dir,
                 "Folder with the default models (default: $AMVA_MODELS, else amva's share/amva/models: the clone's "
                 "models/ in a build tree)");
  if (with_recognizer) {
    app.add_option("--model", model, "ONNX face recognition model (default: the model card's file)");
    app.add_option("--model-card", model_card,
                   "Model card: a shipped name (default, paddlex_mobilefacenet128, foamliu_mobilefacenet128) or a "
                   "JSON file; amva run and amva demo take several, comma-separated: a study across models")
        ->capture_default_str();
    app.add_option("--model-dir", model_dirs,
                   "More folders where a model card's file is looked for (after --models and the card's own folder)")
        ->check(CLI::ExistingDirectory);
  }
  app.add_option("--detector", detector, "Use OpenCV's YuNet with this model file instead of the default detector");
}

fs::path ModelOptions::resolved_models_dir() const {
  return models_dir.empty() ? model::default_models_dir() : models_dir;
}

model::ModelCard ModelOptions::card_named(const std::string& name_or_file) const {
  model::ModelCard c = model::find_model_card(name_or_file, resolved_models_dir());
  for (const auto& dir : model_dirs) {
    if (fs::exists(c.file)) break;
    if (fs::exists(dir / c.file.filename())) c.file = dir / c.file.filename();
  }
  return c;
}

void ModelOptions::require_model_file(const model::ModelCard& c, const std::string& name_or_file) const {
  if (fs::exists(c.file)) return;
  std::vector<std::string> looked = {resolved_models_dir().string() + " (--models)",
                                     c.file.parent_path().string() + " (the card's folder)"};
  for (const auto& dir : model_dirs) looked.push_back(dir.string() + " (--model-dir)");
  throw Error(ErrorCode::NotFound,
              fmt::format("model card '{}': its model file {} is in none of {}; name the folder that holds it with "
                          "--model-dir",
                          name_or_file, c.file.filename().string(), fmt::join(looked, ", ")));
}

std::vector<pipeline::StudyModel> ModelOptions::study_models() const {
  std::vector<pipeline::StudyModel> models;
  std::string_view rest = model_card;
  while (true) {
    const auto comma = rest.find(',');
    const std::string name(rest.substr(0, comma));
    if (name.empty())
      throw Error(ErrorCode::InvalidArgument, fmt::format("--model-card '{}': an empty card name", model_card));
    // A card file is keyed by its stem, a shipped card by its name.
    const std::string key = fs::exists(name) ? io::safe_name(fs::path(name).stem().string()) : name;
    models.push_back({key, card_named(name)});
    require_model_file(models.back().card, name);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (models.size() > 1 && !model.empty()) {
    throw Error(ErrorCode::InvalidArgument,
                "--model names one model file: with several --model-card, each card names its own");
  }
  return models;
}

void ModelOptions::choose_models(pipeline::StudyOptions& study) const {
  if (model_card.find(',') == std::string::npos) {
    study.card = card();
    return;
  }
  study.models = study_models();
  study.card = study.models.front().card;
}

model::ModelCard ModelOptions::card() const {
  model::ModelCard c = card_named(model_card);
  if (!model.empty()) {
    c.file = model;
    // Another file under a card that pins a hash: the card describes some other model.
    if (!c.sha256.empty() && fs::exists(c.file) && io::sha256_file(c.file) != c.sha256) {
      throw Error(ErrorCode::Model, fmt::format("{}: this model is not the one model card '{}' describes; "
                                                "write a card for it and pass --model-card",
                                                model, model_card));
    }
  }
  return c;
}

PluginConfigs ModelOptions::measure_config() {
  PluginConfigs configs;
  const auto& registry = quality::QualityRegistry::instance();
  for (const auto& measure : registry.names()) {
    for (const auto& spec : registry.settings(measure)) {
      if (const char* value = spec.env.empty() ? nullptr : std::getenv(spec.env.c_str()); value && *value) {
        configs[measure][spec.key] = value;
      }
    }
  }
  return configs;
}

face::DetectorConfig ModelOptions::detector_config() const {
  if (detector.empty()) return face::default_detector(resolved_models_dir());
  face::DetectorConfig d;
  d.kind = "yunet";
  d.detector_model = detector;
  d.score_threshold = 0.6f;
  d.nms_iou = 0.3f;
  return d;
}

void add_cam_options(CLI::App& app, CamCliOptions& o) {
  app.add_option("--cam", o.cams,
                 "CAM methods, comma-separated: " + fmt::format("{}", fmt::join(cam::CamMethod::names(), ", ")))
      ->delimiter(',')
      ->check(CLI::IsMember(cam::CamMethod::names()));
  app.add_option("--target", o.target,
                 "Target for every method: self-cosine, projection, norm, reference:FILE.npy (default: projection for "
                 "gradient methods, self-cosine for scorecam)");
  app.add_option("--layer", o.layer,
                 "Target layer (ONNX tensor name; default: the last non-linearity before the "
                 "embedding)");
  // Each method's own settings, as it declares them: a new setting needs no edit here.
  for (const auto& method : cam::CamMethod::names()) {
    for (const auto& spec : cam::CamRegistry::instance().settings(method)) {
      if (spec.flag.empty()) continue;
      app.add_option_function<int>(
             spec.flag, [&o, method, key = spec.key](int value) { o.config[method][key] = value; },
             fmt::format("{}: {}", method, spec.help))
          ->check(CLI::Range(spec.lowest, spec.highest));
    }
  }
  app.add_option("--cache", o.cache, "Jacobian cache folder (default: $AMVA_CACHE or ~/.cache/amva)");
}

void CamCliOptions::apply(pipeline::ExtractOptions& options) const {
  options.cams = cams;
  options.target = target;
  options.cam_config = config;
  if (!cache.empty()) options.cache_dir = cache;
  if (!layer.empty()) options.card.target_layer = layer;
}

void ScoreCliOptions::add_to(CLI::App& app, quality::ScoreRequest& request) {
  app.add_option("--scores", files,
                 "External FIQA scores: [NAME=]FILE[:COLUMN], CSV with a header or 'path score' lines; repeatable");
  app.add_option("--lower-is-better", request.lower_is_better, "External methods whose lower scores are better")
      ->delimiter(',');
  app.add_option("--min-match", request.min_match, "Least fraction of the store's faces a score file must score")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
}

void ScoreCliOptions::apply(quality::ScoreRequest& request) const {
  for (const auto& f : files) request.files.push_back(quality::ScoreFileSpec::parse(f));
}

void add_comparison_options(CLI::App& app, std::filesystem::path& pairs, std::filesystem::path& labels,
                            bool& labels_from_folders) {
  auto* p = app.add_option("--pairs", pairs, "LFW pairs.txt, or 'path_a path_b is_same' lines");
  auto* l = app.add_option("--labels", labels, "'path identity' lines: all mated pairs, sampled non-mated");
  auto* f = app.add_flag("--labels-from-folders", labels_from_folders, "Identities from the images' parent folders");
  p->excludes(l)->excludes(f);
  l->excludes(f);
}

void add_identity_options(CLI::App& app, eval::IdentitySource& identities) {
  auto* p = app.add_option("--pairs", identities.pairs,
                           "Identities for the bootstrap from a pairs file (LFW pairs.txt names its people; in a "
                           "pair list, mated pairs join images of one person)");
  auto* l = app.add_option("--labels", identities.labels, "Identities for the bootstrap: 'path identity' lines");
  auto* f = app.add_flag("--labels-from-folders", identities.from_folders,
                         "Identities for the bootstrap from the images' parent folders");
  p->excludes(l)->excludes(f);
  l->excludes(f);
}

void add_no_identities_flag(CLI::App& app, bool& no_identities) {
  auto* flag = app.add_flag("--no-identities", no_identities,
                            "Without --labels, --pairs or --labels-from-folders, treat images as independent even "
                            "when the folders evidently name people (one sub-folder per person, as LFW)");
  for (const auto* other : {"--labels", "--pairs", "--labels-from-folders"}) {
    if (auto* o = app.get_option_no_throw(other)) flag->excludes(o);
  }
}

void VerdictCliOptions::add_to(CLI::App& app, analysis::VerdictOptions& verdicts) {
  app.add_option("--cell-test", cell_test,
                 "Per-cell variance test: permutation (whole people moved when identities are known; max-T over the "
                 "cells) or brown-forsythe (parametric, images independent; Benjamini-Hochberg)")
      ->capture_default_str()
      ->check(CLI::IsMember({"permutation", "brown-forsythe"}));
  app.add_option("--permutations", verdicts.permutations, "Permutations of every permutation test")
      ->capture_default_str()
      ->check(CLI::Range(19, 1000000));
  app.add_option("--family", family,
                 "Correction of the region verdicts across the run's FIQA methods: holm (intervals at 1 - alpha / "
                 "methods) or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"holm", "none"}));
  app.add_option("--smallest-effect", verdicts.smallest_effect,
                 "|log(outside AM-V low / high)| below which a verdict says 'negligible' (0.1: about 10 %)")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 10.0));
  app.add_option("--null-controls", verdicts.null_controls,
                 "Null control methods (random scores clustered by person as the real ones) that measure the "
                 "verdicts' false-positive rate on this data; 0: none")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
}

void RobustnessCliOptions::add_to(CLI::App& app, bool on_by_default) {
  on = on_by_default;
  if (on_by_default) {
    app.add_flag("--no-robustness{false}", on,
                 "Skip the robustness grid (every method's outside verdict recomputed over the CAM methods stored x "
                 "normalisation x group size x central face margin)");
  } else {
    app.add_flag("--robustness", on,
                 "Recompute every method's outside verdict over a grid of the analyst's choices (CAM methods stored "
                 "x normalisation x group size x central face margin): robustness.csv and one line per method");
  }
  app.add_option("--robustness-cams", cams, "CAM methods of the grid (default: every one the store holds)")
      ->delimiter(',');
  app.add_option("--robustness-normalizations", normalizations, "Normalisations of the grid")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::IsMember({"minmax", "minmax-native", "none"}));
  app.add_option("--robustness-groups", groups, "Group sizes of the grid, K of top:K")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::Range(0.01, 50.0));
  app.add_option("--robustness-margins", margins,
                 "Margins of the central face region in the grid, in inter-eye distances (the analysis uses 0.25)")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::Range(0.0, 2.0));
  // The joint test costs 35 s on all of LFW with gradcam, which would take amva run past 1.5
  // times its extraction: there it runs on request.
  null_draws = on_by_default ? 0 : 500;
  app.add_option("--robustness-null-draws", null_draws,
                 "Draws of null scores of the joint test across the specifications (the whole curve recomputed on "
                 "each): at least 500, or 0 for none")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            const auto n = std::strtol(text.c_str(), nullptr, 10);
            return n == 0 || (n >= 500 && n <= 1000000) ? std::string() : "at least 500 draws, or 0 for none";
          },
          "0 or 500..1000000"));
}

std::optional<analysis::RobustnessGrid> RobustnessCliOptions::grid() const {
  if (!on) return std::nullopt;
  analysis::RobustnessGrid g;
  g.cams = cams;
  g.normalizations.clear();
  for (const auto& n : normalizations) g.normalizations.push_back(analysis::parse_normalization(n));
  g.group_percents = groups;
  g.margins = margins;
  g.null_draws = null_draws;
  return g;
}

void VerdictCliOptions::apply(analysis::VerdictOptions& verdicts) const {
  verdicts.cell_test = cell_test == "permutation" ? analysis::VerdictOptions::CellTest::Permutation
                                                  : analysis::VerdictOptions::CellTest::BrownForsythe;
  verdicts.family_correction = family == "holm";
}

void TieCliOptions::add_to(CLI::App& app) {
  app.add_option("--ties", ties,
                 "Equal scores at a group boundary: random (seeded order, independent of file order), exclude "
                 "(left out of both groups) or id (store row order)")
      ->capture_default_str()
      ->check(CLI::IsMember({"random", "exclude", "id"}));
  app.add_option("--tie-seed", seed, "Seed of the random tie order")->capture_default_str()->check(seed_value());
}

void TieCliOptions::apply(stats::GroupRule& rule) const {
  rule.ties = stats::GroupRule::parse_ties(ties);
  rule.tie_seed = seed;
}

namespace {
bool quiet_flag = false;

double progress_interval() {
  const char* v = std::getenv("AMVA_PROGRESS_SECONDS");
  const double seconds = v ? std::atof(v) : 5.0;
  return seconds > 0 ? seconds : 5.0;
}
}  // namespace

void add_colormap_option(CLI::App& app, viz::Colormap& colormap) {
  app.add_option_function<std::string>(
         "--colormap", [&colormap](const std::string& name) { colormap = viz::parse_colormap(name); },
         "Colour map of heat maps: jet (the paper's) or a perceptually uniform one")
      ->check(CLI::IsMember(viz::colormap_names()))
      ->default_str("jet");
}

void add_figure_options(CLI::App& app, viz::FigureOptions& figures, FigureChoice choice) {
  if (choice == FigureChoice::CanSkip) {
    app.add_flag_callback(
        "--no-figures", [&figures] { figures.draw = false; }, "Skip the figures (no matplotlib needed)");
  }
  app.add_flag("--svg", figures.svg, "Also write every figure as SVG, for print (takes about a third longer)");
  add_colormap_option(app, figures.colormap);
}

void add_quiet_flag(CLI::App& app) {
  app.add_flag_callback(
      "--quiet,-q", [] { quiet_flag = true; }, "No progress or stage messages (results and errors only)");
}

bool quiet() {
  return quiet_flag;
}

void print_stage(const std::string& command, const std::string& message) {
  if (!quiet_flag) fmt::print(stderr, "amva {}: {}\n", command, message);
}

amva::Progress stage_messages(const std::string& command) {
  amva::Progress p;
  p.on_stage = [command](const std::string& m) { print_stage(command, m); };
  return p;
}

TerminalProgress::TerminalProgress(std::function<void(const std::string&)> print_message)
    : print_message_(std::move(print_message)) {}

amva::Progress TerminalProgress::progress() {
  amva::Progress p;
  p.on_stage = [this](const std::string& m) {
    finish();
    if (print_message_) print_message_(m);
  };
  p.on_count = [this](const std::string& stage, std::size_t done, std::size_t total) {
    if (!bar_ || stage != stage_) {
      finish();
      bar_ = std::make_unique<ProgressBar>(stage);
      stage_ = stage;
    }
    bar_->update(done, total);
  };
  return p;
}

void TerminalProgress::finish() {
  bar_.reset();
  stage_.clear();
}

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)),
      mode_(quiet_flag                     ? Mode::Quiet
            : ::isatty(STDERR_FILENO) == 1 ? Mode::Bar
                                           : Mode::Lines),
      start_(now_seconds()),
      interval_(progress_interval()) {
  last_line_ = start_;
}

ProgressBar::~ProgressBar() {
  if (mode_ == Mode::Bar && total_ > 0) fmt::print(stderr, "\n");
  if (mode_ == Mode::Lines && total_ > 0) {
    fmt::print(stderr, "{}: {}/{} done in {:.1f} s\n", label_, done_, total_, now_seconds() - start_);
  }
}

void ProgressBar::update(std::size_t done, std::size_t total) {
  if (mode_ == Mode::Quiet || total == 0) return;
  done_ = done;
  total_ = total;
  const double t = now_seconds();
  const double elapsed = t - start_;
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
  if (mode_ == Mode::Lines) {
    // A log gets a line every few seconds, not one per image.
    if (t - last_line_ < interval_ || done == total) return;
    last_line_ = t;
    fmt::print(stderr, "{}: {}/{} ({:.0f} %), {:.1f}/s, ETA {:.0f} s\n", label_, done, total,
               100.0 * static_cast<double>(done) / static_cast<double>(total), rate, eta);
    return;
  }
  const int width = 30;
  const int filled = static_cast<int>(width * done / total);
  fmt::print(stderr, "\r{} [{}{}] {}/{}  {:.1f}/s  ETA {:.0f}s   ", label_, std::string(filled, '#'),
             std::string(width - filled, '.'), done, total, rate, eta);
}

}  // namespace amva::cli

namespace amva::cli {

void DeviationCliOptions::add_to(CLI::App& app, pipeline::DeviationOptions& options) {
  app.add_option("--deviation-cam", options.cam, "deviation: the CAM method whose maps define it")
      ->check(CLI::IsMember(cam::CamMethod::names()))
      ->capture_default_str();
  app.add_option("--deviation-folds", options.cross_fit.folds,
                 "deviation: folds of people (of faces, without identities); each fold is scored against a "
                 "reference made of the others")
      ->capture_default_str()
      ->check(CLI::Range(2, 1000));
  app.add_option("--deviation-reference", options.reference_method,
                 "deviation: the FIQA method whose high group (--deviation-group) of the other folds makes each "
                 "reference, or all (every face of the other folds)")
      ->capture_default_str();
  app.add_option("--deviation-group", group, "deviation: the reference's high group: top:K (the top K % of the scores)")
      ->capture_default_str();
}

void DeviationCliOptions::apply(pipeline::DeviationOptions& options) const {
  options.cross_fit.high_group = stats::GroupRule::parse(group);
  if (options.cross_fit.high_group.kind != stats::GroupRule::Kind::Extremes) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("--deviation-group {}: the reference is one high group; give top:K", group));
  }
}

std::vector<std::string> fiqa_method_names() {
  auto names = quality::QualityRegistry::instance().names();
  names.push_back(quality::kDeviationMethod);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace amva::cli
