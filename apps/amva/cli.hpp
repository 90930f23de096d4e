#pragma once
// Helpers shared by the subcommands: where models and cards live, detector options, progress.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>
#include <string>

#include "amva/analysis/analyze.hpp"
#include "amva/face/detector.hpp"
#include "amva/model/model_card.hpp"
#include "amva/pipeline/deviation.hpp"
#include "amva/pipeline/extract.hpp"
#include "amva/pipeline/study.hpp"
#include "amva/viz/overlay.hpp"

namespace amva::cli {

/// Options every command that loads models understands.
struct ModelOptions {
  std::filesystem::path models_dir;               // default: $AMVA_MODELS, else the build's models/ folder
  std::string model;                              // ONNX file; default: the card's file
  std::string model_card = "default";             // a shipped card name or a card file
  std::string detector;                           // a YuNet model file; empty: the default detector
  std::vector<std::filesystem::path> model_dirs;  // also searched for a card's model file (--model-dir)

  void add_to(CLI::App& app, bool with_recognizer = true);
  [[nodiscard]] std::filesystem::path resolved_models_dir() const;
  [[nodiscard]] model::ModelCard card() const;
  /// The card `name_or_file` (a shipped name or a JSON file), its model file found in --models,
  /// next to the card, or in a --model-dir.
  [[nodiscard]] model::ModelCard card_named(const std::string& name_or_file) const;
  /// Error(NotFound) naming where the card's model file was looked for, when it is nowhere.
  void require_model_file(const model::ModelCard& card, const std::string& name_or_file) const;
  /// --model-card A,B,...: each card with its key (a shipped name, or a card file's stem), each
  /// model file found (else require_model_file's error, before anything is written).
  [[nodiscard]] std::vector<pipeline::StudyModel> study_models() const;
  /// The study's model, or with --model-card A,B,... its models (a study across models).
  void choose_models(pipeline::StudyOptions& study) const;
  [[nodiscard]] face::DetectorConfig detector_config() const;
  /// The FIQA measures' settings that their environment variables give (brisque's model files
  /// from $AMVA_BRISQUE_DIR): the CLI reads the environment, as for $AMVA_MODELS; the library
  /// never does.
  [[nodiscard]] static PluginConfigs measure_config();
};

/// CAM options shared by extract and cam.
struct CamCliOptions {
  std::vector<std::string> cams;
  std::string target;
  std::string layer;
  PluginConfigs config;  // each method's settings, from the flags it declares
  std::filesystem::path cache;
  /// Copies the options into an extraction (and the layer into its model card).
  void apply(pipeline::ExtractOptions& options) const;
};
void add_cam_options(CLI::App& app, CamCliOptions& options);

/// --scores, --lower-is-better and --min-match, shared by analyze, edc and run. The files are
/// parsed by apply(), once CLI11 has filled them in.
struct ScoreCliOptions {
  std::vector<std::string> files;
  void add_to(CLI::App& app, quality::ScoreRequest& request);
  void apply(quality::ScoreRequest& request) const;
};

/// --pairs, --labels and --labels-from-folders (one of them), shared by edc and run.
void add_comparison_options(CLI::App& app, std::filesystem::path& pairs, std::filesystem::path& labels,
                            bool& labels_from_folders);

/// The same three options for analyze, where they only say who is in each image (for the
/// identity bootstrap).
void add_identity_options(CLI::App& app, eval::IdentitySource& identities);

/// How verdicts are tested (--cell-test, --permutations, --family, --smallest-effect,
/// --null-controls), shared by analyze and run.
struct VerdictCliOptions {
  std::string cell_test = "permutation";
  std::string family = "holm";
  void add_to(CLI::App& app, analysis::VerdictOptions& verdicts);
  void apply(analysis::VerdictOptions& verdicts) const;
};

/// The robustness grid (--robustness and the values of its choices), shared by analyze and run.
struct RobustnessCliOptions {
  bool on = false;  // analyze: --robustness turns it on; run: on unless --no-robustness
  std::vector<std::string> cams;
  std::vector<std::string> normalizations{"minmax", "minmax-native", "none"};
  std::vector<double> groups{5, 10, 20, 25};
  std::vector<double> margins{0, 0.25, 0.5};
  int null_draws = 500;  // analyze; run: 0 unless asked
  void add_to(CLI::App& app, bool on_by_default);
  /// The grid asked for, or none when off.
  [[nodiscard]] std::optional<analysis::RobustnessGrid> grid() const;
};

/// --no-identities: no identities from folders that evidently name people (analyze, run).
void add_no_identities_flag(CLI::App& app, bool& no_identities);

/// --ties and --tie-seed, shared by analyze, edc and run; applied to the parsed group rule.
struct TieCliOptions {
  std::string ties = "random";
  std::uint64_t seed = 29794;
  void add_to(CLI::App& app);
  void apply(stats::GroupRule& rule) const;
};

/// How the FIQA method `deviation` is made (--deviation-cam, --deviation-folds,
/// --deviation-reference, --deviation-group), shared by quality and run.
struct DeviationCliOptions {
  std::string group = "top:10";
  void add_to(CLI::App& app, pipeline::DeviationOptions& options);
  void apply(pipeline::DeviationOptions& options) const;
};
/// The method names --methods accepts: the built-in per-face measures and deviation.
std::vector<std::string> fiqa_method_names();

/// Progress of a long stage on stderr: on a terminal a bar with done/total, rate and ETA;
/// otherwise (a log, tee, nohup) a plain line every few seconds ($AMVA_PROGRESS_SECONDS,
/// default 5) and one when the stage ends; nothing with --quiet.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  void update(std::size_t done, std::size_t total);

 private:
  enum class Mode { Quiet, Bar, Lines };
  std::string label_;
  Mode mode_;
  double start_;
  double last_line_ = 0;
  double interval_;
  std::size_t done_ = 0, total_ = 0;
};

/// The library's amva::Progress on this terminal: each counted stage gets its ProgressBar,
/// ended (its last line printed) when another stage starts, a message comes or this ends;
/// messages go to `print_message` (none: not shown).
class TerminalProgress {
 public:
  explicit TerminalProgress(std::function<void(const std::string&)> print_message = {});
  ~TerminalProgress() { finish(); }
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;
  /// Bound to this display, which must outlive the work it is given to.
  [[nodiscard]] amva::Progress progress();
  /// Ends the current stage's bar.
  void finish();

 private:
  std::function<void(const std::string&)> print_message_;
  std::string stage_;
  std::unique_ptr<ProgressBar> bar_;
};

/// Stage messages as "amva COMMAND: message" on stderr (print_stage), no counts.
amva::Progress stage_messages(const std::string& command);

/// A folder named on the command line (--out, --store): an empty name names none (it failed
/// later as "Invalid argument", exit code 4).
CLI::Validator folder_name();
/// A seed: a whole number from 0 to 2^64 - 1 written in digits (CLI11 alone turned -1 and
/// numbers past the range into 2^64 - 1).
CLI::Validator seed_value();
/// Worker threads: 1 to 4 per hardware thread of this machine. Each worker holds its own
/// network, so many more only add memory (1,000 took 16.8 GB for 8 images) and no speed.
CLI::Validator thread_count();
/// `--threads N` with thread_count(), shared by every command that runs workers.
void add_threads_option(CLI::App& app, int& threads);

/// --quiet on a subcommand: no progress and no stage messages; results and errors still print.
void add_quiet_flag(CLI::App& app);
[[nodiscard]] bool quiet();
/// Prints a stage message ("amva analyze: drawing figures") on stderr unless --quiet.
void print_stage(const std::string& command, const std::string& message);

/// Registers a subcommand; each lives in its own file.
void add_extract(CLI::App& app);
void add_import(CLI::App& app);
void add_merge(CLI::App& app);
void add_degrade(CLI::App& app);
void add_demo(CLI::App& app);
void add_verify(CLI::App& app);
void add_cam(CLI::App& app);
void add_quality(CLI::App& app);
void add_analyze(CLI::App& app);
void add_edc(CLI::App& app);
void add_explain(CLI::App& app);
void add_faithfulness(CLI::App& app);
void add_run(CLI::App& app);
void add_model(CLI::App& app);
/// Runs the whole study (amva run, amva demo) with progress, then prints the report's path
/// and the five-line summary.
void run_study_and_report(pipeline::StudyOptions& options, const ModelOptions& models);
/// What amva analyze prints: score-file matching, region statistics and the verdicts.
void print_analysis(const analysis::AnalysisResult& result, const std::filesystem::path& out);
/// `--colormap NAME` of heat maps in figures, sheets and overlays (default: the paper's JET).
void add_colormap_option(CLI::App& app, viz::Colormap& colormap);

/// Whether a command's figures may be left out (amva analyze, amva edc) or are always drawn
/// (amva run: its report shows them).
enum class FigureChoice { CanSkip, Always };

/// `--colormap`, `--svg`, and with FigureChoice::CanSkip `--no-figures`.
void add_figure_options(CLI::App& app, viz::FigureOptions& figures, FigureChoice choice);
/// `--quality LIST` for extract and demo (scored in the extraction pass).
void add_quality_option(CLI::App& app, std::vector<std::string>& methods);
/// amva quality: scores every face of a store again, re-reading each image (`part` "i/N": only
/// a job array's part; under mpirun: shared among the ranks).
void run_quality(const std::filesystem::path& store, const std::vector<std::string>& methods,
                 const model::ModelCard& card, const std::filesystem::path& cache, int threads,
                 const std::string& part = {});
/// What quality.csv got: counts, faces left NaN, and what each method measures.
void print_quality(const pipeline::QualitySummary& summary, const std::vector<std::string>& methods);

}  // namespace amva::cli
