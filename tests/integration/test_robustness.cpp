// The robustness grid (issue 29): every method's outside verdict recomputed over the analyst's
// choices. On a synthetic store whose effect exists in one CAM method's maps only, the line of
// each method names the CAM method as the choice the verdict turns on, and that method as
// where it holds; the specification of the analysis' own settings reproduces its numbers; the
// joint test tells a real effect from random scores.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>

#include "amva/io/csv.hpp"
#include "amva/io/npy.hpp"
#include "support.hpp"
#include "synthetic_store.hpp"

using namespace amva;
namespace fs = std::filesystem;

namespace {
// Maps of a second CAM method, "flat": the synthetic maps' layout, but outside the centre the
// same spread for every quality, so that no group varies more than another.
void write_flat_maps(const fs::path& store, std::size_t faces) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uniform(0.f, 1.f);
  std::normal_distribution<float> noise(0.f, 1.f);
  std::vector<float> maps(faces * 49);
  for (std::size_t r = 0; r < faces; ++r) {
    for (int y = 0; y < 7; ++y) {
      for (int x = 0; x < 7; ++x) {
        const bool centre = y >= 2 && y <= 4 && x >= 2 && x <= 4;
        maps[r * 49 + static_cast<std::size_t>(y * 7 + x)] =
            centre ? 0.8f + 0.05f * noise(rng) : 0.1f + 0.45f * uniform(rng);
      }
    }
  }
  io::write_npy(store / "maps_flat.npy", {static_cast<std::int64_t>(faces), 7, 7}, maps.data());
}
}  // namespace

TEST(Robustness, TheVerdictTurnsOnTheCamMethodThatHoldsTheEffect) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store", {.faces = 400, .failed = 0, .methods = 2, .identities = 100});
  write_flat_maps(dir / "store", 400);
  const auto [rc, out] = test::run(fmt::format(
      "{} analyze --store {} --out {} --cam gradcam --bootstrap 200 --permutations 99 --null-controls 0 --no-figures "
      "--robustness --robustness-normalizations minmax,none --robustness-groups 10,25 --robustness-margins 0,0.25 "
      "--robustness-null-draws 0",  // the joint test has a test of its own
      test::cli().string(), (dir / "store").string(), (dir / "out").string()));
  ASSERT_EQ(rc, 0) << out;
  const auto s = test::read_json(dir / "out" / "summary.json");
  const auto& r = s["robustness"];
  EXPECT_EQ(r["grid"]["cams"], nlohmann::json({"flat", "gradcam"}));
  EXPECT_EQ(r["specifications_per_method"], 2 * 2 * 2 * 2);
  for (const char* method : {"m0", "m1"}) {
    const auto& m = r["methods"][method];
    ASSERT_TRUE(m.contains("turns_on")) << method << " " << m.dump();
    EXPECT_EQ(m["turns_on"]["dimension"], "cam") << method;
    std::map<std::string, std::pair<int, int>> by_cam;
    for (const auto& v : m["turns_on"]["values"]) by_cam[v["value"]] = {v["reproduced"], v["specifications"]};
    EXPECT_EQ(by_cam["gradcam"].first, by_cam["gradcam"].second) << method << ": reproduced in every gradcam one";
    EXPECT_EQ(by_cam["flat"].first, 0) << method;
    const std::string sentence = m["sentence"];
    EXPECT_NE(sentence.find("the verdict turns on the CAM method: reproduced with gradcam (8 of 8)"), std::string::npos)
        << sentence;
    EXPECT_NE(sentence.find("not with flat (0 of 8)"), std::string::npos) << sentence;
    EXPECT_NE(out.find(sentence), std::string::npos) << "the terminal's line\n" << out;
  }
  // robustness.csv: one row per specification; the one with the analysis' own settings
  // (gradcam, minmax, top:10, a quarter of the inter-eye distance) has its numbers.
  const auto csv = io::read_csv(dir / "out" / "robustness.csv", ',');
  ASSERT_EQ(csv.rows.size(), 2u * 16u);
  const auto col = [&](const std::string& name) { return csv.column(name); };
  int own = 0;
  for (const auto& row : csv.rows) {
    if (row[col("cam")] != "gradcam" || row[col("normalize")] != "minmax" || row[col("group")] != "top:10" ||
        row[col("margin")] != "0.25") {
      continue;
    }
    ++own;
    const auto& c = s["methods"][row[col("method")]]["comparison"];
    EXPECT_EQ(std::stod(row[col("effect")]), c["log_ratio_outside_amv"].get<double>()) << row[col("method")];
    EXPECT_EQ(std::stod(row[col("lo")]), c["log_ratio_outside_amv_ci"][0].get<double>());
    EXPECT_EQ(std::stod(row[col("hi")]), c["log_ratio_outside_amv_ci"][1].get<double>());
    EXPECT_EQ(std::stod(row[col("p")]), c["permutation"]["p_outside"].get<double>());
    EXPECT_EQ(std::stod(row[col("p_family")]), c["permutation"]["p_outside_family"].get<double>());
    EXPECT_EQ(row[col("verdict")], c["finding"].get<std::string>());
  }
  EXPECT_EQ(own, 2);
}

TEST(Robustness, AGridCamTheStoreLacksIsNamed) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store", {.faces = 100, .failed = 0, .methods = 1});
  const auto [rc, out] = test::run(fmt::format(
      "{} analyze --store {} --out {} --bootstrap 0 --permutations 19 --null-controls 0 --no-figures --robustness "
      "--robustness-cams gradcam,scorecam",
      test::cli().string(), (dir / "store").string(), (dir / "out").string()));
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("no scorecam maps for the robustness grid (it has: gradcam)"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "out" / "summary.json"));
}

// The joint test: a method whose groups differ reaches its thresholds in more specifications
// than any draw of null scores; a column of random scores does not stand out from them.
TEST(Robustness, TheJointTestSeparatesARealEffectFromRandomScores) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store", {.faces = 400, .failed = 0, .methods = 1, .identities = 100});
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> uniform(0, 1);
  std::string random_scores;
  for (int r = 0; r < 400; ++r) random_scores += fmt::format("p{:03d}/img_{:07d}.jpg {}\n", r % 100, r, uniform(rng));
  std::ofstream(dir / "random.txt") << random_scores;
  const auto [rc, out] = test::run(fmt::format(
      "{} analyze --store {} --out {} --methods m0 --scores random={} --bootstrap 100 --permutations 99 "
      "--null-controls 0 --no-figures --robustness --robustness-normalizations minmax,minmax-native "
      "--robustness-groups 10,25 --robustness-margins 0,0.5",
      test::cli().string(), (dir / "store").string(), (dir / "out").string(), (dir / "random.txt").string()));
  ASSERT_EQ(rc, 0) << out;
  const auto r = test::read_json(dir / "out" / "summary.json")["robustness"];
  const auto& real = r["methods"]["m0"]["joint_test"];
  const auto& noise = r["methods"]["random"]["joint_test"];
  EXPECT_EQ(real["draws"], 500);
  EXPECT_EQ(real["observed"], 8) << r.dump(1);
  EXPECT_LT(real["null_95"].get<double>(), 8.0);
  EXPECT_LE(real["p"].get<double>(), 0.01) << real.dump();
  EXPECT_GT(noise["p"].get<double>(), 0.05) << noise.dump();
  EXPECT_LE(noise["observed"].get<int>(), 2) << noise.dump();
  EXPECT_NE(out.find("joint test: 8 specifications beyond their permutation threshold"), std::string::npos) << out;
}
