#pragma once
// What a study across face recognition models adds to each model's own study: the verdicts
// side by side, the agreement of the models' maps of the same faces, and the cross-model EDC
// (every FIQA score, made with any model, sorting every model's errors). Its files go to
// `out`: agreement.csv, verdicts.csv and edc_on_<model>/ (amva edc's folder) per model.
#include <filesystem>
#include <string>
#include <vector>

#include "amva/analysis/analyze.hpp"
#include "amva/progress.hpp"
#include "amva/quality/scores.hpp"
#include "amva/report/across_models.hpp"
#include "amva/stats/groups.hpp"
#include "amva/viz/figures.hpp"

namespace amva::pipeline {

/// One model's finished study.
struct StudiedModel {
  std::string key;              // folder name under models/, suffix of its model-dependent FIQA columns
  std::string name;             // the card's name
  std::filesystem::path study;  // its folder: store/, analysis/, report.html
  const analysis::AnalysisResult* analysis = nullptr;
  std::size_t faces = 0;
};

struct AcrossModelsOptions {
  std::vector<StudiedModel> models;  // two or more, the first the reference of the report
  std::filesystem::path out;
  std::string cam;
  quality::ScoreRequest scores;         // the study's FIQA methods and score files
  std::filesystem::path pairs, labels;  // comparisons for the cross-model EDC (any one)
  bool labels_from_folders = false;
  stats::GroupRule group;
  viz::FigureOptions figures;
  Progress progress;
};

/// Whether a FIQA method's scores come from the face recognition model (serfiq, magnitude,
/// deviation): scored per model in a study across models.
bool uses_model(const std::string& method);

report::AcrossModels compare_models(const AcrossModelsOptions& options);

}  // namespace amva::pipeline
