// The command line end to end: amva cam, amva quality, and the demo on the default data.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <regex>

#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/folder_lock.hpp"
#include "amva/io/npy.hpp"
#include "amva/io/staged_output.hpp"
#include "amva/store/store.hpp"
#include "folder_snapshot.hpp"
#include "support.hpp"

using namespace amva;
namespace fs = std::filesystem;

using test::amva_cmd;

// Into a log (no terminal): plain progress lines, and the stage's last line when it ends;
// --quiet leaves only the results.
TEST(Cli, ProgressLinesInALogAndQuietSilencesThem) {
  test::TempDir dir;
  // test::run reads amva's output through a pipe (no terminal) and returns amva's own exit
  // status: nothing may stand between them (a `| cat` would return cat's).
  const auto command = [&](const std::string& out, const std::string& extra) {
    return fmt::format("AMVA_PROGRESS_SECONDS=0.001 {}",
                       amva_cmd(fmt::format("extract --images {} --out {} --quality "
                                            "sharpness --batch 1{}",
                                            test::sources_dir().string(), (dir / out).string(), extra)));
  };
  auto [rc, out] = test::run(command("a", ""));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(extract: \d+/8 \(\d+ %\), [0-9.]+/s, ETA \d+ s)"))) << out;
  EXPECT_NE(out.find("extract: 8/8 done in"), std::string::npos) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << "no bar into a log";
  std::tie(rc, out) = test::run(command("b", " --quiet"));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out.find("extract: "), std::string::npos) << out;
  EXPECT_NE(out.find("store "), std::string::npos) << out;
}

TEST(Cli, CamWritesMapsAndOverlaysPerImage) {
  test::TempDir dir;
  const auto [rc, out] = test::run(amva_cmd(fmt::format(
      "cam --image {} --image {} --out {} --cam gradcam,eigencam", (test::sources_dir() / "grace_hopper.jpg").string(),
      (test::sources_dir() / "astronaut.png").string(), (dir / "out").string())));
  ASSERT_EQ(rc, 0) << out;
  for (const char* stem : {"grace_hopper", "astronaut"}) {
    for (const char* file : {"aligned.png", "gradcam.npy", "gradcam.png", "eigencam.npy", "eigencam.png"}) {
      EXPECT_TRUE(fs::exists(dir / "out" / stem / file)) << stem << "/" << file;
    }
    EXPECT_EQ(io::read_npy(dir / "out" / stem / "gradcam.npy").shape, (std::vector<std::int64_t>{7, 7}));
  }
  EXPECT_FALSE(fs::exists(dir / "out" / ".store")) << "the scratch store is removed";
}

// The demo runs the whole study (amva run) on the default data, once for all the tests below
// (each runs as its own process: the study is a shared fixture of the build tree). Its exit
// code and output are kept beside it for every test to check. It runs from the fixture's folder
// with a relative --out, as scripts/demo.sh and a user do (every stage's hand-over then crosses
// a relative path: amva run once failed exactly there).
class Demo : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = test::shared_fixture("demo", [](const fs::path& dir) {
      const auto demo = [&](const std::string& env) {
        return test::run(fmt::format("cd '{}' && {} AMVA_CACHE={} {} demo --levels 1 --out demo --models {}",
                                     dir.string(), env, test::jacobian_cache().string(), test::cli().string(),
                                     test::models_dir().string()));
      };
      // The demo's cell of the fault matrix (test_fault_matrix.cpp), where the demo runs anyway:
      // killed while its degraded set is moved into place, then run again as a user would.
      const auto [killed_rc, killed_out] = demo("AMVA_FAULT_PUBLISH_STEP=3 AMVA_FAULT_KIND=kill");
      std::ofstream(dir / "killed_rc.txt") << killed_rc;
      const auto [rc, out] = demo("");
      std::ofstream(dir / "rc.txt") << rc;
      std::ofstream(dir / "out.txt") << out;
    });
    rc_ = std::stoi(io::read_text(dir_ / "rc.txt"));
    out_ = io::read_text(dir_ / "out.txt");
  }
  static fs::path demo() { return dir_ / "demo"; }
  static inline fs::path dir_;
  static inline int rc_ = -1;
  static inline std::string out_;
};

// A demo killed while publishing its data completes on the next run (the other tests of the
// fixture check what it made); a second demo into the folder of a running one is refused.
TEST_F(Demo, CompletesAfterAKillAndHasOneWriter) {
  EXPECT_EQ(std::stoi(io::read_text(dir_ / "killed_rc.txt")), 137) << "the injected kill did not fire";
  ASSERT_EQ(rc_, 0) << out_;
  EXPECT_FALSE(fs::exists(demo() / "data" / "set" / io::kStagingName));
  EXPECT_EQ(io::read_csv(demo() / "data" / "set" / "manifest.csv", ',').rows.size(), 23u * 13u);
  test::TempDir dir;
  fs::create_directories(dir / "demo");
  const io::FolderLock running(dir / "demo", "demo folder");
  const auto [rc, out] = test::run(fmt::format("cd '{}' && {} demo --levels 1 --out demo --models {}",
                                               dir.path().string(), test::cli().string(), test::models_dir().string()));
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find(fmt::format("in use by process {}", ::getpid())), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "demo" / "data"));
}

// amva run computes its EDC beside its analysis (both read only the store). A full disk, a
// read-only file system or a kill in either while the two run together is reported by the one
// that met it, the other's outputs are kept, and the study run again equals an uninterrupted
// one. On the demo's data set, into a folder with an odd name, the study's store made once:
// each run resumes it and does only the stages after extraction.
TEST_F(Demo, FaultsWhileTheAnalysisAndTheEdcRunTogetherAreReported) {
  ASSERT_EQ(rc_, 0) << out_;
  test::TempDir work;
  const std::string folder = "study \xff";  // a space and a byte that is not UTF-8 (the figure job is JSON)
  const fs::path study_dir = work / folder;
  fs::create_directory_symlink(fs::absolute(demo() / "data" / "set"), work / "images");
  const auto study = [&](const std::string& env) {
    return test::run(fmt::format(
        "cd '{}' && {} AMVA_CACHE={} {} run --images images --out '{}' --labels images/labels.txt --explain 0 "
        "--no-robustness --null-controls 0 --permutations 19 --models {} --quiet",
        work.path().string(), env, test::jacobian_cache().string(), test::cli().string(), folder,
        test::models_dir().string()));
  };
  auto [rc, out] = study("");
  ASSERT_EQ(rc, 0) << out;
  ASSERT_TRUE(fs::exists(study_dir / "edc" / "edc.json")) << out;
  fs::rename(study_dir / "store", work / "store");
  const auto reset = [&] {
    fs::remove_all(study_dir);
    fs::create_directory(study_dir);
    fs::copy(work / "store", study_dir / "store", fs::copy_options::recursive);
  };
  reset();
  std::tie(rc, out) = study("");
  ASSERT_EQ(rc, 0) << out;
  const auto uninterrupted = test::contents(study_dir);
  for (const char* figure : {"analysis/grid.png", "analysis/serfiq/intra.png", "edc/edc.png"}) {
    EXPECT_TRUE(fs::exists(study_dir / figure)) << figure << " was not drawn in a folder whose name is not UTF-8";
  }
  // A step counted only on one stage's files (AMVA_FAULT_WHERE), so that each cell reaches the
  // stage it names however the two interleave.
  const std::vector<std::tuple<std::string, std::string, int, std::string>> faults = {
      {"enospc", "AMVA_FAULT_WRITE_STEP", 2, "edc"},        {"erofs", "AMVA_FAULT_WRITE_STEP", 20, "analysis"},
      {"enospc", "AMVA_FAULT_PUBLISH_STEP", 3, "analysis"}, {"enospc", "AMVA_FAULT_PUBLISH_STEP", 3, "edc"},
      {"kill", "AMVA_FAULT_WRITE_STEP", 2, "edc"},
  };
  for (const auto& [kind, variable, step, stage] : faults) {
    const std::string cell = fmt::format("{} at {}={} in {}", kind, variable, step, stage);
    reset();
    std::tie(rc, out) =
        study(fmt::format("{}={} AMVA_FAULT_KIND={} AMVA_FAULT_WHERE=/{}/", variable, step, kind, stage));
    if (kind == "kill") {
      EXPECT_EQ(rc, 137) << cell << "\n" << out;
    } else {
      EXPECT_EQ(rc, 4) << cell << "\n" << out;
      EXPECT_NE(out.find(kind == "erofs" ? "Read-only file system" : "No space left on device"), std::string::npos)
          << cell << "\n"
          << out;
      EXPECT_NE(out.find("/" + stage + "/"), std::string::npos) << cell << "\n" << out;
      EXPECT_EQ(out.find("internal error"), std::string::npos) << cell << "\n" << out;
      // The stage beside the one that failed finished and published its folder.
      const std::string other = stage == "edc" ? "analysis/summary.json" : "edc/edc.json";
      EXPECT_TRUE(fs::exists(study_dir / other)) << cell << ": " << other << " was lost\n" << out;
    }
    std::tie(rc, out) = study("");
    ASSERT_EQ(rc, 0) << cell << ", then run again\n" << out;
    const auto after = test::contents(study_dir);
    EXPECT_TRUE(after == uninterrupted) << cell << ", then run again:\n" << test::differences(after, uninterrupted);
  }
}

TEST_F(Demo, RunsTheWholeStudyOnTheDefaultData) {
  ASSERT_EQ(rc_, 0) << out_;
  EXPECT_NE(out_.find("23 faces"), std::string::npos) << out_;
  EXPECT_NE(out_.find("report: "), std::string::npos) << out_;
  const auto store = store::read_store(demo() / "store");
  EXPECT_EQ(store.table.records.size(), 23u * 13u);
  EXPECT_TRUE(store.table.arrays.count("maps_gradcam"));
  const auto quality = io::read_csv(demo() / "store" / "quality.csv");
  for (const char* m : {"serfiq", "brisque", "magnitude", "sharpness"}) EXPECT_NO_THROW((void)quality.column(m)) << m;
  EXPECT_EQ(quality.rows.size(), store.table.records.size());
  // The analysis of real maps of real faces: every method grouped, numbers and figures there.
  std::ifstream in(demo() / "analysis" / "summary.json");
  const auto summary = nlohmann::json::parse(in);
  EXPECT_EQ(summary["settings"]["cam"]["method"], "gradcam");
  EXPECT_EQ(summary["methods"].size(), 4u);
  const auto& serfiq = summary["methods"]["serfiq"];
  const auto faces = summary["faces"].get<double>();
  EXPECT_EQ(serfiq["groups"]["low"]["count"].get<double>(), std::round(0.1 * faces));
  for (const char* g : {"low", "high"}) {
    const auto& r = serfiq["groups"][g]["region"];
    EXPECT_GT(r["inside"]["mean_am"].get<double>(), 0.0);
    EXPECT_LT(r["inside"]["mean_am"].get<double>(), 1.0);
    EXPECT_GT(r["outside"]["mean_amv"].get<double>(), 0.0);
  }
  EXPECT_TRUE(serfiq["comparison"].contains("finding"));
  EXPECT_TRUE(fs::exists(demo() / "analysis" / "grid.png"));
  // The robustness grid, on by default in a study: the store's one CAM method x 3 normalisations
  // x 4 group sizes x 3 margins, a line per method on the terminal.
  ASSERT_TRUE(summary.contains("robustness"));
  EXPECT_EQ(summary["robustness"]["specifications_per_method"], 36);
  EXPECT_EQ(io::read_csv(demo() / "analysis" / "robustness.csv", ',').rows.size(), 4u * 36u);
  EXPECT_NE(out_.find("robustness: serfiq: reproduced in "), std::string::npos) << out_;
  // EDC from the identity labels, explanations, the report and its figures.
  std::ifstream edc_in(demo() / "edc" / "edc.json");
  const auto edc = nlohmann::json::parse(edc_in);
  EXPECT_GT(edc["comparisons"]["mated"].get<int>(), 1000);
  EXPECT_TRUE(edc["methods"].contains("random"));
  EXPECT_TRUE(fs::exists(demo() / "explain" / "ranking.csv"));
  EXPECT_GE(io::read_csv(demo() / "explain" / "ranking.csv").rows.size(), 6u);
  // Explained with occlusion maps, against a reference of the first method's two groups only.
  EXPECT_TRUE(fs::exists(demo() / "explain_reference" / "analysis" / "reference_serfiq" / "reference.json"));
  const auto mapped_again = store::read_store(demo() / "explain_reference" / "store");
  EXPECT_LT(mapped_again.table.records.size(), store.table.records.size() / 3);
  int explained = 0;
  for (const auto& entry : fs::directory_iterator(demo() / "explain")) {
    if (!fs::exists(entry.path() / "explain.json")) continue;
    const auto j = nlohmann::json::parse(io::read_text(entry.path() / "explain.json"));
    EXPECT_EQ(j["map"]["cam"], "occlusion") << entry.path();
    EXPECT_TRUE(fs::exists(entry.path() / "loss.npy")) << entry.path();
    ++explained;
  }
  EXPECT_GE(explained, 6);
  EXPECT_TRUE(fs::exists(demo() / "report.html"));
  EXPECT_TRUE(fs::exists(demo() / "figures" / "inter_fiqa_grid.png"));
  EXPECT_FALSE(fs::exists(demo() / "figures" / "inter_fiqa_grid.svg")) << "SVG is drawn on request (--svg) only";
  EXPECT_TRUE(fs::exists(demo() / "figures" / "edc.png"));

  // The report's Data and Methods sections are tables of rounded numbers, not JSON dumps; each
  // figure links its PNG file, which is there; each method shows example faces.
  // (Here rather than in a test of its own: each Demo test runs the demo in its own process.)
  const auto html = io::read_text(demo() / "report.html");
  const auto start = html.find("<section id=\"methods\">");
  const auto methods = html.substr(start, html.find("</section>", start) - start);
  std::smatch raw;
  EXPECT_FALSE(std::regex_search(methods, raw, std::regex(R"(.{0,80}\.0*[1-9]\d{4,})")))
      << "unrounded numbers in Methods: " << raw.str();
  EXPECT_EQ(methods.find("{&quot;"), std::string::npos) << "JSON in Methods";
  EXPECT_NE(methods.find("<code>bootstrap.confidence</code></th><td class=l>0.95</td>"), std::string::npos);
  const std::regex link(R"re(href="figures/([A-Za-z0-9_]+\.(png|svg))")re");
  int links = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), link); it != std::sregex_iterator(); ++it, ++links) {
    EXPECT_TRUE(fs::exists(demo() / "figures" / (*it)[1].str())) << (*it)[1];
  }
  EXPECT_GT(links, 20);
  for (const char* m : {"serfiq", "brisque", "magnitude", "sharpness"}) {
    const auto thumbnails = demo() / "thumbnails" / fmt::format("thumbnails_{}.png", m);
    ASSERT_TRUE(fs::exists(thumbnails)) << m;
    EXPECT_EQ(cv::imread(thumbnails.string()).rows, 28 + 2 * (112 + 18 + 4)) << m;
    EXPECT_NE(html.find(fmt::format("alt=\"{}_examples\"", m)), std::string::npos) << m;
  }

  // Quantile groups are named q1..qB, not low and high: the report's EDC table shows the FNMR of
  // the lowest and the highest (the report stage stopped with a JSON type error before it read
  // the typed results).
  const auto set = demo() / "data" / "set";
  const test::TempDir scratch;
  const auto quantiles = scratch / "quantiles";
  const auto [rc, out] =
      test::run(amva_cmd(fmt::format("run --images {} --labels {} --out {} --group quantiles:3 "
                                     "--methods sharpness --explain 0 --no-robustness",
                                     set.string(), (set / "labels.txt").string(), quantiles.string())));
  ASSERT_EQ(rc, 0) << out;
  const auto edc_q = nlohmann::json::parse(io::read_text(quantiles / "edc" / "edc.json"));
  const auto& groups = edc_q["methods"]["sharpness"]["groups"];
  const auto row = fmt::format("<td>{:.4f}</td><td>{:.4f}</td></tr>", groups["q1"]["fnmr"].get<double>(),
                               groups["q3"]["fnmr"].get<double>());
  EXPECT_NE(io::read_text(quantiles / "report.html").find(row), std::string::npos) << row;
}

// The demo measures how faithful its maps are (gradcam, and occlusion for the explanations) on
// a few faces: the terminal's lines, faithfulness/ and the report's section, with the
// robustness table showing each CAM method's faithfulness beside its verdicts.
TEST_F(Demo, MeasuresTheFaithfulnessOfItsMaps) {
  ASSERT_EQ(rc_, 0) << out_;
  const auto summary = test::read_json(demo() / "faithfulness" / "faithfulness.json");
  EXPECT_EQ(summary["faces"], 6);
  EXPECT_EQ(summary["cams"], (nlohmann::json{"gradcam", "occlusion"}));
  EXPECT_EQ(summary["bootstrap_unit"], "identity") << "the demo's labels name its people";
  EXPECT_EQ(io::read_csv(demo() / "faithfulness" / "faithfulness.csv", ',').rows.size(), 6u * 4u * 2u);
  EXPECT_NE(out_.find("faithfulness: gradcam: deletion"), std::string::npos) << out_;
  const std::string html = io::read_text(demo() / "report.html");
  EXPECT_NE(html.find("Which maps to believe"), std::string::npos);
  EXPECT_NE(html.find("class=\"faithfulness\""), std::string::npos) << "the curves";
  EXPECT_EQ(html.find("Not measured in this study"), std::string::npos);
  EXPECT_NE(html.find("faithfulness of its maps"), std::string::npos) << "beside the verdicts";
}

// Debian's headless Chromium opens the report from disk: no console or script error, every
// image decoded (the page's own check writes naturalWidth counts into <body>), all sections.
TEST_F(Demo, ReportOpensInHeadlessChromium) {
  ASSERT_EQ(rc_, 0) << out_;
  const auto [found, which] = test::run("command -v chromium");
  if (found != 0) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it for this test)";
  const auto report = fs::absolute(demo() / "report.html").string();
  const test::TempDir scratch;
  const auto browser = [&](const std::string& args, const std::string& profile) {
    fs::create_directories(scratch / profile);
    return test::run(
        fmt::format("timeout 180 chromium --headless --no-sandbox --disable-gpu "
                    "--disable-background-networking --no-first-run --user-data-dir={} "
                    "--enable-logging=stderr --v=0 {} file://{}",
                    (scratch / profile).string(), args, report));
  };
  const auto [rc, dom] = browser("--dump-dom", "profile-dom");
  ASSERT_EQ(rc, 0) << dom;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      dom, m, std::regex(R"re(data-images-total="(\d+)" data-images-loaded="(\d+)" data-errors="(\d+)")re")))
      << dom.substr(0, 2000);
  EXPECT_GT(std::stoi(m[1]), 10);
  EXPECT_EQ(m[1], m[2]) << "images that did not load";
  EXPECT_EQ(m[3], "0") << "script errors";
  EXPECT_EQ(dom.find("CONSOLE"), std::string::npos) << "console messages:\n" << dom.substr(0, 3000);
  for (const char* id : {"summary", "dataset", "inter", "robustness", "intra", "edc", "explanations", "methods"}) {
    EXPECT_NE(dom.find(fmt::format("<section id=\"{}\">", id)), std::string::npos) << id;
  }
  // A specification curve per method, drawn in the page (inline SVG).
  std::size_t curves = 0;
  for (auto at = dom.find("class=\"speccurve\""); at != std::string::npos;
       at = dom.find("class=\"speccurve\"", at + 1)) {
    ++curves;
  }
  EXPECT_EQ(curves, 4u);
  const auto shot = scratch / "report.png";
  const auto [src, sout] =
      browser(fmt::format("--window-size=1280,2400 --screenshot={}", shot.string()), "profile-shot");
  ASSERT_EQ(src, 0) << sout;
  ASSERT_TRUE(fs::exists(shot));
  EXPECT_GT(fs::file_size(shot), 50'000u);
  const cv::Mat png = cv::imread(shot.string());
  EXPECT_EQ(png.cols, 1280);
}

// The report explored as a reader does, through a real driver (playwright-core from the npm
// registry, driving Debian's Chromium): a table sorts both ways, pointing at a map reads the
// map's own value (checked against its .npy), a figure enlarges to its pixel size and closes,
// and nothing is logged to the console.
TEST_F(Demo, ReportIsExplorableInChromium) {
  ASSERT_EQ(rc_, 0) << out_;
  const fs::path source = AMVA_TEST_SOURCE_DIR;
  const fs::path driver = source / ".cache" / "browser" / "node_modules" / "playwright-core";
  if (test::run("command -v node").first != 0 || test::run("command -v chromium").first != 0 || !fs::exists(driver)) {
    // CI sets CI=true and reaches the registry, so there a missing driver is a failed set-up.
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true") {
      FAIL() << "CI=true: node, chromium or playwright-core (.cache/browser) is missing; scripts/setup.sh must install "
                "them";
    }
    GTEST_SKIP() << "node, chromium or playwright-core (.cache/browser) is missing; scripts/setup.sh installs them";
  }
  const auto [rc, out] = test::run(fmt::format("AMVA_PLAYWRIGHT={} timeout 300 node {} {} 2>&1", driver.string(),
                                               (source / "tests" / "browser" / "report_check.js").string(),
                                               fs::absolute(demo() / "report.html").string()));
  ASSERT_EQ(rc, 0) << out;
  const auto r = nlohmann::json::parse(out.substr(out.find('{')));
  EXPECT_TRUE(r["console_errors"].empty()) << r["console_errors"].dump();
  EXPECT_TRUE(r["page_errors"].empty()) << r["page_errors"].dump();
  EXPECT_GT(r["images_total"].get<int>(), 10);
  EXPECT_EQ(r["images_loaded"], r["images_total"]);
  EXPECT_EQ(r["sections"].size(), 9u);
  // Every section has content: text beyond its heading, and, but for the summary of findings
  // (prose), a figure or a table.
  for (const auto& section : r["section_content"]) {
    EXPECT_GT(section["text"].get<int>(), 100) << section.dump();
    if (section["id"] == "summary") continue;
    EXPECT_GT(section["figures"].get<int>() + section["tables"].get<int>(), 0) << section.dump();
  }

  ASSERT_GE(r["sort_index"].get<int>(), 0) << "no sortable column of distinct numbers";
  auto ascending = r["sorted_ascending"].get<std::vector<double>>();
  auto descending = r["sorted_descending"].get<std::vector<double>>();
  auto expected = r["before_sort"].get<std::vector<double>>();
  ASSERT_GE(expected.size(), 2u);
  std::sort(expected.begin(), expected.end());
  ASSERT_EQ(std::adjacent_find(expected.begin(), expected.end()), expected.end()) << "values must differ";
  EXPECT_EQ(ascending, expected) << "sorted by " << r["sort_column"];
  std::reverse(expected.begin(), expected.end());
  EXPECT_EQ(descending, expected);

  // The read-out names the first method's MAM of the high group and gives its value there.
  const auto& hover = r["hover"];
  ASSERT_TRUE(hover["visible"].get<bool>()) << hover.dump();
  const auto summary = nlohmann::json::parse(io::read_text(demo() / "analysis" / "summary.json"));
  const std::string cell = hover["cell"];
  const std::string method = cell.substr(0, cell.find(" / "));
  EXPECT_TRUE(summary["methods"].contains(method)) << cell;
  EXPECT_EQ(cell, method + " / MAM high");
  std::smatch m;
  const std::string readout = hover["readout"];
  ASSERT_TRUE(std::regex_search(readout, m, std::regex(R"(\(x (\d+), y (\d+)\): ([-0-9.e]+))"))) << readout;
  const int x = std::stoi(m[1]), y = std::stoi(m[2]);
  EXPECT_EQ(x, hover["pixel"][0].get<int>());
  EXPECT_EQ(y, hover["pixel"][1].get<int>());
  const auto map = io::read_npy(demo() / "analysis" / method / "mam_high.npy");
  const double truth = map.data[static_cast<std::size_t>(y * 112 + x)];
  EXPECT_NEAR(std::stod(m[3]), truth, 1e-3 * std::max(1.0, std::abs(truth))) << readout;  // 4 significant digits

  const auto& enlarge = r["enlarge"];
  EXPECT_TRUE(enlarge["open"].get<bool>());
  EXPECT_GT(enlarge["natural_width"].get<double>(), 100) << "the enlarged figure decoded";
  EXPECT_NEAR(enlarge["shown_width"].get<double>(), enlarge["natural_width"].get<double>(), 1.0);
  EXPECT_TRUE(enlarge["closed"].get<bool>());
}

// A built-in method that cannot rank the faces (face_size of pre-aligned crops: every crop is
// the whole image) is left out of the study with a warning, and the study still reports
// (issue 34, item 7: it stopped before the report).
TEST(Cli, RunLeavesOutAMethodThatCannotRankTheFaces) {
  test::TempDir dir;
  fs::create_directories(dir / "crops");
  for (const char* f : {"astronaut.png", "grace_hopper.jpg", "sample1.jpg", "sample2.jpg"}) {
    cv::Mat crop;
    cv::resize(cv::imread((test::sources_dir() / f).string()), crop, cv::Size(112, 112), 0, 0, cv::INTER_AREA);
    cv::imwrite((dir / "crops" / (fs::path(f).stem().string() + ".png")).string(), crop);
  }
  const auto [rc, out] = test::run(amva_cmd(
      fmt::format("run --images {} --out {} --aligned --methods face_size,sharpness --group top:25 --explain 0 "
                  "--no-robustness",
                  (dir / "crops").string(), (dir / "study").string())));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("warning: FIQA method 'face_size' left out"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir / "study" / "report.html"));
  const auto summary = test::read_json(dir / "study" / "analysis" / "summary.json");
  EXPECT_TRUE(summary["methods"].contains("sharpness"));
  EXPECT_FALSE(summary["methods"].contains("face_size"));
}
