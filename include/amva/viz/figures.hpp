#pragma once
// Figures drawn by one Python process (share/amva/plots.py): amva describes each figure in
// JSON (data inline or as .npy files), and the script (one module per kind beside it) lays
// every figure out in pixels and writes it with Pillow (share/amva/canvas.py), in matplotlib's
// look (Debian's python3-matplotlib gives the colour maps and the font): real axes, ticks,
// legends and colour bars, as researchers make them, without matplotlib's layout engines,
// which took most of the drawing time. The structs below are the figure specification;
// FigureBatch writes them as JSON and the script reads exactly those keys
// (tests/integration/test_figures.cpp fails when either side names a key the other does not,
// and checks each kind's pixels).
#include <array>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "amva/viz/overlay.hpp"

namespace amva::viz {

/// Which figures a command draws. SVG is on request (about a third more drawing time), and the
/// report embeds the PNG. The SVG has text, lines and frames as vectors and the maps as the
/// PNG's pixels.
struct FigureOptions {
  bool draw = true;
  bool svg = false;
  Colormap colormap = Colormap::Jet;  // of every heat map
};

struct HeatmapGrid {
  std::filesystem::path file;  // output path without extension (.png, and .svg on request, are written)
  std::string title;
  std::vector<std::string> row_titles;
  std::vector<std::string> column_titles;
  std::vector<std::vector<std::filesystem::path>> cells;  // .npy maps; an empty path leaves a cell blank
  bool shared_scale = true;  // one colour scale and one colour bar for all cells, else one per cell
  std::string colorbar_label;
  std::optional<std::array<double, 4>> box;  // x0, y0, x1, y1 drawn on every cell (pixel centres)
  // Colour scales by column kind: column c uses scale column_scale[c], shared by every cell of
  // the columns that name it, with one colour bar under them labelled scale_labels[k].
  // Overrides shared_scale when given.
  std::vector<int> column_scale{};
  std::vector<std::string> scale_labels{};
  // Optional 0/1 masks (.npy, like the cells) outlined in white over the matching cell.
  std::vector<std::vector<std::filesystem::path>> outlines{};
  // What each cell shows, for a viewer's read-out (default: "row title / column title").
  std::vector<std::vector<std::string>> cell_titles{};
  // Signed values: a diverging colour map (blue below 0, red above) centred on 0, each scale
  // symmetric about it.
  bool diverging = false;
};

struct Series {
  std::string label;
  std::vector<double> x, y;
  std::vector<double> lo, hi;  // optional error band or bars (same length as y)
  std::string style = "-";     // as matplotlib's: a colour letter, "-", "--", "-." or ":", "o" or "|"
  bool step = false;           // stepwise: y holds from one x to the next
  bool band_only = false;      // draw only the band lo..hi, in the colour of the series before
};

struct Panel {
  std::string title, xlabel, ylabel;
  std::vector<Series> series;
  std::optional<double> xmax{};  // right end of the x axis (default: the data's)
};

struct LinePanels {
  std::filesystem::path file;
  std::string title;
  std::vector<Panel> panels;  // side by side
};

/// A figure's raster file (`file` names it without its extension), as a report embeds it.
inline std::filesystem::path png_of(const std::filesystem::path& file) {
  auto png = file;
  png += ".png";
  return png;
}

class FigureBatch {
 public:
  explicit FigureBatch(const FigureOptions& options = {}) : options_(options) {}
  void add(const HeatmapGrid& grid);
  void add(const LinePanels& lines);
  [[nodiscard]] bool empty() const { return figures_.empty(); }
  [[nodiscard]] const nlohmann::json& json() const { return figures_; }
  /// Each figure's `file`, in the order added: what render() draws.
  [[nodiscard]] const std::vector<std::filesystem::path>& files() const { return files_; }
  /// Draws every figure. The job file and Python's messages go to `work_dir`; the job names
  /// each file relative to it, so folders above whose names are not UTF-8 (which JSON cannot
  /// hold) draw as any other. Throws Error(InvalidArgument) for a file name below them that is
  /// not UTF-8, Error(NotFound) when Python cannot be started or matplotlib is missing (naming
  /// the package to install), Error(Io) with Python's last message when drawing fails.
  void render(const std::filesystem::path& work_dir) const;

 private:
  FigureOptions options_;
  nlohmann::json figures_ = nlohmann::json::array();
  std::vector<std::filesystem::path> files_;
};

/// The Python interpreter used for figures: $AMVA_PYTHON, else /usr/bin/python3 (Debian's,
/// where python3-matplotlib installs), else python3 on the PATH.
std::string python_interpreter();

/// The figure script, share_file("plots.py").
std::filesystem::path plot_script();

}  // namespace amva::viz
