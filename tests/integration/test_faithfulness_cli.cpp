// amva faithfulness on a store of the default photos (issue 33): the maps it ranks by are the
// store's maps before their ReLU, its outputs hold every face, order and fill, a rerun gives the
// same numbers, and a store of imported maps is refused with the reason.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/npy.hpp"
#include "amva/pipeline/extract.hpp"
#include "amva/store/store.hpp"
#include "support.hpp"

using namespace amva;
namespace fs = std::filesystem;

namespace {

using test::amva_cmd;

class FaithfulnessCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      dir_ = test::shared_fixture("faithfulness", [](const fs::path& dir) {
        const auto [rc, out] = test::run(amva_cmd(fmt::format("extract --images {} --out {} --cam gradcam,eigencam",
                                                              test::sources_dir().string(), (dir / "store").string())));
        if (rc != 0) throw std::runtime_error(out);
      });
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  // A store that could not be made fails every test (gtest would only skip them).
  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }
  static inline std::string setup_error_;
  static fs::path store() { return dir_ / "store"; }
  static inline fs::path dir_;
};

// The signed maps faithfulness ranks by are the stored maps but for the ReLU: made from the
// stored faces re-aligned from their landmarks, with the store's target and layer.
TEST_F(FaithfulnessCli, MapsBeforeTheReluAreTheStoredMapsButForIt) {
  const auto content = store::read_store(store());
  std::vector<cv::Mat> faces;
  std::vector<store::Record> records;
  for (const auto& r : content.table.records) {
    if (!r.ok) continue;
    faces.push_back(pipeline::aligned_face_of(content.meta, r));
    records.push_back(r);
  }
  ASSERT_GE(faces.size(), 6u);
  pipeline::ExtractOptions e;
  e.card = test::card();
  e.cache_dir = test::jacobian_cache();
  e.cams = {"gradcam", "eigencam"};
  e.maps_before_relu = true;
  const auto signed_maps = pipeline::extract_aligned_faces(faces, records, e);
  for (const std::string cam : {"gradcam", "eigencam"}) {
    const auto& stored = content.table.maps(cam);
    const auto& raw = signed_maps.table.maps(cam);
    ASSERT_EQ(raw.row_shape, stored.row_shape);
    std::size_t negative = 0;
    for (std::size_t i = 0; i < faces.size(); ++i) {
      const auto id = static_cast<std::size_t>(records[i].id);
      for (std::size_t k = 0; k < raw.row_size(); ++k) {
        const float v = raw.row(i)[k];
        EXPECT_NEAR(std::max(v, 0.f), stored.row(id)[k], 1e-4f * (1 + std::abs(v))) << cam << " face " << i;
        negative += v < 0;
      }
    }
    EXPECT_GT(negative, 0u) << cam << ": maps before the ReLU have negative cells";
  }
}

TEST_F(FaithfulnessCli, WritesEveryFaceOrderAndFillAndRerunsToTheSameNumbers) {
  test::TempDir work;
  // From a relative folder, as a user runs it.
  const auto command = [&](const std::string& out) {
    return fmt::format("cd '{}' && {}", work.path().string(),
                       amva_cmd(fmt::format("faithfulness --store {} --out {} --faces 4 --steps 4 --bootstrap 200",
                                            store().string(), out)));
  };
  const auto [rc, out] = test::run(command("judged"));
  ASSERT_EQ(rc, 0) << out;
  for (const char* line : {"gradcam: deletion", "eigencam: deletion", "random (control)", "centre (control)",
                           "ranking by insertion - deletion"}) {
    EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;
  }
  const fs::path judged = work / "judged";
  const auto csv = io::read_csv(judged / "faithfulness.csv", ',');
  EXPECT_EQ(csv.rows.size(), 4u * 4u * 2u) << "faces x (2 maps + 2 controls) x 2 fills";
  const auto summary = test::read_json(judged / "faithfulness.json");
  EXPECT_EQ(summary["faces"], 4);
  EXPECT_EQ(summary["steps"], 4);
  EXPECT_EQ(summary["orders"].size(), 4u);
  EXPECT_EQ(summary["forwards_per_face"], 4 * 2 * 2 * 3 + 2);
  for (const auto& s : summary["scores"]) {
    // Areas of cosines, and the interval holds the mean.
    for (const char* game : {"deletion", "insertion"}) {
      const auto& a = s[game];
      EXPECT_LE(a["lo"].get<double>(), a["mean"].get<double>() + 1e-12) << s.dump();
      EXPECT_GE(a["hi"].get<double>(), a["mean"].get<double>() - 1e-12) << s.dump();
      EXPECT_LE(a["mean"].get<double>(), 1.0) << s.dump();
    }
    EXPECT_EQ(s["deletion_curve"].size(), 5u);
    EXPECT_NEAR(s["deletion_curve"][0].get<double>(), 1.0, 1e-6);
    EXPECT_NEAR(s["insertion_curve"][4].get<double>(), 1.0, 1e-6);
  }
  EXPECT_EQ(summary["differences"].size(), 6u * 2u * 2u) << "pairs of 4 orders x fills x games";
  const std::string svg = io::read_text(judged / "faithfulness.svg");
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  // The same seed gives the same numbers into a second folder.
  const auto [rc2, out2] = test::run(command("again"));
  ASSERT_EQ(rc2, 0) << out2;
  EXPECT_EQ(io::read_text(judged / "faithfulness.csv"), io::read_text(work / "again" / "faithfulness.csv"));
}

TEST_F(FaithfulnessCli, AStoreOfImportedMapsIsRefusedWithTheReason) {
  test::TempDir work;
  std::vector<float> maps(3 * 49, 0.5f);
  io::write_npy(work / "maps.npy", {3, 7, 7}, maps.data());
  std::ofstream(work / "list.txt") << "a.png\nb.png\nc.png\n";
  auto [rc, out] =
      test::run(fmt::format("{} import --maps {} --list {} --out {}", test::cli().string(),
                            (work / "maps.npy").string(), (work / "list.txt").string(), (work / "imported").string()));
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = test::run(amva_cmd(
      fmt::format("faithfulness --store {} --out {}", (work / "imported").string(), (work / "judged").string())));
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("made by amva import"), std::string::npos) << out;
  EXPECT_EQ(out.find("internal error"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(work / "judged")) << "nothing is made for a refused store";
}

}  // namespace
