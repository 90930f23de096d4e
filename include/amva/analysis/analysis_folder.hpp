#pragma once
// Where amva analyze puts each file of its output folder: the one place that names them, for
// the writer (analysis_folder.cpp), the report and the study. Figures are named without their
// extension; viz writes .png, .axes.json and, on request, .svg beside one another.
#include <filesystem>
#include <string>

namespace amva::analysis {

struct AnalysisFolder {
  std::filesystem::path dir;

  [[nodiscard]] std::filesystem::path summary() const { return dir / "summary.json"; }
  [[nodiscard]] std::filesystem::path groups_csv() const { return dir / "groups.csv"; }
  [[nodiscard]] std::filesystem::path regions_csv() const { return dir / "regions.csv"; }
  [[nodiscard]] std::filesystem::path agreement_csv() const { return dir / "agreement.csv"; }
  [[nodiscard]] std::filesystem::path null_controls_csv() const { return dir / "null_controls.csv"; }
  /// Every specification of the robustness grid, one row each (with --robustness).
  [[nodiscard]] std::filesystem::path robustness_csv() const { return dir / "robustness.csv"; }
  [[nodiscard]] std::filesystem::path grid_figure() const { return dir / "grid"; }

  /// A method's own folder: its group maps, differences, tests, curves and figures.
  [[nodiscard]] std::filesystem::path method(const std::string& name) const { return dir / name; }
  /// One of a group's per-pixel maps: mam, amv, median, mad or std_sq_dev_lower_median.
  [[nodiscard]] std::filesystem::path group_map(const std::string& name, const std::string& statistic,
                                                const std::string& group) const {
    return method(name) / (statistic + "_" + group + ".npy");
  }
  /// A map of the method's folder by its stem: d_amv, d_mam, d_amv_symmetric, significance...
  [[nodiscard]] std::filesystem::path method_map(const std::string& name, const std::string& stem) const {
    return method(name) / (stem + ".npy");
  }
  [[nodiscard]] std::filesystem::path densities_csv(const std::string& name) const {
    return method(name) / "densities.csv";
  }
  [[nodiscard]] std::filesystem::path profiles_csv(const std::string& name) const {
    return method(name) / "profiles.csv";
  }
  /// A method's figure: intra, significance (only when the groups were tested), density, profiles.
  [[nodiscard]] std::filesystem::path method_figure(const std::string& name, const std::string& figure) const {
    return method(name) / figure;
  }
  /// The folder amva explain reads (reference.hpp).
  [[nodiscard]] std::filesystem::path reference(const std::string& name) const { return dir / ("reference_" + name); }
};

}  // namespace amva::analysis
