#pragma once
// The study's report: one self-contained HTML file (figures embedded as data URIs, no
// network, no external files), filled into share/amva/report_template.html. Every figure is
// also copied to figures/ as PNG (and SVG where matplotlib drew it) for papers.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace amva::report {

struct ReportInput {
  std::string title;
  std::filesystem::path study;                // the folder holding store/, analysis/, edc/, explain/
  nlohmann::json dataset;                     // counts, failures by reason, settings
  nlohmann::json analysis;                    // analysis/summary.json
  nlohmann::json edc;                         // edc/edc.json, or null
  std::string edc_note;                       // why there is no EDC, when there is none
  std::vector<std::filesystem::path> sheets;  // explanation sheets to show
  std::vector<std::string> sheet_captions;
  std::vector<std::string> findings;
  std::map<std::string, std::filesystem::path> thumbnails;  // method -> example faces of its groups
};

/// Writes `out` (report.html) and copies the figures next to it under figures/. Throws
/// Error(NotFound) when the template is missing.
void write_html_report(const ReportInput& input, const std::filesystem::path& out);

/// Base64 of bytes (OpenSSL's encoder), for data URIs and embedded arrays.
std::string base64(const std::string& bytes);
/// Base64 of a file's bytes.
std::string base64_file(const std::filesystem::path& file);

/// Escapes &, <, >, " for HTML text and attributes.
std::string html_escape(const std::string& text);

}  // namespace amva::report
