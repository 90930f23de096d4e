// File names as users have them, through the commands that hand images from one stage to the
// next (issue 34, item 1): a relative --images folder named from the working directory, and
// names with a space, a newline or bytes that are not UTF-8. Stages pass images in memory
// under the study store's keys, and a rank's in-pass quality scores carry keys as hex, so no
// internal hand-over depends on the working directory or on a name being printable.
#include <gtest/gtest.h>

#include <set>

#include "amva/io/csv.hpp"
#include "amva/io/hex.hpp"
#include "amva/io/npy.hpp"
#include "amva/model/model_card.hpp"
#include "amva/store/store.hpp"
#include "support.hpp"

using namespace amva;
namespace fs = std::filesystem;

namespace {
// The odd names, each a copy of a default photo with one face.
const std::vector<std::pair<std::string, std::string>> kPhotos = {
    {"astronaut.png", "astronaut.png"}, {"grace_hopper.jpg", "new\nline.jpg"}, {"sample1.jpg", "caf\xe9.jpg"},
    {"sample2.jpg", "a b.jpg"},         {"sample3.jpg", "sample3.jpg"},        {"sample6.jpg", "-dash.jpg"},
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
    return test::run(fmt::format(
        "cd {} && AMVA_CACHE={} {} run --images photos --out study --group top:34 "
        "--explain 1 --methods sharpness,brightness,deviation --deviation-cam gradcam --deviation-folds 2 "
        "--deviation-reference all --no-robustness --models {} --quiet",
        dir.path().string(), test::jacobian_cache().string(), test::cli().string(), test::models_dir().string()));
  };
  const auto [rc, out] = run();
  ASSERT_EQ(rc, 0) << out;
  // deviation's map kind is the one the analysis groups (gradcam): its verdict is called circular.
  EXPECT_NE(out.find("deviation's AMVA verdict above is circular"), std::string::npos) << out;
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
  // deviation (issue 36), made after the pass from the store's maps, scored every face, and its
  // lowest face was explained against its fold's reference, found again by its odd name.
  const auto deviation = quality.column("deviation", "quality.csv");
  for (const auto& row : quality.rows) EXPECT_NE(row[deviation], "nan") << io::to_hex(row[1]);
  std::size_t sheets = 0;
  for (const auto& fold : fs::directory_iterator(dir / "study" / "deviation" / "explain")) {
    for (const auto& row : io::read_csv(fold.path() / "ranking.csv", ',').rows) sheets += row.back().empty() ? 1 : 0;
  }
  EXPECT_EQ(sheets, 1u);
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

// The rest of the commands that take images or stores by name, from a relative folder with the
// same odd names in folders that name three people: extract --part and merge, edc with
// identities from the folders, cam on single files and import from a folder of maps. Every
// name comes through under its own key, and the merged parts equal one extraction.
TEST(Names, EveryCommandTakesOddNamesFromARelativeFolder) {
  test::TempDir dir;
  const std::vector<std::pair<std::string, std::string>> photos = {
      {"p1/new\nline.jpg", "grace_hopper.jpg"},
      {"p1/caf\xe9.jpg", "sample1.jpg"},
      {"p2/a b.jpg", "sample2.jpg"},
      {"p2/-dash.jpg", "sample6.jpg"},
      {"p3/astronaut.png", "astronaut.png"},
      {"p3/sample3.jpg", "sample3.jpg"},
  };
  std::set<std::string> expected;
  for (const auto& [to, from] : photos) {
    fs::create_directories((dir / "photos" / to).parent_path());
    fs::copy_file(test::sources_dir() / from, dir / "photos" / to);
    expected.insert(to);
  }
  const auto amva = [&](const std::string& args) {
    return test::run(fmt::format("cd '{}' && AMVA_CACHE={} {} {} --quiet", dir.path().string(),
                                 test::jacobian_cache().string(), test::cli().string(), args));
  };
  const auto keys_of = [&](const fs::path& store) {
    std::set<std::string> keys;
    for (const auto& e : store::read_index_entries(dir / store)) {
      EXPECT_TRUE(e.ok) << io::to_hex(e.path);
      keys.insert(e.path);
    }
    return keys;
  };
  const std::string models = "--models " + test::models_dir().string();

  auto [rc, out] = amva("extract --images photos --out whole --quality sharpness " + models);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(keys_of("whole"), expected);
  for (const char* part : {"1/2", "2/2"}) {
    std::tie(rc, out) = amva(
        fmt::format("extract --images photos --out part{} --part {} --quality sharpness {}", part[0], part, models));
    ASSERT_EQ(rc, 0) << part << "\n" << out;
  }
  std::tie(rc, out) = amva("merge part1 part2 --out merged");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(keys_of("merged"), expected);
  EXPECT_EQ(io::read_csv(dir / "merged" / "quality.csv", ',').rows.size(), photos.size());

  std::tie(rc, out) = amva(
      "edc --store whole --out edc --labels-from-folders --methods sharpness --bootstrap 20 "
      "--start-fnmr 0.3");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(fs::exists(dir / "edc" / "edc.json"));

  // Single files named on the command line, quoted as a shell user would.
  std::tie(rc, out) =
      amva(fmt::format("cam --image 'photos/p1/new\nline.jpg' --image 'photos/p1/caf\xe9.jpg' "
                       "--out cams --cam gradcam {}",
                       models));
  ASSERT_EQ(rc, 0) << out;
  int written = 0;
  for (const auto& e : fs::directory_iterator(dir / "cams")) written += fs::exists(e.path() / "gradcam.npy") ? 1 : 0;
  EXPECT_EQ(written, 2);

  // Maps made elsewhere, one file per image under the image's own name.
  std::set<std::string> map_keys;
  const std::vector<float> map(49, 0.5f);
  for (const auto& [to, from] : photos) {
    const fs::path file = dir / "maps" / fs::path(to).replace_extension(".npy");
    fs::create_directories(file.parent_path());
    io::write_npy(file, {7, 7}, map.data());
    map_keys.insert(fs::path(to).replace_extension().generic_string());
  }
  std::tie(rc, out) = amva("import --maps maps --out imported");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(keys_of("imported"), map_keys);

  // A model and its card under odd names, the inspector's faces cut from the odd photos.
  fs::create_directories(dir / "my models");
  fs::copy_file(test::models_dir() / "fr_feature.onnx", dir / "my models" / "-new\nmodel.onnx");
  std::tie(rc, out) =
      amva(fmt::format("model inspect 'my models/-new\nmodel.onnx' --sources photos --card-out "
                       "'cards/caf\xe9.json' {}",
                       models));
  ASSERT_EQ(rc, 0) << out;
  const auto card = model::ModelCard::load(dir / "cards" / "caf\xe9.json");
  EXPECT_EQ(fs::canonical(card.file), fs::canonical(dir / "my models" / "-new\nmodel.onnx"));
}
