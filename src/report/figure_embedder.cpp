#include "figure_embedder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/json_fields.hpp"
#include "amva/io/npy.hpp"
#include "amva/io/output_dir.hpp"
#include "amva/report/html_report.hpp"

namespace amva::report {
namespace fs = std::filesystem;
namespace {

// A 2-D map as 16-bit steps between its finite minimum and maximum (65535: not a number).
std::string quantised_map(const io::NpyArray& a) {
  const auto h = a.shape.size() == 2 ? a.shape[0] : 1;
  const auto w = a.shape.empty() ? 0 : a.shape.back();
  float lo = INFINITY, hi = -INFINITY;
  for (float v : a.data) {
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!(lo <= hi)) lo = hi = 0;
  const double step = hi > lo ? (static_cast<double>(hi) - lo) / 65534.0 : 1.0;
  std::string bytes;
  bytes.reserve(2 * a.data.size());
  for (float v : a.data) {
    const auto q = std::isfinite(v) ? static_cast<unsigned>(std::lround((v - lo) / step)) : 65535u;
    bytes += static_cast<char>(q & 0xff);
    bytes += static_cast<char>(q >> 8);
  }
  return nlohmann::json{{"w", w}, {"h", h}, {"lo", lo}, {"step", step}, {"data", base64(bytes)}}.dump();
}

}  // namespace

FigureEmbedder::FigureEmbedder(fs::path figures_dir) : dir_(std::move(figures_dir)) {
  io::make_real_dir(dir_);
}

std::string FigureEmbedder::map_cells(const fs::path& png) {
  auto axes = png;
  axes.replace_extension(".axes.json");
  if (!fs::exists(axes)) return "";
  const auto j = io::parse_json_file(axes);
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& c : j.at("cells")) {
    const fs::path npy = fs::weakly_canonical(png.parent_path() / c.at("npy").get<std::string>());
    auto it = map_index_.find(npy);
    if (it == map_index_.end()) {
      if (!fs::exists(npy)) continue;
      const auto a = io::read_npy(npy);
      if (a.shape.size() != 2) continue;
      maps_.push_back(quantised_map(a));
      it = map_index_.emplace(npy, maps_.size() - 1).first;
    }
    cells.push_back({{"box", c.at("box")}, {"map", it->second}, {"title", c.value("title", "")}});
  }
  return cells.empty() ? "" : fmt::format(" data-cells=\"{}\"", html_escape(cells.dump()));
}

std::string FigureEmbedder::embed(const fs::path& png, const std::string& name, const std::string& caption) {
  if (!fs::exists(png)) return fmt::format("<p><em>figure {} missing</em></p>", html_escape(png.filename().string()));
  io::copy_file_atomically(png, dir_ / (name + ".png"));
  auto svg = png;
  svg.replace_extension(".svg");
  std::string links = fmt::format("<a href=\"figures/{0}.png\">PNG</a>", html_escape(name));
  if (fs::exists(svg)) {
    io::copy_file_atomically(svg, dir_ / (name + ".svg"));
    links += fmt::format(" <a href=\"figures/{0}.svg\">SVG</a>", html_escape(name));
  }
  return fmt::format(
      "<figure><img class=\"zoomable\" alt=\"{0}\" title=\"click to enlarge\"{3} src=\"data:image/png;base64,{1}\">"
      "<figcaption>{2} <span class=\"files\">{4}</span></figcaption></figure>\n",
      html_escape(name), base64_file(png), caption, map_cells(png), links);
}

std::string FigureEmbedder::maps_script() const {
  std::string out = "<script id=\"amva-maps\" type=\"application/json\">[";
  for (std::size_t i = 0; i < maps_.size(); ++i) out += (i ? "," : "") + maps_[i];
  return out + "]</script>\n";
}

}  // namespace amva::report
