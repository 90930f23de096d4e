#pragma once
// The study's report: one self-contained HTML file (figures embedded as data URIs, no
// network, no external files), filled into share/amva/report_template.html. Every figure is
// also copied to figures/ as PNG (and SVG where matplotlib drew it) for papers.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "amva/analysis/analyze.hpp"
#include "amva/cam/faithfulness_result.hpp"
#include "amva/eval/edc_study.hpp"
#include "amva/report/across_models.hpp"
#include "amva/store/settings.hpp"

namespace amva::report {

/// What the study ran on.
struct StudyDataset {
  std::string images;  // the folder or image list
  std::size_t records = 0, faces = 0;
  std::map<std::string, std::size_t> failures;  // reason -> records
  std::string model;                            // the model card's name
  std::string cam;                              // the CAM method of the maps
  store::StoreSettings settings;                // of the store: model hash, alignment, detector, maps
};

struct ReportInput {
  std::string title;
  std::filesystem::path study;  // the folder holding store/, analysis/, edc/, explain/
  StudyDataset dataset;
  const analysis::AnalysisResult* analysis = nullptr;  // required
  const eval::EdcResult* edc = nullptr;                // null when there is no EDC
  std::string edc_note;                                // why there is no EDC, when there is none
  std::filesystem::path regions_legend;                // the face regions the sheets refer to
  std::vector<std::filesystem::path> sheets;           // explanation sheets to show
  std::vector<std::string> sheet_captions;
  std::vector<std::string> findings;
  std::map<std::string, std::filesystem::path> thumbnails;  // method -> example faces of its groups
  std::optional<cam::FaithfulnessResult> faithfulness;      // when the study measured it
  // The FIQA method deviation, when the study made it: deviation.json, and the sheets of its
  // lowest-scoring faces, each made against the fold reference that scored it.
  std::optional<nlohmann::json> deviation;
  std::vector<std::filesystem::path> deviation_sheets;
  std::vector<std::string> deviation_captions;
  // A study across FR models: the section "Across FR models", after the summary; the rest of
  // the report is the first model's.
  std::optional<AcrossModels> across_models;
};

/// Writes `out` (report.html) and copies the figures next to it under figures/. Throws
/// Error(NotFound) when the template is missing, Error(InvalidArgument) without an analysis.
void write_html_report(const ReportInput& input, const std::filesystem::path& out);

/// Base64 of bytes (OpenSSL's encoder), for data URIs and embedded arrays.
std::string base64(const std::string& bytes);
/// Base64 of a file's bytes.
std::string base64_file(const std::filesystem::path& file);

/// Escapes &, <, >, " for HTML text and attributes.
std::string html_escape(const std::string& text);

}  // namespace amva::report
