// File names as users have them, through the commands that hand images from one stage to the
// next (issue 34, item 1): a relative --images folder named from the working directory, and
// names with a space, a newline or bytes that are not UTF-8. Stages pass images in memory
// under the study store's keys, and a rank's in-pass quality scores carry keys as hex, so no
// internal hand-over depends on the working directory or on a name being printable.
#include <gtest/gtest.h>

#include "amva/io/csv.hpp"
#include "amva/io/hex.hpp"
#include "amva/store/store.hpp"
#include "support.hpp"

using namespace amva;
namespace fs = std::filesystem;

namespace {
// The odd names, each a copy of a default photo with one face.
const std::vector<std::pair<std::string, std::string>> kPhotos = {
    {"astronaut.png", "astronaut.png"},      {"grace_hopper.jpg", "new\nline.jpg"},
    {"sample1.jpg", "caf\xe9.jpg"},          {"sample2.jpg", "a b.jpg"},
    {"sample3.jpg", "sample3.jpg"},          {"sample6.jpg", "-dash.jpg"},
};

void make_photos(const fs::path& dir) {
  fs::create_directories(dir);
  for (const auto& [from, to] : kPhotos) fs::copy_file(test::sources_dir() / from, dir / to);
}
}  // namespace

TEST(Hex, RoundTripsAnyBytes) {
  std::string every;
  for (int b = 0; b < 256; ++b) every += static_cast<char>(b);
  EXPECT_EQ(io::to_hex("caf\xe9\n"), "636166e90a");
  EXPECT_EQ(io::from_hex(io::to_hex(every)), every);
  EXPECT_THROW(io::from_hex("abc"), Error);
  EXPECT_THROW(io::from_hex("zz"), Error);
}

// `amva run --images photos --out study`, typed in the folder that holds photos/: every stage
// finds every image, the explanations' occlusion reference included (it stopped with "scores
// are constant or missing" when its internal list named the images relative to the working
// directory, and a non-UTF-8 name stopped the in-pass quality scores with a JSON error).
TEST(Names, RunFromARelativeFolderWithOddNames) {
  test::TempDir dir;
  make_photos(dir / "photos");
  const auto run = [&] {
    return test::run(fmt::format("cd {} && AMVA_CACHE={} {} run --images photos --out study --group top:34 "
                                 "--explain 1 --methods sharpness,brightness --models {} --quiet",
                                 dir.path().string(), test::jacobian_cache().string(), test::cli().string(),
                                 test::models_dir().string()));
  };
  const auto [rc, out] = run();
  ASSERT_EQ(rc, 0) << out;
  std::set<std::string> keys;
  for (const auto& e : store::read_index_entries(dir / "study" / "store")) {
    EXPECT_TRUE(e.ok) << e.path;
    keys.insert(e.path);
  }
  for (const auto& [from, to] : kPhotos) EXPECT_EQ(keys.count(to), 1u) << io::to_hex(to);
  // In-pass scores for every face, under its own key.
  const auto quality = io::read_csv(dir / "study" / "store" / "quality.csv", ',');
  ASSERT_EQ(quality.rows.size(), kPhotos.size());
  for (const auto& row : quality.rows) EXPECT_EQ(keys.count(row[1]), 1u) << io::to_hex(row[1]);
  // The reference store holds the high and low groups (2 + 2 faces), each found and scored.
  const auto reference = store::read_index_entries(dir / "study" / "explain_reference" / "store");
  ASSERT_EQ(reference.size(), 4u);
  for (const auto& e : reference) {
    EXPECT_TRUE(e.ok) << io::to_hex(e.path);
    EXPECT_EQ(keys.count(e.path), 1u) << "the study's key, not a path: " << io::to_hex(e.path);
  }
  EXPECT_TRUE(fs::exists(dir / "study" / "explain" / "ranking.csv"));
  EXPECT_EQ(io::read_csv(dir / "study" / "explain" / "ranking.csv", ',').rows.size(), 2u);
  EXPECT_TRUE(fs::exists(dir / "study" / "report.html"));
  // Run again: everything is resumed, nothing is refused.
  const auto [rc2, out2] = run();
  EXPECT_EQ(rc2, 0) << out2;
}
