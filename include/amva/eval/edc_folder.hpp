#pragma once
// Where amva edc puts each file of its output folder: the one place that names them, for the
// writer (edc_folder.cpp), the report and amva edc. Figures are named without their extension.
#include <filesystem>
#include <string>

namespace amva::eval {

struct EdcFolder {
  std::filesystem::path dir;

  [[nodiscard]] std::filesystem::path summary() const { return dir / "edc.json"; }
  [[nodiscard]] std::filesystem::path curves_csv() const { return dir / "edc.csv"; }
  [[nodiscard]] std::filesystem::path groups_csv() const { return dir / "groups.csv"; }
  [[nodiscard]] std::filesystem::path pauc_csv() const { return dir / "pauc.csv"; }
  [[nodiscard]] std::filesystem::path pauc_differences_csv() const { return dir / "pauc_differences.csv"; }
  [[nodiscard]] std::filesystem::path comparisons_csv() const { return dir / "comparisons.csv"; }
  [[nodiscard]] std::filesystem::path excluded_txt() const { return dir / "excluded.txt"; }
  [[nodiscard]] std::filesystem::path edc_figure() const { return dir / "edc"; }
  [[nodiscard]] std::filesystem::path distributions_figure() const { return dir / "distributions"; }
};

/// How edc.json and the CSV files name a discard limit (0.2 -> "0.20").
std::string limit_key(double limit);

}  // namespace amva::eval
