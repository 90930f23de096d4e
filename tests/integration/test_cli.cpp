// The command line end to end: amva cam, amva quality, and the demo on the default data.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "amva/io/csv.hpp"
#include "amva/io/npy.hpp"
#include "amva/store/store.hpp"
#include "support.hpp"

using namespace amva;
namespace fs = std::filesystem;

namespace {
std::string amva_cmd(const std::string& args, const test::TempDir& dir) {
  return fmt::format("AMVA_CACHE={} {} {} --models {}", (dir / "cache").string(), test::cli().string(), args,
                     test::models_dir().string());
}
}  // namespace

TEST(Cli, CamWritesMapsAndOverlaysPerImage) {
  test::TempDir dir;
  const auto [rc, out] =
      test::run(amva_cmd(fmt::format("cam --image {} --image {} --out {} --cam gradcam,eigencam",
                                     (test::sources_dir() / "grace_hopper.jpg").string(),
                                     (test::sources_dir() / "astronaut.png").string(), (dir / "out").string()),
                         dir));
  ASSERT_EQ(rc, 0) << out;
  for (const char* stem : {"grace_hopper", "astronaut"}) {
    for (const char* file : {"aligned.png", "gradcam.npy", "gradcam.png", "eigencam.npy", "eigencam.png"}) {
      EXPECT_TRUE(fs::exists(dir / "out" / stem / file)) << stem << "/" << file;
    }
    EXPECT_EQ(io::read_npy(dir / "out" / stem / "gradcam.npy").shape, (std::vector<std::int64_t>{7, 7}));
  }
  EXPECT_FALSE(fs::exists(dir / "out" / ".store")) << "the scratch store is removed";
}

TEST(Cli, DemoRunsOnTheDefaultData) {
  test::TempDir dir;
  const auto [rc, out] = test::run(amva_cmd(fmt::format("demo --levels 1 --out {}", (dir / "demo").string()), dir));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("23 faces"), std::string::npos) << out;
  const auto store = store::read_store(dir / "demo" / "store");
  EXPECT_EQ(store.table.records.size(), 23u * 13u);
  EXPECT_TRUE(store.table.arrays.count("maps_gradcam"));
  EXPECT_TRUE(store.table.arrays.count("maps_contribution"));
  const auto quality = io::read_csv(dir / "demo" / "store" / "quality.csv");
  for (const char* m : {"serfiq", "brisque", "magnitude", "sharpness", "brightness", "contrast", "face_size"}) {
    EXPECT_NO_THROW((void)quality.column(m)) << m;
  }
  EXPECT_EQ(quality.rows.size(), store.table.records.size());
  // The analysis of real maps of real faces: every method grouped, numbers and figures there.
  std::ifstream in(dir / "demo" / "analysis" / "summary.json");
  const auto summary = nlohmann::json::parse(in);
  EXPECT_EQ(summary["settings"]["cam"]["method"], "gradcam");
  EXPECT_EQ(summary["methods"].size(), 7u);
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
  EXPECT_TRUE(fs::exists(dir / "demo" / "analysis" / "grid.png"));
  EXPECT_TRUE(fs::exists(dir / "demo" / "analysis" / "reference_serfiq" / "mam.npy"));
}
