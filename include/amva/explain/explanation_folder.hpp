#pragma once
// Where amva explain puts each file of its output folder: the one place that names them, for
// the writer (analysis/explain.cpp, pipeline/explain.cpp), the study and the report.
#include <filesystem>
#include <string>

namespace amva::explain {

/// One image's folder: its maps, explain.json and its sheet.
struct ImageExplanationFiles {
  std::filesystem::path dir;

  [[nodiscard]] std::filesystem::path explanation() const { return dir / "explain.json"; }
  [[nodiscard]] std::filesystem::path sheet() const { return dir / "sheet.png"; }
  /// am, d, z or loss (112x112 float32).
  [[nodiscard]] std::filesystem::path map(const std::string& stem) const { return dir / (stem + ".npy"); }
};

struct ExplanationFolder {
  std::filesystem::path dir;

  [[nodiscard]] std::filesystem::path ranking_csv() const { return dir / "ranking.csv"; }
  [[nodiscard]] std::filesystem::path regions_legend() const { return dir / "regions_legend.png"; }
  /// The folder of the image whose ExplainedImage::folder is `folder`.
  [[nodiscard]] ImageExplanationFiles image(const std::string& folder) const { return {dir / folder}; }
};

}  // namespace amva::explain
