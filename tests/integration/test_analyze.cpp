#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/npy.hpp"
#include "support.hpp"
#include "synthetic_store.hpp"

using namespace amva;

namespace {
using test::read_json;
}  // namespace

// The synthetic maps vary outside the centre in proportion to (1 - quality): the analysis must
// find the seed paper's effect for the true quality (m0) with an interval that excludes zero.
TEST(Analyze, FindsTheBuiltInEffectOnASyntheticStore) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store", {.faces = 400, .failed = 3, .methods = 3});
  const auto [rc, out] =
      test::run(fmt::format("{} analyze --store {} --out {} --bootstrap 300 --permutations 199 --null-controls 0 --svg",
                            test::cli().string(), (dir / "store").string(), (dir / "out").string()));
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
  // The synthetic maps vary more outside only: the extra variation is specific to outside,
  // and the per-cell tests find it in cells outside the face.
  EXPECT_EQ(c["specificity"], "specific to outside") << c.dump(2);
  EXPECT_GT(c["outside_minus_inside_difference_ci"][0].get<double>(), 0.0);
  EXPECT_EQ(c["variance_test"]["cells_inside"], 9);
  EXPECT_EQ(c["variance_test"]["cells_outside"], 40);
  EXPECT_GT(c["variance_test"]["significant_outside"].get<int>(), 0);
  EXPECT_EQ(s["settings"]["bootstrap"]["unit"], "image");
  EXPECT_EQ(s["settings"]["median_convention"], "lower");
  EXPECT_EQ(s["settings"]["ties"], "random");
  EXPECT_TRUE(s["methods"]["m0"]["ties"].is_array());
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
  for (const char* f :
       {"regions.csv", "agreement.csv", "groups.csv", "m0/densities.csv", "m0/profiles.csv",
        "reference_m0/reference.json", "reference_m0/deviations.csv", "grid.png", "grid.svg", "m0/intra.png",
        "m0/density.png", "m0/profiles.png", "m0/significance.png", "m0/significance_native.npy"}) {
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

// With identities (here the parent folders), the bootstrap resamples people and says so; the
// point estimates stay those of the data.
TEST(Analyze, IdentityBootstrapWhenIdentitiesAreKnown) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store", {.faces = 400, .failed = 3, .methods = 1, .identities = 40});
  const auto run = [&](const std::string& extra, const std::string& out) {
    return test::run(fmt::format(
        "{} analyze --store {} --out {} --bootstrap 200 --permutations 199 --null-controls 0 --no-figures {}",
        test::cli().string(), (dir / "store").string(), (dir / out).string(), extra));
  };
  const auto [rc, out] = run("--labels-from-folders", "by_id");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("intervals over identities"), std::string::npos) << out;
  const auto [rc2, out2] = run("--bootstrap-unit image", "by_image");
  ASSERT_EQ(rc2, 0) << out2;
  const auto id = read_json(dir / "by_id" / "summary.json");
  const auto img = read_json(dir / "by_image" / "summary.json");
  EXPECT_EQ(id["settings"]["bootstrap"]["unit"], "identity");
  EXPECT_GT(id["settings"]["bootstrap"]["identity_count"].get<int>(), 1);
  EXPECT_GT(id["methods"]["m0"]["groups"]["low"]["region"]["bootstrap_identities"].get<int>(), 1);
  EXPECT_EQ(img["settings"]["bootstrap"]["unit"], "image");
  EXPECT_EQ(id["methods"]["m0"]["comparison"]["outside_amv_low_minus_high"],
            img["methods"]["m0"]["comparison"]["outside_amv_low_minus_high"]);
  // Asking for identities without any is an error that says what to give.
  const auto [rc3, out3] = run("--bootstrap-unit identity --no-identities", "none");
  EXPECT_EQ(rc3, 2) << out3;
  EXPECT_NE(out3.find("--labels-from-folders"), std::string::npos) << out3;
  // Folders that evidently name people (p000/, p001/, ...) give the identities unasked, and say so.
  const auto [rc4, out4] = run("", "unasked");
  ASSERT_EQ(rc4, 0) << out4;
  EXPECT_NE(out4.find("identities: from the images' folders"), std::string::npos) << out4;
  const auto unasked = read_json(dir / "unasked" / "summary.json");
  EXPECT_TRUE(unasked["settings"]["bootstrap"]["identities_from_evident_folders"].get<bool>());
  EXPECT_EQ(unasked["methods"]["m0"]["comparison"]["outside_amv_low_minus_high"],
            id["methods"]["m0"]["comparison"]["outside_amv_low_minus_high"]);
  EXPECT_EQ(unasked["methods"]["m0"]["comparison"]["permutation"]["blocks"],
            id["methods"]["m0"]["comparison"]["permutation"]["blocks"]);
  EXPECT_FALSE(img["settings"]["bootstrap"]["identities_from_evident_folders"].get<bool>());  // images asked for
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
      "--permutations 199 --null-controls 0 "
      "--bootstrap 100 --no-figures",
      test::cli().string(), (dir / "store").string(), (dir / "out").string(), (dir / "badness.txt").string()));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("200 by path"), std::string::npos) << out;
  const auto s = read_json(dir / "out" / "summary.json");
  ASSERT_TRUE(s["methods"].contains("badness"));
  // --scores alone analyses its methods alone, as --methods' help says (issue 34, item 8).
  EXPECT_FALSE(s["methods"].contains("m0")) << "a built-in method beside --scores without --methods";
  const auto& m = s["methods"]["badness"];
  EXPECT_TRUE(m["negated"].get<bool>());
  EXPECT_EQ(m["group_order"], nlohmann::json({"q1", "q2", "q3", "q4"}));
  EXPECT_EQ(m["groups"]["q1"]["count"], 50);
  EXPECT_EQ(m["comparison"]["finding"], "reproduced");
  EXPECT_EQ(s["settings"]["normalization"], "none");
  EXPECT_FALSE(test::fs::exists(dir / "out" / "grid.png"));
  // Every face of deviations.csv names its group, the middle ones too (they were left empty
  // while only the low and the high group were kept in memory).
  const auto groups = io::read_csv(dir / "out" / "groups.csv");
  const auto dev = io::read_csv(dir / "out" / "reference_badness" / "deviations.csv");
  std::map<std::string, std::string> group_of;
  for (const auto& r : groups.rows) {
    if (r[groups.column("method")] == "badness") group_of[r[groups.column("id")]] = r[groups.column("group")];
  }
  ASSERT_EQ(dev.rows.size(), 200u);
  std::map<std::string, int> per_group;
  for (const auto& r : dev.rows) {
    EXPECT_EQ(r[dev.column("group")], group_of[r[dev.column("id")]]);
    ++per_group[r[dev.column("group")]];
  }
  EXPECT_EQ(per_group, (std::map<std::string, int>{{"q1", 50}, {"q2", 50}, {"q3", 50}, {"q4", 50}}));
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

// Outputs never land in a user's non-empty folder that amva did not make (its same-named files
// would be overwritten): refused with exit 2 unless --force; amva's own folder is reused.
TEST(Analyze, RefusesAForeignNonEmptyOutputFolder) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store", {.faces = 100, .failed = 0, .methods = 1});
  test::fs::create_directories(dir / "mine");
  std::ofstream(dir / "mine" / "summary.csv") << "my own file\n";
  const auto run = [&](const std::string& extra) {
    return test::run(fmt::format(
        "{} analyze --store {} --out {} --bootstrap 50 --permutations 199 --null-controls 0 --no-figures {}",
        test::cli().string(), (dir / "store").string(), (dir / "mine").string(), extra));
  };
  auto [rc, out] = run("");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("was not made by amva"), std::string::npos) << out;
  EXPECT_FALSE(test::fs::exists(dir / "mine" / "summary.json"));
  std::tie(rc, out) = run("--force");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(io::read_text(dir / "mine" / "summary.csv"), "my own file\n");
  std::tie(rc, out) = run("");  // now amva's folder
  EXPECT_EQ(rc, 0) << out;
}

// The calibrated verdicts end to end: the permutation tests and their unit, the verdict words
// with their one definition, the null controls, the signed D-AM-V, and the maps with one value
// everywhere, counted per group and left out on request.
TEST(Analyze, VerdictsSayTheirTestsAndCountConstantMaps) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store", {.faces = 400, .failed = 0, .methods = 1, .identities = 40});
  auto maps = io::read_npy(dir / "store" / "maps_gradcam.npy");
  for (std::size_t k = 0; k < 12 * 49; ++k) maps.data[k] = 0.f;  // faces 0..11: all zero after the ReLU
  io::write_npy(dir / "store" / "maps_gradcam.npy", maps);
  const auto run = [&](const std::string& extra, const std::string& out) {
    return test::run(fmt::format(
        "{} analyze --store {} --out {} --bootstrap 200 --permutations 199 --null-controls 5 --no-figures {}",
        test::cli().string(), (dir / "store").string(), (dir / out).string(), extra));
  };
  const auto [rc, out] = run("", "default");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("null controls: "), std::string::npos) << out;
  const auto s = read_json(dir / "default" / "summary.json");
  const auto& c = s["methods"]["m0"]["comparison"];
  EXPECT_EQ(s["settings"]["verdicts"]["family"], "holm");
  EXPECT_EQ(s["settings"]["verdicts"]["finding_words"][c["finding"].get<std::string>()], c["finding_definition"]);
  EXPECT_EQ(c["finding"], "reproduced") << c.dump(2);  // the built-in effect
  EXPECT_EQ(c["variance_test"]["test"], "permutation");
  EXPECT_LE(c["permutation"]["p_outside"].get<double>(), 0.01);
  EXPECT_EQ(s["null_controls"]["count"], 5);
  EXPECT_TRUE(std::filesystem::exists(dir / "default" / "null_controls.csv"));
  // Which of the zeroed faces fell in the low and the high group.
  std::map<std::string, int> zeroed;
  std::set<std::string> people;  // of the pooled low and high faces: the permutations' blocks
  const auto groups = io::read_csv(dir / "default" / "groups.csv");
  for (const auto& r : groups.rows) {
    if (std::stoi(r[0]) < 12) zeroed[r[3]] += 1;
    if (r[3] == "low" || r[3] == "high") people.insert(std::filesystem::path(r[1]).parent_path().string());
  }
  EXPECT_EQ(c["permutation"]["blocks"].get<std::size_t>(), people.size());
  EXPECT_LT(people.size(), 80u);
  EXPECT_EQ(c["degenerate_maps"]["low"].get<int>(), zeroed["low"]);
  EXPECT_EQ(c["degenerate_maps"]["high"].get<int>(), zeroed["high"]);
  // Signed: AM-V low - high, pixel by pixel.
  const auto signed_amv = io::read_npy(dir / "default" / "m0" / "d_amv_signed.npy");
  const auto low = io::read_npy(dir / "default" / "m0" / "amv_low.npy");
  const auto high = io::read_npy(dir / "default" / "m0" / "amv_high.npy");
  for (std::size_t k = 0; k < signed_amv.data.size(); k += 97) {
    EXPECT_NEAR(signed_amv.data[k], low.data[k] - high.data[k], 1e-6) << k;
  }

  const auto [rc2, out2] = run("--drop-constant-maps --cell-test brown-forsythe --family none", "dropped");
  ASSERT_EQ(rc2, 0) << out2;
  EXPECT_NE(out2.find("left out 12 faces"), std::string::npos) << out2;
  const auto d = read_json(dir / "dropped" / "summary.json");
  EXPECT_EQ(d["settings"]["bootstrap"]["constant_maps_dropped"], 12);
  EXPECT_EQ(d["settings"]["verdicts"]["family"], "none");
  const auto& dc = d["methods"]["m0"]["comparison"];
  EXPECT_EQ(dc["variance_test"]["test"], "brown-forsythe");
  EXPECT_EQ(dc["degenerate_maps"]["low"], 0);
  EXPECT_EQ(dc["degenerate_maps"]["high"], 0);
  EXPECT_EQ(d["methods"]["m0"]["scored"], 388);
}
