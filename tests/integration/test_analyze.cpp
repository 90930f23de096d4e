#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "amva/io/csv.hpp"
#include "amva/io/npy.hpp"
#include "support.hpp"
#include "synthetic_store.hpp"

using namespace amva;

namespace {
nlohmann::json read_json(const test::fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}
}  // namespace

// The synthetic maps vary outside the centre in proportion to (1 - quality): the analysis must
// find the seed paper's effect for the true quality (m0) with an interval that excludes zero.
TEST(Analyze, FindsTheBuiltInEffectOnASyntheticStore) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store", {.faces = 400, .failed = 3, .methods = 3});
  const auto [rc, out] = test::run(fmt::format("{} analyze --store {} --out {} --bootstrap 300", test::cli().string(),
                                               (dir / "store").string(), (dir / "out").string()));
  ASSERT_EQ(rc, 0) << out;
  const auto s = read_json(dir / "out" / "summary.json");
  EXPECT_EQ(s["faces"], 400);
  EXPECT_EQ(s["records"], 403);
  EXPECT_EQ(s["settings"]["normalization"], "minmax");
  EXPECT_EQ(s["settings"]["group_rule"], "top:10");
  for (const char* m : {"m0", "m1", "m2"}) {
    const auto& method = s["methods"][m];
    for (const char* g : {"low", "high"}) {
      const auto& grp = method["groups"][g];
      EXPECT_EQ(grp["count"], 40) << m << " " << g;
      for (const char* side : {"inside", "outside"}) {
        EXPECT_TRUE(grp["region"][side]["mean_am"].is_number());
        EXPECT_TRUE(grp["region"][side]["mean_amv"].is_number());
        EXPECT_EQ(grp["region"][side]["mean_amv_ci"].size(), 2u);
      }
      EXPECT_TRUE(grp["region"]["ratio_amv"].is_number());
    }
  }
  const auto& c = s["methods"]["m0"]["comparison"];
  EXPECT_EQ(c["finding"], "reproduced") << c.dump(2);
  EXPECT_GT(c["outside_amv_low_minus_high_ci"][0].get<double>(), 0.0);
  EXPECT_GT(s["methods"]["m0"]["groups"]["low"]["region"]["outside"]["mean_amv"].get<double>(),
            s["methods"]["m0"]["groups"]["high"]["region"]["outside"]["mean_amv"].get<double>());
  EXPECT_GT(c["distances"]["amv"]["wasserstein1"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(s["agreement"]["spearman"]["m0"]["m0"].get<double>(), 1.0);
  EXPECT_LT(s["agreement"]["spearman"]["m0"]["m2"].get<double>(), 1.0);
  EXPECT_GT(s["agreement"]["spearman"]["m0"]["m2"].get<double>(), 0.5);

  for (const char* f :
       {"m0/mam_high.npy", "m0/amv_low.npy", "m0/median_low.npy", "m0/mad_high.npy",
        "m0/std_sq_dev_lower_median_low.npy", "m0/d_amv.npy", "m0/d_mam.npy", "m0/d_amv_symmetric.npy"}) {
    const auto a = io::read_npy(dir / "out" / f);
    EXPECT_EQ(a.shape, (std::vector<std::int64_t>{112, 112})) << f;
  }
  for (const char* f : {"regions.csv", "agreement.csv", "groups.csv", "m0/densities.csv", "m0/profiles.csv",
                        "reference_m0/reference.json", "reference_m0/deviations.csv", "grid.png", "grid.svg",
                        "m0/intra.png", "m0/density.png", "m0/profiles.png"}) {
    EXPECT_TRUE(test::fs::exists(dir / "out" / f)) << f;
  }
  const auto regions = io::read_csv(dir / "out" / "regions.csv");
  EXPECT_EQ(regions.rows.size(), 6u);  // 3 methods x 2 groups
  const auto groups = io::read_csv(dir / "out" / "groups.csv");
  EXPECT_EQ(groups.rows.size(), 3u * 80u);
  const auto ref = read_json(dir / "out" / "reference_m0" / "reference.json");
  EXPECT_EQ(ref["cam"]["method"], "gradcam");
  EXPECT_EQ(ref["normalization"], "minmax");
  EXPECT_EQ(ref["count"], 40);
  // Deviation from the high group grows as quality falls.
  const auto dev = io::read_csv(dir / "out" / "reference_m0" / "deviations.csv");
  EXPECT_EQ(dev.rows.size(), 400u);
  double low = 0, high = 0;
  for (const auto& r : dev.rows)
    (r[3] == "low" ? low : r[3] == "high" ? high : low) += r[3].empty() ? 0 : std::stod(r[4]);
  EXPECT_GT(low, high);
}

TEST(Analyze, ExternalScoresQuantilesAndNoNormalisation) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store", {.faces = 200, .failed = 0, .methods = 1});
  // The true quality as an external, lower-is-better score in CR-FIQA's format.
  const auto q = io::read_csv(dir / "store" / "quality.csv");
  {
    std::ofstream f(dir / "badness.txt");
    for (const auto& r : q.rows) f << "/somewhere/" << r[1] << " " << -std::stod(r[2]) << "\n";
  }
  const auto [rc, out] = test::run(fmt::format(
      "{} analyze --store {} --out {} --scores {} --lower-is-better badness --group quantiles:4 --normalize none "
      "--bootstrap 100 --no-figures",
      test::cli().string(), (dir / "store").string(), (dir / "out").string(), (dir / "badness.txt").string()));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("200 by path"), std::string::npos) << out;
  const auto s = read_json(dir / "out" / "summary.json");
  ASSERT_TRUE(s["methods"].contains("badness"));
  EXPECT_FALSE(s["methods"].contains("m0"));
  const auto& m = s["methods"]["badness"];
  EXPECT_TRUE(m["negated"].get<bool>());
  EXPECT_EQ(m["group_order"], nlohmann::json({"q1", "q2", "q3", "q4"}));
  EXPECT_EQ(m["groups"]["q1"]["count"], 50);
  EXPECT_EQ(m["comparison"]["finding"], "reproduced");
  EXPECT_EQ(s["settings"]["normalization"], "none");
  EXPECT_FALSE(test::fs::exists(dir / "out" / "grid.png"));
}

TEST(Analyze, BadInputGivesClearErrors) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store", {.faces = 50, .failed = 0, .methods = 1});
  const auto cli = test::cli().string();
  const auto store = (dir / "store").string();
  const auto out = (dir / "out").string();
  auto [rc, text] = test::run(fmt::format("{} analyze --store {} --out {} --cam scorecam", cli, store, out));
  EXPECT_EQ(rc, 3) << text;
  EXPECT_NE(text.find("no scorecam maps"), std::string::npos) << text;
  std::tie(rc, text) = test::run(fmt::format("{} analyze --store {} --out {} --methods serfiq", cli, store, out));
  EXPECT_EQ(rc, 3) << text;
  EXPECT_NE(text.find("amva quality --store"), std::string::npos) << text;
  std::tie(rc, text) = test::run(fmt::format("{} analyze --store {} --out {} --group top:70", cli, store, out));
  EXPECT_EQ(rc, 2) << text;
  {
    std::ofstream f(dir / "constant.txt");
    const auto q = io::read_csv(dir / "store" / "quality.csv");
    for (const auto& r : q.rows) f << r[1] << " 1\n";
  }
  std::tie(rc, text) = test::run(
      fmt::format("{} analyze --store {} --out {} --scores {}", cli, store, out, (dir / "constant.txt").string()));
  EXPECT_EQ(rc, 2) << text;
  EXPECT_NE(text.find("constant"), std::string::npos) << text;
  std::tie(rc, text) = test::run(fmt::format("{} analyze --store {} --out {}", cli, (dir / "nothing").string(), out));
  EXPECT_EQ(rc, 3) << text;
}
