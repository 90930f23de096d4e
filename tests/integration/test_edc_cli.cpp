#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "amva/io/csv.hpp"
#include "support.hpp"
#include "synthetic_store.hpp"

using namespace amva;

// Synthetic faces of 20 identities whose embeddings blur as quality falls: discarding by the
// true quality (m0) must lower the FNMR faster than random, with the threshold fixed.
TEST(EdcCli, LabelsFromFoldersAgainstTheBaselines) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store",
                              {.faces = 400, .failed = 2, .methods = 2, .identities = 20, .embedding_size = 16});
  const auto [rc, out] = test::run(fmt::format(
      "{} edc --store {} --out {} --labels-from-folders --with-random --fmr 0.01 --discard-limit 0.2,0.3 --erc-refit",
      test::cli().string(), (dir / "store").string(), (dir / "out").string()));
  ASSERT_EQ(rc, 0) << out;
  std::ifstream in(dir / "out" / "edc.json");
  const auto s = nlohmann::json::parse(in);
  // 20 identities x 20 faces: 20 x 190 mated pairs; every non-mated pair (400 x 399 / 2 - 3,800
  // = 76,000 exist) since fewer than the 200,000 asked for.
  EXPECT_EQ(s["comparisons"]["mated"], 3800);
  EXPECT_EQ(s["comparisons"]["nonmated"], 76000);
  EXPECT_LE(s["settings"]["fmr_at_threshold"].get<double>(), 0.01);
  const auto pauc = [&](const char* m) { return s["methods"][m]["fnm_edc"]["pauc"]["0.20"].get<double>(); };
  const double random_order = s["baselines"]["fnm_edc"]["random_pauc_mean"]["0.20"].get<double>();
  // Pairwise quality is the worse face's, so even the true quality helps slowly (measured:
  // 0.0585 against 0.0650 for random orders); a random score sits on the random baseline.
  EXPECT_LT(pauc("m0"), 0.95 * random_order);
  EXPECT_LT(pauc("m0"), pauc("random"));
  EXPECT_NEAR(pauc("random"), random_order, 0.1 * random_order);
  const double e0 = s["settings"]["fnmr_at_threshold"].get<double>();
  EXPECT_NEAR(s["methods"]["m0"]["fnm_edc"]["starting_fnmr"].get<double>(), e0, 1e-12);
  EXPECT_GT(s["methods"]["m0"]["groups"]["low"]["fnmr"].get<double>(),
            s["methods"]["m0"]["groups"]["high"]["fnmr"].get<double>());
  EXPECT_TRUE(s["methods"]["m0"].contains("erc_refit"));
  for (const char* f : {"edc.csv", "groups.csv", "comparisons.csv", "edc.png", "distributions.png"}) {
    EXPECT_TRUE(test::fs::exists(dir / "out" / f)) << f;
  }
  EXPECT_FALSE(test::fs::exists(dir / "out" / "edc.svg")) << "SVG is drawn on request (--svg) only";
  EXPECT_NE(out.find("random order"), std::string::npos) << out;
}

TEST(EdcCli, BadInputGivesClearErrors) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store",
                              {.faces = 60, .failed = 0, .methods = 1, .identities = 6, .embedding_size = 8});
  const auto cli = test::cli().string();
  const auto store = (dir / "store").string();
  auto [rc, text] = test::run(fmt::format("{} edc --store {} --out {}/o", cli, store, dir.path().string()));
  EXPECT_EQ(rc, 2) << text;
  EXPECT_NE(text.find("--pairs"), std::string::npos) << text;
  std::tie(rc, text) = test::run(fmt::format(
      "{} edc --store {} --out {}/o --labels-from-folders --fmr 1e-5 --no-figures", cli, store, dir.path().string()));
  EXPECT_EQ(rc, 2) << text;
  EXPECT_NE(text.find("at least 100000 are needed"), std::string::npos) << text;
  std::ofstream(dir / "pairs.txt")
      << "p000/img_0000000.jpg p000/img_0000006.jpg 1\nnowhere/x.jpg p001/img_0000001.jpg 0\n"
      << "p000/img_0000000.jpg p001/img_0000001.jpg 0\n";
  std::tie(rc, text) = test::run(fmt::format("{} edc --store {} --out {}/o --pairs {} --start-fnmr 0.5 --no-figures",
                                             cli, store, dir.path().string(), (dir / "pairs.txt").string()));
  EXPECT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("nowhere/x.jpg: not in the store"), std::string::npos) << text;
  EXPECT_TRUE(test::fs::exists(dir / "o" / "excluded.txt"));
}
