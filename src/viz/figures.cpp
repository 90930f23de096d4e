#include "amva/viz/figures.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/json_values.hpp"
#include "amva/share.hpp"

namespace amva::viz {
namespace fs = std::filesystem;
namespace {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

nlohmann::json series_json(const Series& s) {
  nlohmann::json j = {{"label", s.label}, {"x", s.x},       {"y", s.y},
                      {"style", s.style}, {"step", s.step}, {"band_only", s.band_only}};
  if (!s.lo.empty()) {
    j["lo"] = s.lo;
    j["hi"] = s.hi;
  }
  return j;
}

// JSON has no NaN: nlohmann writes null, which the script reads back as NaN.
}  // namespace

void FigureBatch::add(const HeatmapGrid& g) {
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& row : g.cells) {
    nlohmann::json r = nlohmann::json::array();
    for (const auto& c : row) r.push_back(c.empty() ? "" : c.string());
    cells.push_back(r);
  }
  nlohmann::json j = {{"kind", "heatmap_grid"},         {"file", g.file.string()},           {"title", g.title},
                      {"row_titles", g.row_titles},     {"column_titles", g.column_titles},  {"cells", cells},
                      {"shared_scale", g.shared_scale}, {"colorbar_label", g.colorbar_label}};
  files_.push_back(g.file);
  if (g.box) j["box"] = *g.box;
  if (!g.cell_titles.empty()) j["cell_titles"] = g.cell_titles;
  if (g.diverging) j["diverging"] = true;
  if (!g.column_scale.empty()) {
    j["column_scale"] = g.column_scale;
    j["scale_labels"] = g.scale_labels;
  }
  if (!g.outlines.empty()) {
    nlohmann::json outlines = nlohmann::json::array();
    for (const auto& row : g.outlines) {
      nlohmann::json r = nlohmann::json::array();
      for (const auto& c : row) r.push_back(c.empty() ? "" : c.string());
      outlines.push_back(r);
    }
    j["outlines"] = outlines;
  }
  figures_.push_back(j);
}

void FigureBatch::add(const LinePanels& l) {
  nlohmann::json panels = nlohmann::json::array();
  for (const auto& p : l.panels) {
    nlohmann::json series = nlohmann::json::array();
    for (const auto& s : p.series) series.push_back(series_json(s));
    nlohmann::json panel = {{"title", p.title}, {"xlabel", p.xlabel}, {"ylabel", p.ylabel}, {"series", series}};
    if (p.xmax) panel["xmax"] = *p.xmax;
    panels.push_back(panel);
  }
  figures_.push_back({{"kind", "line_panels"}, {"file", l.file.string()}, {"title", l.title}, {"panels", panels}});
  files_.push_back(l.file);
}

std::string python_interpreter() {
  if (const char* env = std::getenv("AMVA_PYTHON"); env && *env) return env;
  if (fs::exists("/usr/bin/python3")) return "/usr/bin/python3";
  return "python3";
}

fs::path plot_script() {
  return share_file("plots.py");
}

void FigureBatch::render(const fs::path& work_dir) const {
  if (figures_.empty()) return;
  const auto script = plot_script();
  if (!fs::exists(script))
    throw Error(ErrorCode::NotFound, fmt::format("{}: figure script not found", script.string()));
  fs::create_directories(work_dir);
  const fs::path job = work_dir / "figures.json";
  const fs::path log = work_dir / "figures.log";
  io::write_text_atomically(
      job,
      io::json_text(
          nlohmann::json{{"figures", figures_}, {"colormap", to_string(options_.colormap)}, {"svg", options_.svg}}, 1) +
          "\n");
  const auto command = fmt::format("{} {} {} > {} 2>&1", shell_quote(python_interpreter()),
                                   shell_quote(script.string()), shell_quote(job.string()), shell_quote(log.string()));
  const int status = std::system(command.c_str());
  if (status == 0) return;
  std::ifstream in(log);
  std::string line, last;
  bool no_matplotlib = false;
  while (std::getline(in, line)) {
    if (line.find("No module named") != std::string::npos) no_matplotlib = true;
    if (!line.empty()) last = line;
  }
  if (no_matplotlib) {
    throw Error(ErrorCode::NotFound, fmt::format("figures need matplotlib for {} (Debian: apt-get install "
                                                 "python3-matplotlib; scripts/setup.sh does): {}",
                                                 python_interpreter(), last));
  }
  throw Error(ErrorCode::Io, fmt::format("drawing figures failed (see {}): {}", log.string(), last));
}

}  // namespace amva::viz
