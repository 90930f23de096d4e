#include "amva/viz/figures.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/json_values.hpp"
#include "amva/share.hpp"

namespace amva::viz {
namespace fs = std::filesystem;
namespace {

// A path as the job names it: relative to the job's folder, where the script works. Only the
// names below the folder the two share are written, so a folder above them whose name is not
// UTF-8 (which JSON text cannot hold) still draws; a name that is not UTF-8 below it is an
// error naming it instead of a file drawn under a mangled name.
std::string job_path(const std::string& path, const fs::path& job_dir) {
  if (path.empty()) return path;
  const auto relative = fs::absolute(path).lexically_normal().lexically_relative(job_dir);
  const auto text = relative.empty() ? path : relative.string();
  try {
    (void)nlohmann::json(text).dump();
  } catch (const nlohmann::json::type_error&) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{}: a figure's file name must be UTF-8 (the figure job is JSON)", path));
  }
  return text;
}

// The figure with its files named as job_path does.
nlohmann::json with_job_paths(nlohmann::json figure, const fs::path& job_dir) {
  figure["file"] = job_path(figure["file"].get<std::string>(), job_dir);
  for (const char* key : {"cells", "outlines"}) {
    if (!figure.contains(key)) continue;
    for (auto& row : figure[key]) {
      for (auto& cell : row) cell = job_path(cell.get<std::string>(), job_dir);
    }
  }
  return figure;
}

// Runs the script on the job, its output in `log`; the exit status, as waitpid gives it. A
// spawned process, not std::system: std::system ignores SIGINT in the whole of amva while the
// script runs, so Ctrl-C would not stop a study drawing figures beside its other stages.
int run_script(const fs::path& script, const fs::path& job, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const std::string python = python_interpreter();
  std::vector<std::string> args = {python, script.string(), job.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, python.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    throw Error(ErrorCode::NotFound, fmt::format("cannot run {} to draw the figures ({}); Debian's python3 and "
                                                 "python3-matplotlib draw them (scripts/setup.sh installs both)",
                                                 python, std::strerror(spawned)));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error(ErrorCode::Io, fmt::format("waiting for {}: {}", python, std::strerror(errno)));
  }
  return status;
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
  const fs::path job_dir = fs::absolute(work_dir).lexically_normal();
  nlohmann::json figures = nlohmann::json::array();
  for (const auto& figure : figures_) figures.push_back(with_job_paths(figure, job_dir));
  const fs::path job = job_dir / "figures.json";
  const fs::path log = job_dir / "figures.log";
  io::write_text_atomically(
      job,
      io::json_text(
          nlohmann::json{{"figures", figures}, {"colormap", to_string(options_.colormap)}, {"svg", options_.svg}}, 1) +
          "\n");
  const int status = run_script(script, job, log);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
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
  if (WIFSIGNALED(status) && last.empty()) last = fmt::format("stopped by signal {}", WTERMSIG(status));
  throw Error(ErrorCode::Io, fmt::format("drawing figures failed (see {}): {}", log.string(), last));
}

}  // namespace amva::viz
