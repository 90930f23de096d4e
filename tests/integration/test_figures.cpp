// One test per figure kind, through FigureBatch and plots.py as every command draws them: the
// pixels land where the figure says (the report's pointer read-out trusts .axes.json), and what
// reaches past the canvas (a legend under the panels) is kept.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <regex>
#include <set>
#include <vector>

#include "amva/error.hpp"
#include "amva/io/npy.hpp"
#include "amva/viz/figures.hpp"
#include "support.hpp"

namespace amva::test {
namespace {

// A map whose left half is 0 and right half 1, so each half takes one end of the colour map.
fs::path write_halves(const fs::path& file, int height, int width) {
  std::vector<float> values(static_cast<std::size_t>(height * width));
  for (int y = 0; y < height; ++y) {
    for (int x = width / 2; x < width; ++x) values[static_cast<std::size_t>(y * width + x)] = 1.0F;
  }
  io::write_npy(file, {height, width}, values.data());
  return file;
}

// The PNG pixel at fractions (fx, fy) of a cell's box in .axes.json.
cv::Vec3b pixel_in(const cv::Mat& png, const nlohmann::json& box, double fx, double fy) {
  const double x = box[0].get<double>() + fx * (box[2].get<double>() - box[0].get<double>());
  const double y = box[1].get<double>() + fy * (box[3].get<double>() - box[1].get<double>());
  return png.at<cv::Vec3b>(static_cast<int>(y * png.rows), static_cast<int>(x * png.cols));
}

TEST(Figures, HeatmapGridPutsEachCellWhereItsAxesFileSays) {
  const TempDir dir;
  viz::HeatmapGrid grid;
  grid.file = dir / "grid";
  grid.title = "two cells";
  grid.row_titles = {"a row title long enough to reach the left edge"};
  grid.column_titles = {"wide", "tall"};
  grid.cells = {{write_halves(dir / "wide.npy", 20, 40), write_halves(dir / "tall.npy", 60, 30)}};
  grid.shared_scale = false;
  viz::FigureBatch batch;
  batch.add(grid);
  batch.render(dir / "work");

  const cv::Mat png = cv::imread((dir / "grid.png").string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(png.empty());
  const auto cells = read_json(dir / "grid.axes.json")["cells"];
  ASSERT_EQ(cells.size(), 2U);
  EXPECT_EQ(cells[0]["npy"], "wide.npy");
  EXPECT_EQ(cells[0]["title"], "a row title long enough to reach the left edge / wide");
  for (const auto& cell : cells) {
    const auto& box = cell["box"];
    for (const auto& v : box) {
      EXPECT_GE(v.get<double>(), 0.0);
      EXPECT_LE(v.get<double>(), 1.0);
    }
    // jet: 0 is dark blue (0, 0, 0.5), 1 dark red (0.5, 0, 0); OpenCV reads BGR. Sampled close
    // to the box's edges and to the halves' border: a box off by a few pixels fails.
    for (const double fy : {0.04, 0.5, 0.96}) {
      for (const double fx : {0.04, 0.45}) {
        const cv::Vec3b low = pixel_in(png, box, fx, fy);
        EXPECT_NEAR(low[0], 128, 2) << cell["npy"] << " at " << fx << ", " << fy;
        EXPECT_LE(low[1] + low[2], 4) << cell["npy"] << " at " << fx << ", " << fy;
        const cv::Vec3b high = pixel_in(png, box, 1.0 - fx, fy);
        EXPECT_NEAR(high[2], 128, 2) << cell["npy"] << " at " << 1.0 - fx << ", " << fy;
        EXPECT_LE(high[0] + high[1], 4) << cell["npy"] << " at " << 1.0 - fx << ", " << fy;
      }
    }
    // Just outside the box on every side: no map colour (a box too large fails).
    for (const auto& [fx, fy] : {std::pair{-0.04, 0.5}, {1.04, 0.5}, {0.25, -0.04}, {0.75, 1.04}}) {
      const cv::Vec3b p = pixel_in(png, box, fx, fy);
      const bool map_colour = (p[0] > 100 && p[1] + p[2] < 20) || (p[2] > 100 && p[0] + p[1] < 20);
      EXPECT_FALSE(map_colour) << cell["npy"] << " at " << fx << ", " << fy;
    }
  }
}

// A row title longer than its row is set in several lines: nothing of it reaches into the gap
// between two rows, where the titles of short rows (wide maps) used to overlap.
TEST(Figures, LongRowTitlesStayBesideTheirOwnRows) {
  const TempDir dir;
  viz::HeatmapGrid grid;
  grid.file = dir / "grid";
  grid.row_titles = {"iresnet_tiny_opset13 (card_iresnet_opset13)", "default MobileFaceNet fr_feature", "x"};
  grid.column_titles = {"MAM high"};
  const auto wide = write_halves(dir / "wide.npy", 20, 40);
  grid.cells = {{wide}, {wide}, {wide}};
  viz::FigureBatch batch;
  batch.add(grid);
  batch.render(dir / "work");

  const cv::Mat png = cv::imread((dir / "grid.png").string(), cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(png.empty());
  const auto cells = read_json(dir / "grid.axes.json")["cells"];
  ASSERT_EQ(cells.size(), 3U);
  const auto px = [](const nlohmann::json& box, int i, int size) {
    return static_cast<int>(box[i].get<double>() * size);
  };
  const int left_of_maps = px(cells[0]["box"], 0, png.cols) - 2;
  for (std::size_t r = 0; r < cells.size(); ++r) {
    const int top = px(cells[r]["box"], 1, png.rows), bottom = px(cells[r]["box"], 3, png.rows);
    // Ink left of the maps from the row above's bottom to the row below's top is this row's title.
    const int band_top = r == 0 ? 0 : px(cells[r - 1]["box"], 3, png.rows);
    const int band_bottom = r + 1 < cells.size() ? px(cells[r + 1]["box"], 1, png.rows) : png.rows;
    int ink_top = png.rows, ink_bottom = -1;
    for (int y = band_top; y < band_bottom; ++y) {
      for (int x = 0; x < left_of_maps; ++x) {
        if (png.at<std::uint8_t>(y, x) >= 128) continue;
        ink_top = std::min(ink_top, y);
        ink_bottom = std::max(ink_bottom, y);
      }
    }
    ASSERT_GE(ink_bottom, 0) << "row " << r << " has no title";
    EXPECT_GE(ink_top, top) << "row " << r << "'s title reaches above its row";
    EXPECT_LE(ink_bottom, bottom) << "row " << r << "'s title reaches below its row";
  }
  // The read-out names each map with its whole row title.
  EXPECT_EQ(cells[0]["title"], "iresnet_tiny_opset13 (card_iresnet_opset13) / MAM high");
}

TEST(Figures, LinePanelsKeepTheSharedLegendBelowTheCanvas) {
  const TempDir dir;
  viz::LinePanels lines;
  lines.file = dir / "lines";
  lines.title = "two panels, one legend";
  for (const char* title : {"left", "right"}) {
    viz::Panel panel{title, "x", "y", {}};
    panel.series.push_back({"rising", {0.0, 1.0}, {0.0, 1.0}, {}, {}, "r-"});
    panel.series.push_back({"flat, with a gap", {0.0, 0.5, 1.0}, {0.5, std::nan(""), 0.5}, {}, {}, "b--"});
    lines.panels.push_back(panel);
  }
  viz::FigureBatch batch;
  batch.add(lines);
  batch.render(dir / "work");

  const cv::Mat png = cv::imread((dir / "lines.png").string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(png.empty());
  // Two panels of 4.2 x 3.3 inches at 150 dpi: the legend under them makes the crop taller
  // than the canvas, and it is not cut off.
  EXPECT_GT(png.rows, 495 + 20);
  EXPECT_LT(png.cols, 2 * 630 + 10);
  // The legend's red sample line lies below every red pixel of the rising curves.
  int lowest_curve = -1;
  int red_rows_in_legend = 0;
  const int legend_top = png.rows - 60;
  for (int y = 0; y < png.rows; ++y) {
    bool red = false;
    for (int x = 0; x < png.cols && !red; ++x) {
      const cv::Vec3b p = png.at<cv::Vec3b>(y, x);
      red = p[2] > 200 && p[1] < 60 && p[0] < 60;
    }
    if (red && y < legend_top) lowest_curve = y;
    if (red && y >= legend_top) ++red_rows_in_legend;
  }
  EXPECT_GT(lowest_curve, 0);
  EXPECT_GT(red_rows_in_legend, 0);
  EXPECT_FALSE(fs::exists(dir / "lines.svg"));
}

TEST(Figures, SvgIsWrittenOnRequestBesideThePng) {
  const TempDir dir;
  viz::LinePanels lines;
  lines.file = dir / "one";
  lines.panels.push_back({"only", "x", "y", {{"line", {0.0, 1.0}, {1.0, 0.0}, {}, {}}}});
  viz::HeatmapGrid grid;
  grid.file = dir / "grid";
  grid.title = "maps & <marks>";
  grid.column_titles = {"left"};
  grid.cells = {{write_halves(dir / "map.npy", 8, 8)}};
  viz::FigureBatch batch({true, true, viz::Colormap::Jet});
  batch.add(lines);
  batch.add(grid);
  batch.render(dir / "work");
  EXPECT_TRUE(fs::exists(dir / "one.png"));
  EXPECT_TRUE(fs::exists(dir / "grid.png"));
  const auto text_of = [](const fs::path& file) {
    std::ifstream in(file);
    return std::string{std::istreambuf_iterator<char>(in), {}};
  };
  EXPECT_NE(text_of(dir / "one.svg").find("<svg"), std::string::npos);
  // The grid's words are text (escaped), its map an image.
  const auto grid_svg = text_of(dir / "grid.svg");
  EXPECT_NE(grid_svg.find("<svg"), std::string::npos);
  EXPECT_NE(grid_svg.find(">maps &amp; &lt;marks&gt;</text>"), std::string::npos);
  EXPECT_NE(grid_svg.find(">left</text>"), std::string::npos);
  EXPECT_NE(grid_svg.find("<image "), std::string::npos);
}

// What a real analysis can hand the script: a map of NaN (no face in a group), a constant map,
// values of 1e-9 and 1e7, a panel without data or with only NaN, and names with spaces,
// non-ASCII letters and markup. Each figure is drawn, and its SVG keeps the markup as text.
TEST(Figures, OddValuesAndNamesAreDrawn) {
  const TempDir dir;
  const auto npy = [&](const std::string& name, std::vector<float> values) {
    io::write_npy(dir / name, {2, 2}, values.data());
    return dir / name;
  };
  const float nan = std::nanf("");
  viz::HeatmapGrid grid;
  grid.file = dir / "grid \u00fc <&>";
  grid.title = "t\u00eftle <&> \"quoted\"";
  grid.column_titles = {"", "constant", "tiny"};
  grid.cells = {{npy("nan.npy", {nan, nan, nan, nan}), npy("constant.npy", {0.3F, 0.3F, 0.3F, 0.3F}),
                 npy("tiny.npy", {1e-9F, 2e-9F, 3e-9F, 4e-9F})}};
  grid.outlines = {{dir / "nan.npy", dir / "constant.npy", ""}};
  grid.shared_scale = false;
  viz::LinePanels lines;
  lines.file = dir / "lines \u00fc";
  lines.title = "<&>";
  lines.panels.push_back({"empty", "x", "y", {}});
  lines.panels.push_back({"nan", "x", "y", {{"a", {std::nan(""), std::nan("")}, {std::nan(""), 1.0}, {}, {}}}});
  lines.panels.push_back({"large", "x", "y", {{"b <&>", {0.0, 1e6}, {1e7, 3e7}, {0.0, 1e7}, {2e7, 4e7}, "o"}}});
  viz::FigureBatch batch({true, true, viz::Colormap::Turbo});
  batch.add(grid);
  batch.add(lines);
  batch.render(dir / "work");
  for (const char* name : {"grid \u00fc <&>", "lines \u00fc"}) {
    const cv::Mat png = cv::imread((dir / (std::string(name) + ".png")).string(), cv::IMREAD_COLOR);
    EXPECT_FALSE(png.empty()) << name;
  }
  std::ifstream svg(dir / "grid \u00fc <&>.svg");
  const std::string text{std::istreambuf_iterator<char>(svg), {}};
  EXPECT_NE(text.find("t\u00eftle &lt;&amp;&gt; \"quoted\""), std::string::npos);
  EXPECT_EQ(read_json(dir / "grid \u00fc <&>.axes.json")["cells"].size(), 3U);
}

// The job names its files relative to its own folder: an output folder whose name is not UTF-8
// (JSON text cannot hold it) still gets its figures, under their own names, while a file name
// below it that is not UTF-8 is an error naming it, never a figure drawn under a mangled name.
TEST(Figures, AFolderWhoseNameIsNotUtf8GetsItsFigures) {
  const TempDir root;
  const fs::path dir = root / "odd\xff folder";
  fs::create_directories(dir);
  viz::HeatmapGrid grid;
  grid.file = dir / "grid";
  grid.title = "odd folder";
  grid.cells = {{write_halves(dir / "a.npy", 8, 8)}};
  viz::FigureBatch batch;
  batch.add(grid);
  batch.render(dir / "work");
  EXPECT_FALSE(cv::imread((dir / "grid.png").string()).empty());
  const auto job = read_json(dir / "work" / "figures.json");
  EXPECT_EQ(job["figures"][0]["file"], "../grid");
  EXPECT_EQ(job["figures"][0]["cells"][0][0], "../a.npy");
  EXPECT_EQ(read_json(dir / "grid.axes.json")["cells"][0]["npy"], "a.npy");

  viz::HeatmapGrid odd = grid;
  odd.file = dir / "grid \xfe";
  viz::FigureBatch refused;
  refused.add(odd);
  try {
    refused.render(dir / "work");
    ADD_FAILURE() << "a file name that is not UTF-8 was drawn";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("must be UTF-8"), std::string::npos) << e.what();
  }
}

// Python missing, or the script failing: an error that says which and where its message is,
// never a crash or figures silently absent.
TEST(Figures, APythonThatIsMissingOrFailsIsAClearError) {
  const TempDir dir;
  viz::HeatmapGrid grid;
  grid.file = dir / "grid";
  grid.cells = {{write_halves(dir / "a.npy", 8, 8)}};
  viz::FigureBatch batch;
  batch.add(grid);
  const auto error_of = [&](const std::string& python) -> std::pair<std::optional<ErrorCode>, std::string> {
    std::pair<std::optional<ErrorCode>, std::string> error{std::nullopt, "no error"};
    setenv("AMVA_PYTHON", python.c_str(), 1);
    try {
      batch.render(dir / "work");
    } catch (const Error& e) {
      error = {e.code(), e.what()};
    }
    unsetenv("AMVA_PYTHON");
    return error;
  };
  const auto [missing_code, missing] = error_of((dir / "no-such-python").string());
  EXPECT_EQ(missing_code, ErrorCode::NotFound) << missing;
  EXPECT_NE(missing.find("cannot run"), std::string::npos) << missing;
  const fs::path failing = dir / "failing-python";
  {
    std::ofstream script(failing);
    script << "#!/bin/sh\necho 'Traceback (most recent call last):'\necho 'ValueError: a broken map' >&2\nexit 3\n";
  }
  fs::permissions(failing, fs::perms::owner_all);
  const auto [failed_code, failed] = error_of(failing.string());
  EXPECT_EQ(failed_code, ErrorCode::Io) << failed;
  EXPECT_NE(failed.find("drawing figures failed"), std::string::npos) << failed;
  EXPECT_NE(failed.find("ValueError: a broken map"), std::string::npos) << failed;
  EXPECT_FALSE(fs::exists(dir / "grid.png"));
}

// The figure specification is the JSON that FigureBatch writes and plots.py (with the modules
// it imports) reads: every key the writer can write is read by the script, and every key the
// script reads is one the writer writes, at each level (the job, a figure, a panel, a series).
TEST(Figures, ScriptAndWriterShareOneSpecification) {
  const TempDir dir;
  viz::HeatmapGrid grid;
  grid.file = dir / "grid";
  grid.title = "every field";
  grid.row_titles = {"r"};
  grid.column_titles = {"a", "b"};
  grid.cells = {{write_halves(dir / "a.npy", 8, 8), write_halves(dir / "b.npy", 8, 8)}};
  grid.colorbar_label = "value";
  grid.box = std::array<double, 4>{1, 1, 6, 6};
  grid.column_scale = {0, 1};
  grid.scale_labels = {"first", "second"};
  grid.outlines = {{dir / "a.npy", ""}};
  grid.cell_titles = {{"cell a", "cell b"}};
  grid.diverging = true;
  viz::LinePanels lines;
  lines.file = dir / "lines";
  lines.title = "every field";
  viz::Panel panel{"p", "x", "y", {}};
  panel.series.push_back({"with band", {0.0, 1.0}, {1.0, 2.0}, {0.5, 1.5}, {1.5, 2.5}, "o", true, false});
  panel.series.push_back({"band", {0.0, 1.0}, {1.0, 2.0}, {0.5, 1.5}, {1.5, 2.5}, "-", false, true});
  panel.xmax = 1.0;
  lines.panels.push_back(panel);
  viz::FigureBatch batch;
  batch.add(grid);
  batch.add(lines);
  batch.render(dir / "work");

  std::map<std::string, std::set<std::string>> written;  // level -> keys
  const auto job = read_json(dir / "work" / "figures.json");
  for (const auto& [key, v] : job.items()) written["job"].insert(key);
  for (const auto& figure : job["figures"]) {
    for (const auto& [key, v] : figure.items()) written["spec"].insert(key);
    for (const auto& p : figure.value("panels", nlohmann::json::array())) {
      for (const auto& [key, v] : p.items()) written["panel"].insert(key);
      for (const auto& series : p["series"]) {
        for (const auto& [key, v] : series.items()) written["s"].insert(key);
      }
    }
  }
  // The script and the modules beside it (one per figure kind, the canvas).
  std::string text;
  for (const auto& entry : fs::directory_iterator(viz::plot_script().parent_path())) {
    if (entry.path().extension() != ".py") continue;
    std::ifstream script(entry.path());
    ASSERT_TRUE(script) << entry.path();
    text += std::string{std::istreambuf_iterator<char>(script), {}};
  }
  ASSERT_NE(text.find("def main"), std::string::npos) << viz::plot_script();
  std::map<std::string, std::set<std::string>> read;
  const std::regex access(R"re(\b(job|spec|panel|s)(?:\["(\w+)"\]|\.get\("(\w+)"|\.value\("(\w+)"))re");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), access); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    read[m[1].str()].insert(m[2].matched ? m[2].str() : m[3].str());
  }
  const std::regex membership(R"re("(\w+)" in (s|spec|panel)\b)re");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), membership); it != std::sregex_iterator(); ++it) {
    read[(*it)[2].str()].insert((*it)[1].str());
  }
  for (const char* level : {"job", "spec", "panel", "s"}) {
    EXPECT_EQ(written[level], read[level]) << "level " << level << " (s: a series)";
  }
}

}  // namespace
}  // namespace amva::test
