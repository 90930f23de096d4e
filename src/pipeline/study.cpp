#include "amva/pipeline/study.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "amva/analysis/amva_analysis.hpp"
#include "amva/pipeline/explain.hpp"
#include "amva/error.hpp"
#include "amva/eval/edc_study.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/image_list.hpp"
#include "amva/io/json_values.hpp"
#include "amva/io/numbers.hpp"
#include "amva/io/output_dir.hpp"
#include "amva/pipeline/explanation_reference.hpp"
#include "amva/pipeline/extract.hpp"
#include "amva/pipeline/quality.hpp"
#include "amva/pipeline/thumbnails.hpp"
#include "amva/quality/quality_measure.hpp"
#include "amva/report/html_report.hpp"
#include "amva/store/store.hpp"

namespace amva::pipeline {
namespace fs = std::filesystem;

StudyResult run_study(const StudyOptions& opt) {
  const auto stage = [&](const std::string& m) {
    if (opt.stage) opt.stage(m);
  };
  const bool comparisons = !opt.pairs.empty() || !opt.labels.empty() || opt.labels_from_folders;
  // Inputs are checked before the output folder is made: a typo leaves nothing behind.
  if (!fs::exists(opt.images)) {
    throw Error(ErrorCode::NotFound, fmt::format("{}: no such folder or image list", opt.images.string()));
  }
  io::claim_output_dir(opt.out, opt.force, {"store/meta.json", "report.html"});

  // 1. Extraction: a store with the same settings is resumed, never redone.
  ExtractOptions e;
  e.images = opt.images;
  e.out = opt.out / "store";
  e.card = opt.card;
  e.detector = opt.detector;
  e.aligned = opt.aligned;
  e.cams = {opt.cam};
  e.quality = opt.scores.methods;
  e.threads = opt.threads;
  if (!opt.cache_dir.empty()) e.cache_dir = opt.cache_dir;
  stage(fmt::format("[1/6] extract faces, embeddings and {} maps into {}", opt.cam, e.out.string()));
  const auto extracted = extract(e, [&](const ExtractProgress& p) {
    if (opt.progress) opt.progress("extract", p.done, p.total);
  });

  // 2. Built-in FIQA: scored inside the extraction pass (faces of an earlier, interrupted run
  // are re-read), so every image is decoded, aligned and forwarded once.
  stage(fmt::format("[2/6] built-in FIQA: {} (scored in the extraction pass{})", fmt::join(opt.scores.methods, ", "),
                    extracted.quality && extracted.quality->rescored
                        ? fmt::format("; {} faces of an earlier run re-read", extracted.quality->rescored)
                        : ""));

  // 3. Analysis.
  analysis::AnalysisOptions a;
  a.store = e.out;
  a.out = opt.out / "analysis";
  io::make_real_dir(a.out);  // a symlink left there is replaced, never written through
  a.scores = opt.scores;
  a.cam = opt.cam;
  a.group = opt.group;
  a.colormap = opt.colormap;
  // The comparisons' identities also make the analysis's bootstrap resample people.
  a.identities.labels = opt.labels;
  a.identities.from_folders = opt.labels_from_folders;
  a.identities.pairs = opt.pairs;
  stage(fmt::format("[3/6] activation map variation analysis ({}) into {}", opt.group.to_string(), a.out.string()));
  const auto analysis = analysis::analyze(a);
  for (const auto& r : analysis.score_reports) stage("scores: " + r.describe());
  for (const auto& w : analysis.warnings) stage("warning: " + w);
  const fs::path thumbnails_dir = opt.out / "thumbnails";
  io::make_real_dir(thumbnails_dir);
  const auto thumbnails = write_group_thumbnails(e.out, a.out, thumbnails_dir);

  // 4. EDC, when there are comparisons.
  nlohmann::json edc;
  std::string edc_note;
  if (comparisons) {
    eval::EdcOptions c;
    c.store = e.out;
    c.out = opt.out / "edc";
    io::make_real_dir(c.out);
    c.pairs = opt.pairs;
    c.labels = opt.labels;
    c.labels_from_folders = opt.labels_from_folders;
    c.scores = opt.scores;
    c.with_random = true;
    c.discard_limits = {0.20, 0.30};
    c.group = opt.group;
    stage(fmt::format("[4/6] error-versus-discard characteristic into {}", c.out.string()));
    try {
      const auto r = eval::run_edc(c);
      for (const auto& w : r.warnings) stage("warning: " + w);
      edc = r.summary;
    } catch (const Error& err) {
      if (err.code() != ErrorCode::InvalidArgument) throw;
      edc_note = fmt::format("No EDC: {}", err.what());
      stage(edc_note);
    }
  } else {
    edc_note = "No EDC: no comparisons were given (--pairs, --labels or --labels-from-folders).";
    stage("[4/6] " + edc_note);
  }

  // 5. Explanations of the most and least deviating faces against the first method's
  // high-quality reference.
  const auto& analysed = analysis.summary["methods"];
  const std::string method = !opt.scores.methods.empty() && analysed.contains(opt.scores.methods.front())
                                 ? opt.scores.methods.front()
                                 : analysed.begin().key();
  fs::path reference = a.out / ("reference_" + method);
  std::string explain_cam = opt.cam;
  if (opt.explain_cam != opt.cam && opt.explain_count > 0 && quality::QualityRegistry::instance().contains(method)) {
    ExplanationReferenceOptions x;
    x.images = opt.images;
    x.analysis_dir = a.out;
    x.method = method;
    x.cam = opt.explain_cam;
    x.extract = e;
    x.dir = opt.out / "explain_reference";
    if (opt.progress) x.progress = [&](std::size_t d, std::size_t t) { opt.progress("explain maps", d, t); };
    stage(fmt::format("[5/6] {} maps of the {} high and low groups for the explanations' reference, into {}",
                      opt.explain_cam, method, x.dir.string()));
    reference = build_explanation_reference(x);
    explain_cam = opt.explain_cam;
  }
  const auto deviations = io::read_csv(reference / "deviations.csv");
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& row : deviations.rows) {
    const auto deviation = io::to_double(row[4]);
    if (deviation && std::isfinite(*deviation)) ranked.emplace_back(*deviation, row[1]);
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
  stage(fmt::format("[5/6] explain the {} most and least deviating faces (reference: {} high group, {} maps)", n,
                    method, explain_cam));
  report::ReportInput r;
  pipeline::ExplainResult explained;
  if (!chosen.empty()) {
    pipeline::ExplainOptions x;
    x.reference = reference;
    x.images = chosen;
    x.out = opt.out / "explain";
    io::make_real_dir(x.out);
    x.card = opt.card;
    x.detector = opt.detector;
    x.aligned = opt.aligned;
    x.pose_model = opt.pose_model;
    x.eye_model = opt.eye_model;
    x.quality_methods = opt.scores.methods;
    x.cache_dir = e.cache_dir;
    x.threads = opt.threads;
    x.colormap = opt.colormap;
    if (opt.progress) x.progress = [&](std::size_t d, std::size_t t) { opt.progress("explain", d, t); };
    try {
      explained = pipeline::explain(x);
    } catch (const Error& err) {
      // A reference that cannot measure deviations (too few faces) leaves the rest of the
      // study standing; the terminal says why there are no explanation sheets.
      if (err.code() != ErrorCode::InvalidArgument) throw;
      stage(fmt::format("No explanations: {}", err.what()));
    }
    for (const auto& img : explained.images) {
      if (!img.ok) continue;
      r.sheets.push_back(x.out / img.folder / "sheet.png");
      r.sheet_captions.push_back(fmt::format("{}: deviation {:.3f} (percentile {:.0f} of the {} high group). {}",
                                             fs::path(img.path).filename().string(), img.deviation, img.percentile_high,
                                             method, img.causes));
    }
  }

  // 6. Findings and the report.
  StudyResult result;
  std::size_t failed = 0;
  for (const auto& [reason, count] : extracted.failures) failed += count;
  std::string failures;
  for (const auto& [reason, count] : extracted.failures)
    failures += fmt::format("{}{} {}", failures.empty() ? "" : ", ", count, reason);
  result.findings.push_back(fmt::format("{} faces of {} records ({} failed{}{}), model {}, {} maps", extracted.faces,
                                        extracted.records, failed, failures.empty() ? "" : ": ", failures,
                                        opt.card.name, opt.cam));
  // The paper's finding (more variation outside the face in the low group), then whether that
  // extra variation is specific to outside the face or as large inside (specificity).
  std::vector<std::string> reproduced, specific, general, other;
  for (const auto& [name, m] : analysis.summary["methods"].items()) {
    const auto& c = m["comparison"];
    const std::string verdict = c.value("finding", "n/a");
    const auto diff =
        io::interval_text(c.value("outside_amv_low_minus_high", nlohmann::json()),
                          c.value("outside_amv_low_minus_high_ci", nlohmann::json::array({nullptr, nullptr})));
    if (verdict != "reproduced") {
      other.push_back(fmt::format("{} {} ({})", name, diff, verdict));
      continue;
    }
    reproduced.push_back(fmt::format("{} {}", name, diff));
    const auto spec =
        io::interval_text(c.value("outside_minus_inside_difference", nlohmann::json()),
                          c.value("outside_minus_inside_difference_ci", nlohmann::json::array({nullptr, nullptr})));
    (c.value("specificity", "") == "specific to outside" ? specific : general)
        .push_back(fmt::format("{} {}", name, spec));
  }
  result.findings.push_back(
      fmt::format("low-quality faces vary more outside the central face (AM-V low - high, {} bootstrap): {}",
                  analysis.summary["settings"]["bootstrap"]["unit"].get<std::string>(),
                  reproduced.empty() ? "no method" : fmt::format("{}", fmt::join(reproduced, "; "))));
  std::vector<std::string> words;
  if (!specific.empty()) {
    words.push_back(fmt::format("more outside than inside (outside - inside): {}", fmt::join(specific, "; ")));
  }
  if (!general.empty()) words.push_back(fmt::format("not specific to outside: {}", fmt::join(general, "; ")));
  if (!other.empty()) words.push_back(fmt::format("not shown: {}", fmt::join(other, "; ")));
  result.findings.push_back(fmt::format("{}", fmt::join(words, "; ")));
  if (!edc.is_null()) {
    std::string best;
    double best_pauc = 1e300;
    nlohmann::json best_ci;
    for (const auto& [name, m] : edc["methods"].items()) {
      const double p = m["fnm_edc"]["pauc"]["0.20"].get<double>();
      if (name != "random" && p < best_pauc) {
        best_pauc = p;
        best = name;
        best_ci = m["fnm_edc"].contains("pauc_ci") ? m["fnm_edc"]["pauc_ci"]["0.20"] : nlohmann::json();
      }
    }
    result.findings.push_back(fmt::format(
        "EDC at {} (threshold {:.4f}, FNMR {:.4f}, {} false matches): lowest FNM pAUC@0.20 {} {}, random order "
        "{:.5f}",
        edc["settings"]["threshold_rule"].get<std::string>(), edc["settings"]["threshold"].get<double>(),
        edc["settings"]["fnmr_at_threshold"].get<double>(),
        edc["settings"]["false_matches_at_threshold"].get<std::size_t>(), best,
        io::interval_text(best_pauc, best_ci, 5),
        edc["baselines"]["fnm_edc"]["random_pauc_mean"]["0.20"].get<double>()));
  } else {
    result.findings.push_back(edc_note);
  }
  if (!explained.images.empty() && explained.images.front().ok) {
    const auto& top = explained.images.front();
    result.findings.push_back(fmt::format("most deviating face {} ({:.3f}): {}", fs::path(top.path).filename().string(),
                                          top.deviation, top.causes));
  } else {
    result.findings.push_back("no face explained");
  }

  stage("[6/6] report");
  r.title = opt.title;
  r.study = opt.out;
  r.findings = result.findings;
  r.thumbnails = thumbnails;
  r.analysis = analysis.summary;
  r.edc = edc;
  r.edc_note = edc_note;
  const auto meta = store::read_meta(e.out);
  nlohmann::json failures_json = nlohmann::json::object();
  for (const auto& [reason, count] : extracted.failures) failures_json[reason] = count;
  r.dataset = {{"images", opt.images.string()},
               {"records", extracted.records},
               {"faces", extracted.faces},
               {"failures", failures_json},
               {"model", opt.card.name},
               {"cam", opt.cam},
               {"settings", meta.value("settings", nlohmann::json::object())}};
  result.report = opt.out / "report.html";
  report::write_html_report(r, result.report);
  return result;
}

}  // namespace amva::pipeline
