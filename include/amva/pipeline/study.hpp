#pragma once
// The whole study in one call (`amva run`): extraction (resumed when the store exists),
// built-in FIQA, analysis, EDC when comparisons exist, explanations of the most and least
// deviating faces, and the HTML report.
//
// Output folder (one model; with several, see StudyOptions::models): store/, analysis/ (amva analyze), edc/ (amva edc),
// explain/ (amva explain), deviation/ (the FIQA method deviation's fold references and the sheets of its lowest faces),
// faithfulness/ (amva faithfulness, on request), report.html (self-contained) with its figures also in figures/.
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "amva/analysis/analyze.hpp"
#include "amva/face/detector.hpp"
#include "amva/model/model_card.hpp"
#include "amva/pipeline/deviation.hpp"
#include "amva/pipeline/model_setup.hpp"
#include "amva/quality/scores.hpp"
#include "amva/stats/groups.hpp"
#include "amva/viz/overlay.hpp"

namespace amva::pipeline {

/// One face recognition model of a study across models.
struct StudyModel {
  std::string key;  // its folder, models/<key>/, and the @ suffix of its model-dependent FIQA columns
  model::ModelCard card;
};

struct StudyOptions : ModelSetup {
  // Two or more: a study across face recognition models. Each image is decoded, detected and
  // aligned once and forwarded once per model into models/<key>/store; each model gets its own
  // study in models/<key>/ (analysis, EDC, explanations, report), across_models/ compares them
  // (verdicts, map agreement, cross-model EDC) and report.html is the first model's report
  // with the section "Across FR models". One model here replaces `card`.
  std::vector<StudyModel> models;
  std::filesystem::path images;  // folder or list
  std::filesystem::path out;
  std::string cam = "gradcam";
  quality::ScoreRequest scores{{"serfiq", "brisque", "magnitude", "sharpness"}};  // built-in FIQA and files
  std::filesystem::path pairs;  // comparisons for the EDC (any one of the three)
  std::filesystem::path labels;
  bool labels_from_folders = false;
  bool identities_from_evident_folders = true;  // for the analysis, without identities given
  stats::GroupRule group;
  analysis::VerdictOptions verdicts;
  // The verdicts over the analyst's choices (robustness.hpp); on by default, since on all of LFW
  // it adds 18 s to a study of 258 s; its joint test (35 s there) only on request; absent: off.
  std::optional<analysis::RobustnessGrid> robustness = [] {
    analysis::RobustnessGrid grid;
    grid.null_draws = 0;
    return grid;
  }();
  // The faithfulness of the study's CAM method and its explanations' (faithfulness.hpp), on
  // that many faces; only on request (--faithfulness), since it costs about 800 forward passes
  // and 400 imputations per face; absent: not measured.
  std::optional<int> faithfulness_faces;
  int faithfulness_steps = 20;  // the games change the face in steps of 1/steps
  // The FIQA method deviation (made after extraction, when scores.methods names it): its map
  // kind, folds and reference; the store, identities and output folder are the study's.
  DeviationOptions deviation;
  int explain_count = 4;  // the N most and the N least deviating faces; and deviation's N lowest
  // Maps of the explanations: occlusion localises a covered part best (bench/occlusion_hits.py);
  // its reference is made from the first method's high and low groups only. The study's own
  // --cam when equal, or when that method is not built in.
  std::string explain_cam = "occlusion";
  std::filesystem::path pose_model, eye_model;
  std::string title = "amva study";
  viz::FigureOptions figures;  // of the analysis and the EDC; its colour map also of the explanation sheets
  bool force = false;          // write into a non-empty folder amva did not make
  /// Stage messages ("[3/6] analysis ...") and the progress of the long stages ("extract",
  /// "explain": done, total).
  Progress progress;
};

struct StudyResult {
  std::filesystem::path report;
  std::vector<std::string> findings;  // five lines for a terminal
};

StudyResult run_study(const StudyOptions& options);

}  // namespace amva::pipeline
