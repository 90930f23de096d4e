#include "amva/pipeline/study.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <map>
#include <optional>
#include <set>

#include "amva/analysis/analysis_folder.hpp"
#include "amva/analysis/analyze.hpp"
#include "amva/analysis/reference.hpp"
#include "amva/error.hpp"
#include "amva/eval/edc_study.hpp"
#include "amva/explain/explanation_folder.hpp"
#include "amva/io/folder_lock.hpp"
#include "amva/io/image_list.hpp"
#include "amva/io/json_values.hpp"
#include "amva/io/output_dir.hpp"
#include "amva/io/safe_name.hpp"
#include "amva/pipeline/across_models.hpp"
#include "amva/pipeline/explain.hpp"
#include "amva/pipeline/explanation_reference.hpp"
#include "amva/pipeline/extract.hpp"
#include "amva/pipeline/faithfulness.hpp"
#include "amva/pipeline/thumbnails.hpp"
#include "amva/quality/quality_measure.hpp"
#include "amva/quality/scores.hpp"
#include "amva/report/faithfulness_section.hpp"
#include "amva/report/html_report.hpp"
#include "amva/store/settings.hpp"
#include "amva/store/store.hpp"

namespace amva::pipeline {
namespace fs = std::filesystem;
namespace {

// The study's stages share its options and its stage messages. A stage run beside another
// holds its messages (`held`) for the terminal to show once the other has spoken.
struct Stages {
  const StudyOptions& opt;
  std::string prefix;                        // "[model] " in a study across models
  std::vector<std::string>* held = nullptr;  // set: messages are kept here, not shown
  void say(const std::string& message) const {
    if (held) {
      held->push_back(prefix + message);
    } else {
      opt.progress.stage(prefix + message);
    }
  }
};

// 1. Extraction, with the built-in FIQA measures scored in the same pass: a store with the same
// settings is resumed, never redone; every image is decoded, aligned and forwarded once.
ExtractSummary extract_stage(const Stages& s, const ExtractOptions& e) {
  const auto& opt = s.opt;
  s.say(fmt::format("[1/6] extract faces, embeddings and {} maps into {}", fmt::join(e.cams, " and "), e.out.string()));
  const auto extracted = extract(e, opt.progress);
  s.say(fmt::format("[2/6] built-in FIQA: {} (scored in the extraction pass{})", fmt::join(e.quality, ", "),
                    extracted.quality && extracted.quality->rescored
                        ? fmt::format("; {} faces of an earlier run re-read", extracted.quality->rescored)
                        : ""));
  return extracted;
}

// A study needs faces: say why there are none (an empty folder, files that are not images,
// photos without a face) instead of failing later on missing maps or constant scores.
void require_faces(const StudyOptions& opt, const ExtractSummary& extracted) {
  if (extracted.faces > 0) return;
  if (extracted.records == 0) {
    throw Error(ErrorCode::NotFound,
                fmt::format("{}: no files to read (an empty folder or list)", opt.images.string()));
  }
  std::vector<std::string> reasons;
  for (const auto& [reason, count] : extracted.failures) reasons.push_back(fmt::format("{} {}", count, reason));
  throw Error(ErrorCode::Image,
              fmt::format("{}: no face was found in its {} files ({}); see {}", opt.images.string(), extracted.records,
                          fmt::join(reasons, ", "), store::StoreFolder{opt.out / "store"}.index().string()));
}

// Built-in methods whose scores cannot rank these faces (constant: face_size on pre-aligned
// crops) are left out with a warning rather than stopping the study before its report.
void drop_unrankable_methods(const Stages& s, StudyOptions& study, const fs::path& store) {
  const auto index = store::read_index_entries(store);
  for (const auto& name : quality::unrankable_methods(store, index, study.scores)) {
    auto& methods = study.scores.methods;
    const auto it = std::find(methods.begin(), methods.end(), name);
    if (it == methods.end()) continue;  // a score file's method: load_scores names it and stops
    methods.erase(it);
    s.say(
        fmt::format("warning: FIQA method '{}' left out: its scores are constant or missing, so it cannot rank "
                    "these faces",
                    name));
    if (methods.empty() && study.scores.files.empty()) {
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("no FIQA method can rank these faces ('{}' was the last one left)", name));
    }
  }
}

// 3. The activation map variation analysis; the comparisons' identities also make its
// bootstrap resample people.
analysis::AnalysisResult analysis_stage(const Stages& s, const fs::path& store, const fs::path& out) {
  const auto& opt = s.opt;
  analysis::AnalysisOptions a;
  a.store = store;
  a.out = out;
  io::make_real_dir(a.out);  // a symlink left there is replaced, never written through
  a.scores = opt.scores;
  a.cam = opt.cam;
  a.group = opt.group;
  a.verdicts = opt.verdicts;
  a.robustness = opt.robustness;
  a.identities_from_evident_folders = opt.identities_from_evident_folders;
  a.figures = opt.figures;
  a.identities.labels = opt.labels;
  a.identities.from_folders = opt.labels_from_folders;
  a.identities.pairs = opt.pairs;
  s.say(fmt::format("[3/6] activation map variation analysis ({}) into {}", opt.group.to_string(), a.out.string()));
  auto analysis = analysis::analyze(a);
  for (const auto& r : analysis.score_reports) s.say("scores: " + r.describe());
  for (const auto& w : analysis.warnings) s.say("warning: " + w);
  if (const auto& n = analysis.null_controls) {
    s.say(fmt::format("null controls: {} of {} got a false verdict (nominal {:g}), {} a significant cell{}",
                      n->false_verdicts, n->controls.size(), n->alpha, n->with_significant_cell,
                      n->warns_verdicts() || n->warns_cells() ? "; warning: more than the nominal rate allows" : ""));
  }
  if (const auto& r = analysis.robustness) {
    for (const auto& m : r->methods) s.say(fmt::format("robustness: {}: {}", m.method, m.sentence));
  }
  return analysis;
}

// 3b. On request, how faithful the study's maps are: its CAM method's and its explanations'.
std::optional<FaithfulnessResult> faithfulness_stage(const Stages& s, const fs::path& store) {
  const auto& opt = s.opt;
  if (!opt.faithfulness_faces) return std::nullopt;
  FaithfulnessOptions f;
  static_cast<ModelSetup&>(f) = opt.resolved();
  f.store = store;
  f.out = opt.out / "faithfulness";
  f.force = true;  // inside the study's own folder
  f.faces = *opt.faithfulness_faces;
  f.game.steps = opt.faithfulness_steps;
  f.cams = {opt.cam};
  if (opt.explain_cam != opt.cam && cam::CamRegistry::instance().contains(opt.explain_cam)) {
    f.cams.push_back(opt.explain_cam);
  }
  f.identities.labels = opt.labels;
  f.identities.from_folders = opt.labels_from_folders;
  f.identities.pairs = opt.pairs;
  f.identities_from_evident_folders = opt.identities_from_evident_folders;
  f.progress.on_count = [&](const std::string& stage, std::size_t done, std::size_t total) {
    opt.progress.count("faithfulness " + stage, done, total);
  };
  s.say(fmt::format("[3/6] faithfulness of the {} maps on {} faces into {}", fmt::join(f.cams, " and "), f.faces,
                    f.out.string()));
  auto result = measure_faithfulness(f);
  for (const auto& line : report::faithfulness_lines(result)) s.say("faithfulness: " + line);
  return result;
}

// 4. The EDC, when there are comparisons; otherwise, or when too few remain, the reason why not.
struct EdcStage {
  std::optional<eval::EdcResult> result;
  std::string note;
};

EdcStage edc_stage(const Stages& s, const fs::path& store) {
  const auto& opt = s.opt;
  if (opt.pairs.empty() && opt.labels.empty() && !opt.labels_from_folders) {
    EdcStage none{std::nullopt, "No EDC: no comparisons were given (--pairs, --labels or --labels-from-folders)."};
    s.say("[4/6] " + none.note);
    return none;
  }
  eval::EdcOptions c;
  c.store = store;
  c.out = opt.out / "edc";
  io::make_real_dir(c.out);
  c.pairs = opt.pairs;
  c.labels = opt.labels;
  c.labels_from_folders = opt.labels_from_folders;
  c.scores = opt.scores;
  c.with_random = true;
  c.discard_limits = {0.20, 0.30};
  c.group = opt.group;
  s.say(fmt::format("[4/6] error-versus-discard characteristic into {}", c.out.string()));
  EdcStage stage;
  try {
    stage.result = eval::run_edc(c);
    for (const auto& w : stage.result->warnings) s.say("warning: " + w);
  } catch (const Error& err) {
    if (err.code() != ErrorCode::InvalidArgument) throw;
    stage.note = fmt::format("No EDC: {}", err.what());
    s.say(stage.note);
  }
  return stage;
}

// The reference the explanations measure against: the first method's high group, with the
// explanations' own CAM method when it differs from the study's (its maps made for the high and
// low groups only).
struct ExplanationReference {
  std::string method;
  std::string cam;
  fs::path dir;
};

ExplanationReference explanation_reference(const Stages& s, const ExtractOptions& e,
                                           const analysis::AnalysisResult& analysis) {
  const auto& opt = s.opt;
  if (analysis.methods.empty()) throw Error(ErrorCode::NotFound, "the analysis found no FIQA method to explain with");
  const analysis::MethodAnalysis* method = &analysis.methods.front();
  for (const auto& m : analysis.methods) {
    if (!opt.scores.methods.empty() && m.name == opt.scores.methods.front()) method = &m;
  }
  ExplanationReference ref;
  ref.method = method->name;
  ref.dir = analysis::AnalysisFolder{analysis.out}.reference(ref.method);
  ref.cam = opt.cam;
  if (opt.explain_cam == opt.cam || opt.explain_count <= 0 ||
      !quality::QualityRegistry::instance().contains(ref.method)) {
    return ref;
  }
  const auto kinds = store::cams(e.out);
  if (std::find(kinds.begin(), kinds.end(), opt.explain_cam) != kinds.end()) {
    // The pass extracted these maps already (for deviation): the reference is the method's high
    // group among the study's own maps, and no face is mapped twice.
    analysis::AnalysisOptions a;
    a.store = e.out;
    a.out = opt.out / "explain_reference" / "analysis";
    fs::create_directories(a.out.parent_path());
    io::make_real_dir(a.out);
    a.scores.methods = {ref.method};
    a.cam = opt.explain_cam;
    a.group = opt.group;
    a.bootstrap.replicates = 0;  // only the reference and its deviations are used
    a.verdicts.null_controls = 0;
    a.verdicts.permutations = 19;
    a.identities_from_evident_folders = false;  // no verdict is read here, only the reference
    a.figures.draw = false;
    a.force = true;  // a folder of the study's own
    s.say(fmt::format("[5/6] the explanations' reference: the {} high group's {} maps, from the store", ref.method,
                      opt.explain_cam));
    analysis::analyze(a);
    ref.dir = analysis::AnalysisFolder{a.out}.reference(ref.method);
    ref.cam = opt.explain_cam;
    return ref;
  }
  ExplanationReferenceOptions x;
  x.images = opt.images;
  x.store = e.out;
  x.method = *method;
  x.cam = opt.explain_cam;
  x.extract = e;
  x.dir = opt.out / "explain_reference";
  x.progress = opt.progress.counting_as("explain maps");
  s.say(fmt::format("[5/6] {} maps of the {} high and low groups for the explanations' reference, into {}",
                    opt.explain_cam, ref.method, x.dir.string()));
  ref.dir = build_explanation_reference(x);
  ref.cam = opt.explain_cam;
  return ref;
}

// The N most and the N least deviating faces, each once.
std::vector<fs::path> faces_to_explain(const StudyOptions& opt, const fs::path& reference) {
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& f : analysis::read_face_deviations(reference)) {
    if (std::isfinite(f.deviation)) ranked.emplace_back(f.deviation, f.path);
  }
  std::sort(ranked.begin(), ranked.end(), std::greater<>());
  std::vector<fs::path> chosen;
  std::set<std::string> seen;
  const auto n = static_cast<std::size_t>(std::max(0, opt.explain_count));
  for (std::size_t i = 0; i < ranked.size() && i < n; ++i) {
    if (seen.insert(ranked[i].second).second) chosen.push_back(io::resolve_key(opt.images, ranked[i].second));
  }
  for (std::size_t i = 0; i < ranked.size() && i < n; ++i) {
    const auto& key = ranked[ranked.size() - 1 - i].second;
    if (seen.insert(key).second) chosen.push_back(io::resolve_key(opt.images, key));
  }
  return chosen;
}

// 5. Explanations of the chosen faces; a reference that cannot measure deviations (too few
// faces) leaves the rest of the study standing, and the terminal says why there are none.
ExplainResult explain_stage(const Stages& s, const ExplanationReference& ref, const ExtractOptions& e,
                            report::ReportInput& report) {
  const auto& opt = s.opt;
  const explain::ExplanationFolder folder{opt.out / "explain"};
  report.regions_legend = folder.regions_legend();
  const auto chosen = faces_to_explain(opt, ref.dir);
  s.say(fmt::format("[5/6] explain the {} most and least deviating faces (reference: {} high group, {} maps)",
                    std::max(0, opt.explain_count), ref.method, ref.cam));
  ExplainResult explained;
  if (chosen.empty()) return explained;
  ExplainOptions x;
  static_cast<ModelSetup&>(x) = e;
  x.reference = ref.dir;
  x.images = chosen;
  x.out = folder.dir;
  io::make_real_dir(x.out);
  x.pose_model = opt.pose_model;
  x.eye_model = opt.eye_model;
  x.quality_methods = e.quality;  // the per-face methods (deviation is not one)
  x.colormap = opt.figures.colormap;
  x.progress = opt.progress.counting_as("explain");
  try {
    explained = explain(x);
  } catch (const Error& err) {
    if (err.code() != ErrorCode::InvalidArgument) throw;
    s.say(fmt::format("No explanations: {}", err.what()));
  }
  for (const auto& img : explained.images) {
    if (!img.ok) continue;
    report.sheets.push_back(folder.image(img.folder).sheet());
    report.sheet_captions.push_back(fmt::format("{}: deviation {:.3f} (percentile {:.0f} of the {} high group). {}",
                                                fs::path(img.path).filename().string(), img.deviation,
                                                img.percentile_high, ref.method, img.causes));
  }
  return explained;
}

bool names_deviation(const StudyOptions& opt) {
  const auto& m = opt.scores.methods;
  return std::find(m.begin(), m.end(), quality::kDeviationMethod) != m.end();
}

// 2b. The FIQA method deviation, when named: every face against a reference of other people.
std::optional<DeviationSummary> deviation_stage(const Stages& s, StudyOptions& study, const fs::path& store,
                                                report::ReportInput& report) {
  const auto& opt = s.opt;
  if (!names_deviation(opt)) return std::nullopt;
  DeviationOptions d = opt.deviation;
  d.store = store;
  d.identities.labels = opt.labels;
  d.identities.from_folders = opt.labels_from_folders;
  d.identities.pairs = opt.pairs;
  d.identities_from_evident_folders = opt.identities_from_evident_folders;
  d.references_out = opt.out / "deviation";
  io::make_real_dir(d.references_out);
  d.progress.on_stage = [&](const std::string& m) { s.say("[2/6] " + m); };
  DeviationSummary summary;
  try {
    summary = compute_deviation(d);
  } catch (const Error& err) {
    // Too few faces or people for its folds: the study goes on without it, as without a
    // method that cannot rank the faces.
    if (err.code() != ErrorCode::InvalidArgument) throw;
    auto& methods = study.scores.methods;
    methods.erase(std::find(methods.begin(), methods.end(), quality::kDeviationMethod));
    s.say(fmt::format("warning: FIQA method 'deviation' left out: {}", err.what()));
    return std::nullopt;
  }
  s.say(fmt::format("[2/6] deviation: {} faces scored in {:.1f} s ({})", summary.scored, summary.seconds,
                    summary.reference));
  report.deviation = deviation_json(d, summary);
  return summary;
}

// 5b. The faces deviation scored lowest, each explained against the fold reference that scored
// it: the sheet's deviation is the score.
void deviation_explain_stage(const Stages& s, const DeviationSummary& d, const ExtractOptions& e,
                             report::ReportInput& report) {
  const auto& opt = s.opt;
  if (opt.explain_count <= 0 || d.fold_references.empty()) return;
  const auto index = store::read_index_entries(e.out);
  std::vector<std::pair<double, std::size_t>> ranked;
  for (std::size_t r = 0; r < d.deviation.size(); ++r) {
    if (std::isfinite(d.deviation[r]) && d.fold_of_row[r] >= 0) ranked.emplace_back(d.deviation[r], r);
  }
  std::sort(ranked.begin(), ranked.end(), std::greater<>());
  std::map<int, std::vector<std::size_t>> by_fold;
  std::set<std::string> seen;
  for (std::size_t k = 0, taken = 0; k < ranked.size() && taken < static_cast<std::size_t>(opt.explain_count); ++k) {
    const auto row = ranked[k].second;
    if (!seen.insert(index[row].path).second) continue;
    by_fold[d.fold_of_row[row]].push_back(row);
    ++taken;
  }
  s.say(fmt::format("[5/6] explain the {} faces deviation scored lowest, each against its fold's reference",
                    seen.size()));
  std::vector<std::pair<double, std::size_t>> shown;  // (deviation, sheet), for the report's order
  std::vector<fs::path> sheets;
  std::vector<std::string> captions;
  for (const auto& [fold, rows] : by_fold) {
    const explain::ExplanationFolder folder{opt.out / "deviation" / "explain" / fmt::format("fold_{}", fold + 1)};
    ExplainOptions x;
    static_cast<ModelSetup&>(x) = e;
    x.reference = d.fold_references.at(static_cast<std::size_t>(fold));
    for (const auto row : rows) x.images.push_back(io::resolve_key(opt.images, index[row].path));
    x.out = folder.dir;
    io::make_real_dir(x.out);
    x.force = true;  // inside the study's own folder
    x.pose_model = opt.pose_model;
    x.eye_model = opt.eye_model;
    x.quality_methods = e.quality;
    x.colormap = opt.figures.colormap;
    x.progress = opt.progress.counting_as("deviation sheets");
    ExplainResult explained;
    try {
      explained = explain(x);
    } catch (const Error& err) {
      // A fold reference that cannot measure deviations leaves the study standing, as in 5.
      if (err.code() != ErrorCode::InvalidArgument) throw;
      s.say(fmt::format("No sheets for fold {}: {}", fold + 1, err.what()));
      continue;
    }
    for (std::size_t k = 0; k < explained.images.size(); ++k) {
      const auto& img = explained.images[k];
      if (!img.ok) continue;
      shown.emplace_back(img.deviation, sheets.size());
      sheets.push_back(folder.image(img.folder).sheet());
      captions.push_back(fmt::format(
          "{}: deviation {:.3f} (quality score {:.3f}), scored against the reference of fold "
          "{} (people of the other folds). {}",
          fs::path(img.path).filename().string(), img.deviation, -d.deviation[rows[k]], fold + 1, img.causes));
    }
  }
  std::sort(shown.begin(), shown.end(), std::greater<>());
  for (const auto& [deviation, i] : shown) {
    report.deviation_sheets.push_back(sheets[i]);
    report.deviation_captions.push_back(captions[i]);
  }
}

std::string interval_text(const analysis::Interval& i) {
  return io::interval_text(io::json_number(i.value), {io::json_number(i.lo), io::json_number(i.hi)});
}

// The paper's finding (more variation outside the face in the low group), then whether that
// extra variation is specific to outside the face or as large inside (specificity).
std::vector<std::string> amva_findings(const analysis::AnalysisResult& analysis) {
  std::vector<std::string> reproduced, specific, general, other;
  for (const auto& f : analysis.findings) {
    const auto diff = interval_text(f.outside_amv_low_minus_high);
    if (f.finding != "reproduced") {
      other.push_back(fmt::format("{} {} ({})", f.method, diff, f.finding));
      continue;
    }
    reproduced.push_back(fmt::format("{} {}", f.method, diff));
    (f.specificity == "specific to outside" ? specific : general)
        .push_back(fmt::format("{} {}", f.method, interval_text(f.outside_minus_inside)));
  }
  std::vector<std::string> words;
  if (!specific.empty()) {
    words.push_back(fmt::format("more outside than inside (outside - inside): {}", fmt::join(specific, "; ")));
  }
  if (!general.empty()) words.push_back(fmt::format("not specific to outside: {}", fmt::join(general, "; ")));
  if (!other.empty()) words.push_back(fmt::format("not shown: {}", fmt::join(other, "; ")));
  return {fmt::format("low-quality faces vary more outside the central face (AM-V low - high, {} bootstrap): {}",
                      analysis.bootstrap_unit,
                      reproduced.empty() ? "no method" : fmt::format("{}", fmt::join(reproduced, "; "))),
          fmt::format("{}", fmt::join(words, "; "))};
}

// The method whose FNM-EDC has the lowest pAUC at the 20 % discard limit, against random order.
std::string edc_finding(const eval::EdcResult& edc) {
  const auto at = static_cast<std::size_t>(std::find(edc.discard_limits.begin(), edc.discard_limits.end(), 0.20) -
                                           edc.discard_limits.begin());
  const eval::EdcMethod* best = nullptr;
  for (const auto& m : edc.methods) {
    if (m.name != "random" && (!best || m.fnm.at(at).value < best->fnm.at(at).value)) best = &m;
  }
  std::string best_text = "n/a";
  if (best) {
    const auto& p = best->fnm.at(at);
    const nlohmann::json ci =
        edc.bootstrap ? nlohmann::json{io::json_number(p.lo), io::json_number(p.hi)} : nlohmann::json();
    best_text = fmt::format("{} {}", best->name, io::interval_text(p.value, ci, 5));
  }
  return fmt::format(
      "EDC at {} (threshold {:.4f}, FNMR {:.4f}, {} false matches): lowest FNM pAUC@0.20 {}, random order {:.5f}",
      edc.threshold_rule, edc.threshold, edc.fnmr_at_threshold, edc.false_matches_at_threshold, best_text,
      edc.random_fnm_pauc.at(at));
}

// 6. The findings for the terminal and the report's head.
std::vector<std::string> study_findings(const StudyOptions& opt, const ExtractSummary& extracted,
                                        const analysis::AnalysisResult& analysis, const EdcStage& edc,
                                        const ExplainResult& explained) {
  std::size_t failed = 0;
  std::string failures;
  for (const auto& [reason, count] : extracted.failures) {
    failed += count;
    failures += fmt::format("{}{} {}", failures.empty() ? "" : ", ", count, reason);
  }
  std::vector<std::string> findings = {fmt::format("{} faces of {} records ({} failed{}{}), model {}, {} maps",
                                                   extracted.faces, extracted.records, failed,
                                                   failures.empty() ? "" : ": ", failures, opt.card.name, opt.cam)};
  for (auto& line : amva_findings(analysis)) findings.push_back(std::move(line));
  findings.push_back(edc.result ? edc_finding(*edc.result) : edc.note);
  if (!explained.images.empty() && explained.images.front().ok) {
    const auto& top = explained.images.front();
    findings.push_back(fmt::format("most deviating face {} ({:.3f}): {}", fs::path(top.path).filename().string(),
                                   top.deviation, top.causes));
  } else {
    findings.push_back("no face explained");
  }
  return findings;
}

report::StudyDataset dataset_of(const StudyOptions& opt, const ExtractSummary& extracted, const fs::path& store) {
  return {opt.images.string(),        extracted.records, extracted.faces, extracted.failures, opt.card.name, opt.cam,
          store::read_settings(store)};
}

// One model's study once its store is extracted: what its report shows, kept whole (the report
// input points into its analysis and EDC) for a report across models.
struct ModelStudy {
  StudyOptions opt;  // without the methods that could not rank the faces
  analysis::AnalysisResult analysis;
  EdcStage edc;
  report::ReportInput report;
  StudyResult result;
};

// The extraction a study runs: its maps, and deviation's own; its per-face FIQA methods.
ExtractOptions extraction_of(const StudyOptions& opt) {
  ExtractOptions e;
  static_cast<ModelSetup&>(e) = opt.resolved();
  e.images = opt.images;
  e.out = opt.out / "store";
  e.cams = {opt.cam};
  // deviation is made after the pass, from its own maps, which the pass extracts beside the study's.
  if (names_deviation(opt) && opt.deviation.cam != opt.cam) e.cams.push_back(opt.deviation.cam);
  for (const auto& m : opt.scores.methods) {
    if (m != quality::kDeviationMethod) e.quality.push_back(m);
  }
  return e;
}

std::unique_ptr<ModelStudy> study_extracted(const StudyOptions& options, const ExtractOptions& e,
                                            const ExtractSummary& extracted, const std::string& prefix = "") {
  auto study = std::make_unique<ModelStudy>();
  study->opt = options;
  StudyOptions& opt = study->opt;
  const Stages s{opt, prefix};
  require_faces(opt, extracted);
  report::ReportInput& r = study->report;
  const auto deviation = deviation_stage(s, opt, e.out, r);
  drop_unrankable_methods(s, opt, e.out);

  const fs::path analysis_dir = opt.out / "analysis";
  // The EDC reads only the store, so it runs beside the analysis: each fills the cores the
  // other leaves idle (its serial parts, its figures' Python). Its lines follow the analysis's
  // and the faithfulness's, as when it ran after them.
  std::vector<std::string> edc_lines;
  const Stages edc_stages{opt, prefix, &edc_lines};
  auto edc = std::async(std::launch::async, [&] { return edc_stage(edc_stages, e.out); });
  study->analysis = analysis_stage(s, e.out, analysis_dir);
  const auto& analysis = study->analysis;
  const bool circular = deviation && opt.deviation.cam == opt.cam;
  if (deviation && !circular && analysis.robustness) {
    // The grid reads every map kind of the store, the deviation's own among them.
    s.say(
        fmt::format("note: deviation's robustness specifications with {} maps are circular (that map kind defines "
                    "it); read its verdict on the {} maps",
                    opt.deviation.cam, opt.cam));
  }
  if (circular) {
    s.say(
        fmt::format("warning: deviation is defined by the {} maps this analysis groups; groups chosen by a map's "
                    "own deviation vary more by construction, so its AMVA verdict is circular (use --cam or "
                    "--deviation-cam to tell them apart)",
                    opt.cam));
  }
  const fs::path thumbnails_dir = opt.out / "thumbnails";
  io::make_real_dir(thumbnails_dir);
  r.faithfulness = faithfulness_stage(s, e.out);
  r.thumbnails = write_group_thumbnails(e.out, analysis, thumbnails_dir);
  study->edc = edc.get();
  for (const auto& line : edc_lines) opt.progress.stage(line);
  const auto reference = explanation_reference(s, e, analysis);
  const auto explained = explain_stage(s, reference, e, r);
  if (deviation) deviation_explain_stage(s, *deviation, e, r);

  StudyResult& result = study->result;
  result.findings = study_findings(opt, extracted, analysis, study->edc, explained);
  if (circular) {
    result.findings.push_back(
        fmt::format("deviation's AMVA verdict above is circular: it is defined by the {} maps "
                    "the analysis groups",
                    opt.cam));
  }
  if (r.faithfulness) result.findings.push_back(report::faithfulness_finding(*r.faithfulness));
  s.say("[6/6] report");
  r.title = opt.title;
  r.study = opt.out;
  r.findings = result.findings;
  r.analysis = &analysis;
  r.edc = study->edc.result ? &*study->edc.result : nullptr;
  r.edc_note = study->edc.note;
  r.dataset = dataset_of(opt, extracted, e.out);
  result.report = opt.out / "report.html";
  report::write_html_report(r, result.report);
  return study;
}

// Inputs are checked before the output folder is made: a typo leaves nothing behind.
void check_study_inputs(const StudyOptions& options) {
  if (!fs::exists(options.images)) {
    throw Error(ErrorCode::NotFound, fmt::format("{}: no such folder or image list", options.images.string()));
  }
  if (names_deviation(options) && options.deviation.reference_method != "all" &&
      std::find(options.scores.methods.begin(), options.scores.methods.end(), options.deviation.reference_method) ==
          options.scores.methods.end()) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("--deviation-reference {}: the study does not score it; name it in --methods, or use "
                            "--deviation-reference all",
                            options.deviation.reference_method));
  }
  std::set<std::string> keys;
  for (const auto& m : options.models) {
    if (!io::is_safe_name(m.key)) {
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("model '{}': its key names a folder, so it must be a plain file name", m.key));
    }
    if (!keys.insert(m.key).second) {
      throw Error(ErrorCode::InvalidArgument, fmt::format("model '{}' is named twice", m.key));
    }
  }
}

// Every model's study from one extraction pass, then the report across them: the first
// model's report with the section "Across FR models".
StudyResult run_across_models(const StudyOptions& options) {
  std::vector<StudyOptions> per_model;
  std::vector<ExtractOptions> extractions;
  for (const auto& m : options.models) {
    StudyOptions o = options;
    o.models.clear();
    o.card = m.card;
    o.out = options.out / "models" / m.key;
    o.title = fmt::format("{}: {}", options.title, m.key);
    fs::create_directories(o.out);
    extractions.push_back(extraction_of(o));
    per_model.push_back(std::move(o));
  }
  std::vector<std::string> keys;
  for (const auto& m : options.models) keys.push_back(m.key);
  options.progress.stage(fmt::format("[1/6] extract faces once, and embeddings and {} maps per model ({}) into {}",
                                     options.cam, fmt::join(keys, ", "), (options.out / "models").string()));
  const auto extracted = extract_models(extractions, options.progress);
  options.progress.stage(
      fmt::format("[2/6] built-in FIQA: {} (scored in the extraction pass: image measures once, the others per model)",
                  fmt::join(extractions.front().quality, ", ")));
  std::vector<std::unique_ptr<ModelStudy>> studies;
  AcrossModelsOptions c;
  for (std::size_t m = 0; m < per_model.size(); ++m) {
    studies.push_back(study_extracted(per_model[m], extractions[m], extracted[m], "[" + keys[m] + "] "));
    c.models.push_back(
        {keys[m], options.models[m].card.name, per_model[m].out, &studies.back()->analysis, extracted[m].faces});
  }
  c.out = options.out / "across_models";
  c.cam = options.cam;
  c.scores = studies.front()->opt.scores;  // without the methods that could not rank the faces
  c.pairs = options.pairs;
  c.labels = options.labels;
  c.labels_from_folders = options.labels_from_folders;
  c.group = options.group;
  c.figures = options.figures;
  c.progress = options.progress;
  report::ReportInput r = studies.front()->report;
  r.across_models = compare_models(c);
  r.title = options.title;
  r.study = options.out;
  StudyResult result;
  result.findings = r.across_models->findings;
  for (const auto& line : studies.front()->result.findings) {
    result.findings.push_back(fmt::format("{}: {}", keys.front(), line));
  }
  r.findings = result.findings;
  options.progress.stage("[6/6] report across models");
  result.report = options.out / "report.html";
  report::write_html_report(r, result.report);
  return result;
}

}  // namespace

StudyResult run_study(const StudyOptions& options) {
  check_study_inputs(options);
  io::claim_output_dir(options.out, options.force, {"store/meta.json", "report.html", "models"});
  const io::FolderLock one_writer(options.out, "study folder");
  if (options.models.size() > 1) return run_across_models(options);
  StudyOptions opt = options;
  if (options.models.size() == 1) opt.card = options.models.front().card;
  const Stages s{opt, ""};
  const ExtractOptions e = extraction_of(opt);
  const auto extracted = extract_stage(s, e);
  return study_extracted(opt, e, extracted)->result;
}

}  // namespace amva::pipeline
