#pragma once
// The report section of a study across face recognition models (`amva run --model-card A,B`):
// what each model's analysis concluded per FIQA method, how far their maps agree, and how each
// method's scores, made with one model, sort another model's errors.
#include <filesystem>
#include <string>
#include <vector>

#include "amva/analysis/group_maps.hpp"
#include "amva/eval/edc_study.hpp"

namespace amva::report {

/// One model of the study and where its own study lies.
struct ModelColumn {
  std::string key;   // its folder under models/ and the @ suffix of its model-dependent FIQA columns
  std::string name;  // the card's name
  std::size_t faces = 0;
  std::filesystem::path report;  // its own report.html, relative to the study
};

/// One FIQA method's verdict on one model's maps.
struct ModelVerdict {
  std::string method;       // as the model's store names it
  std::string model;        // the model's key
  bool uses_model = false;  // scored from that model's embedding (serfiq, magnitude)
  std::string finding;      // a word of analysis::finding_words()
  analysis::Interval outside_amv_low_minus_high;
  double p = 0;  // after the family correction
};

/// How alike two models' maps of the same faces are: Pearson's r per face (the second model's
/// maps resized to the first's shape where they differ) and r of their mean maps.
struct MapAgreement {
  std::string a, b;  // model keys
  std::size_t faces = 0;
  double mean = 0, q10 = 0, median = 0, q90 = 0;  // of the per-face r
  double mean_map_r = 0;
};

/// One FIQA method's FNM pAUC at one discard limit on one model's comparisons; a model-dependent
/// method is named method@model of the model that scored it.
struct CrossEdcCell {
  std::string method;
  std::string judged_on;  // the model whose comparisons and errors are sorted
  eval::Pauc fnm;
  double random = 0;  // the random order's pAUC on that model
};

struct AcrossModels {
  std::string cam;  // the CAM method of the maps
  std::vector<ModelColumn> models;
  std::vector<ModelVerdict> verdicts;
  // Per FIQA method, a figure (without extension) of its MAM and AM-V per model: rows models,
  // each column kind on one colour scale shared by the models.
  std::vector<std::pair<std::string, std::filesystem::path>> method_grids;
  std::vector<MapAgreement> agreement;
  double discard_limit = 0.20;
  std::vector<CrossEdcCell> cross_edc;
  std::vector<std::filesystem::path> edc_figures;  // per model judged on (without extension), in model order
  std::string edc_note;                            // why there is no cross-model EDC, when there is none
  std::vector<std::string> findings;

  /// The FIQA methods of `verdicts`, in the order they first appear.
  [[nodiscard]] std::vector<std::string> methods() const;
  /// Whether `method` is scored by each model (serfiq, magnitude, deviation).
  [[nodiscard]] bool scored_per_model(const std::string& method) const;
  /// The verdict of `method` on model `model`; null when there is none.
  [[nodiscard]] const ModelVerdict* verdict(const std::string& method, const std::string& model) const;
  /// The FIQA scores of `cross_edc`, in the order they first appear.
  [[nodiscard]] std::vector<std::string> edc_scores() const;
  /// The cross-model EDC of `scores` on model `judged_on`; null when there is none.
  [[nodiscard]] const CrossEdcCell* edc_cell(const std::string& scores, const std::string& judged_on) const;
};

}  // namespace amva::report
