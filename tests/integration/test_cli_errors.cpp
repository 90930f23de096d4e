// Bad input through the command line: a clear message naming the thing, a non-zero exit,
// and an existing store left exactly as it was.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "amva/io/atomic_file.hpp"
#include "support.hpp"
#include "synthetic_store.hpp"

using namespace amva;
namespace fs = std::filesystem;

using test::amva_cmd;

TEST(CliErrors, MissingImageFolderIsNamed) {
  test::TempDir dir;
  const auto [rc, out] =
      test::run(amva_cmd(fmt::format("extract --images {} --out {}", (dir / "nope").string(), (dir / "s").string())));
  EXPECT_EQ(rc, 3) << out;
  EXPECT_NE(out.find("nope: no such folder"), std::string::npos) << out;
}

// A missing input is named before anything is written: no empty study folder is left.
TEST(CliErrors, RunWithMissingImagesLeavesNoFolder) {
  test::TempDir dir;
  const auto [rc, out] =
      test::run(fmt::format("{} run --images {} --out {} --models {}", test::cli().string(), (dir / "nowhere").string(),
                            (dir / "study").string(), test::models_dir().string()));
  EXPECT_EQ(rc, 3) << out;
  EXPECT_NE(out.find("nowhere: no such folder or image list"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "study"));
}

TEST(CliErrors, UnreadableOrCorruptModelIsNamed) {
  test::TempDir dir;
  std::ofstream(dir / "corrupt.onnx") << "garbage";
  nlohmann::json card = nlohmann::json::parse(io::read_text(test::cards_dir() / "default.json"));
  card["file"] = (dir / "corrupt.onnx").string();
  card.erase("sha256");
  std::ofstream(dir / "card.json") << card.dump();
  auto [rc, out] =
      test::run(amva_cmd(fmt::format("extract --images {} --out {} --model-card {}", test::sources_dir().string(),
                                     (dir / "s").string(), (dir / "card.json").string())));
  EXPECT_EQ(rc, 6) << out;
  EXPECT_NE(out.find("corrupt.onnx"), std::string::npos) << out;

  std::tie(rc, out) =
      test::run(amva_cmd(fmt::format("extract --images {} --out {} --model {}", test::sources_dir().string(),
                                     (dir / "s").string(), (dir / "absent.onnx").string())));
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("absent.onnx"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "s" / "index.csv"));
}

TEST(CliErrors, StoreOfAnotherModelIsRefusedAndLeftIntact) {
  test::TempDir dir;
  fs::create_directories(dir / "one");
  fs::copy(test::sources_dir() / "astronaut.png", dir / "one" / "astronaut.png");
  auto [rc, out] =
      test::run(amva_cmd(fmt::format("extract --images {} --out {}", (dir / "one").string(), (dir / "s").string())));
  ASSERT_EQ(rc, 0) << out;
  const std::string meta = io::read_text(dir / "s" / "meta.json");
  const std::string index = io::read_text(dir / "s" / "index.csv");

  // Same images, other settings (pre-aligned input): refused, nothing rewritten.
  std::tie(rc, out) = test::run(
      amva_cmd(fmt::format("extract --images {} --out {} --aligned", (dir / "one").string(), (dir / "s").string())));
  EXPECT_EQ(rc, 8) << out;
  EXPECT_NE(out.find("other settings"), std::string::npos) << out;
  EXPECT_EQ(io::read_text(dir / "s" / "meta.json"), meta);
  EXPECT_EQ(io::read_text(dir / "s" / "index.csv"), index);
}

// Grad-CAM maps made from all of J (amva before 2026-12-07) differ from today's at float
// rounding: a store of them is not resumed with today's, and the message names the setting.
TEST(CliErrors, AStoreOfGradCamMapsOfTheOldKindIsNotResumed) {
  test::TempDir dir;
  fs::create_directories(dir / "one");
  fs::copy(test::sources_dir() / "astronaut.png", dir / "one" / "astronaut.png");
  const auto extract =
      amva_cmd(fmt::format("extract --images {} --out {} --cam gradcam", (dir / "one").string(), (dir / "s").string()));
  auto [rc, out] = test::run(extract);
  ASSERT_EQ(rc, 0) << out;
  auto meta = nlohmann::json::parse(io::read_text(dir / "s" / "meta.json"));
  ASSERT_EQ(meta["settings"]["cam"]["methods"]["gradcam"]["gradients"], "summed by channel");
  meta["settings"]["cam"]["methods"]["gradcam"].erase("gradients");
  io::write_text_atomically(dir / "s" / "meta.json", meta.dump(2) + "\n");
  const std::string index = io::read_text(dir / "s" / "index.csv");

  fs::copy(test::sources_dir() / "grace_hopper.jpg", dir / "one" / "grace_hopper.jpg");
  std::tie(rc, out) = test::run(extract);
  EXPECT_EQ(rc, 8) << out;
  EXPECT_NE(out.find(R"(cam.methods.gradcam.gradients: null vs "summed by channel")"), std::string::npos) << out;
  EXPECT_EQ(io::read_text(dir / "s" / "index.csv"), index);
}

TEST(CliErrors, ModelFileThatIsNotTheCardsModelIsRefused) {
  AMVA_REQUIRE_SHARED();
  test::TempDir dir;
  const auto [rc, out] = test::run(amva_cmd(
      fmt::format("extract --images {} --out {} --model {}", test::sources_dir().string(), (dir / "s").string(),
                  (test::shared_dir() / "models" / "paddlex_mobilefacenet128.onnx").string())));
  EXPECT_EQ(rc, 6) << out;
  EXPECT_NE(out.find("--model-card"), std::string::npos) << out;
}

// Usage errors exit 2, as docs/cli.md says, whatever CLI11's own code for them; help and
// version exit 0.
TEST(CliErrors, UsageErrorsExit2) {
  for (const char* args : {"analyze --bogus", "analyze --store", "analyze --store x --out y --bootstrap -5", "nonsense",
                           "analyze --store x --out y --ties nope", "edc --store x"}) {
    const auto [rc, out] = test::run(fmt::format("{} {}", test::cli().string(), args));
    EXPECT_EQ(rc, 2) << args << "\n" << out;
  }
  EXPECT_EQ(test::run(fmt::format("{} --help", test::cli().string())).first, 0);
  EXPECT_EQ(test::run(fmt::format("{} --version", test::cli().string())).first, 0);
}

// Options that did something other than asked (issue 34, items 6, 8 and 9) are refused as
// usage errors, each with a message that says what is accepted.
TEST(CliErrors, OptionsThatDidSomethingElseAreRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"analyze --store s --out o --group top:", "a value must follow the colon"},
      {"analyze --store s --out o --seed -1", "is not a seed"},
      {"analyze --store s --out o --seed 99999999999999999999", "is not a seed"},
      {"edc --store s --out o --labels-from-folders --fmr 0.01 --start-fnmr 0.1", "excludes"},
      {"run --images i --out o --explain -1", "--explain"},
      {"extract --images i --out s --threads 0", "threads: use 1 to"},
      {"extract --images i --out s --threads 100000", "threads: use 1 to"},
      {"run --images i --out o --threads 1000", "threads: use 1 to"},
      {"extract --images i --out \"\"", "an empty name names no folder"},
      {"analyze --store \"\" --out o", "an empty name names no folder"},
  };
  for (const auto& [args, message] : cases) {
    const auto [rc, out] = test::run(fmt::format("{} {}", test::cli().string(), args));
    EXPECT_EQ(rc, 2) << args << "\n" << out;
    EXPECT_NE(out.find(message), std::string::npos) << args << "\n" << out;
  }
}

// A model that is no detector, given as --detector, is refused before the store exists, so
// that the corrected command runs (it found "store was made with other settings", exit 8).
TEST(CliErrors, AWrongDetectorIsRefusedBeforeTheStoreExists) {
  test::TempDir dir;
  const auto extract = [&](const std::string& extra) {
    return test::run(
        amva_cmd(fmt::format("extract --images {} --out {}{}", (test::sources_dir() / "astronaut.png").string(),
                             (dir / "store").string(), extra)));
  };
  const auto [rc, out] = extract(" --detector " + (test::models_dir() / "fr_feature.onnx").string());
  EXPECT_EQ(rc, 6) << out;
  EXPECT_NE(out.find("not a YuNet face detector model"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "store" / "meta.json"));
  const auto [rc2, out2] = extract("");
  EXPECT_EQ(rc2, 0) << out2;
}

// A store or study inside the image folder (--out DIR/store) is not read as images on the next
// run: its arrays and figures were recorded as not_an_image faces (issue 34, item 3).
TEST(CliErrors, OutputsInsideTheImageFolderAreNotReadAsImages) {
  test::TempDir dir;
  fs::create_directories(dir / "photos");
  for (const char* f : {"astronaut.png", "grace_hopper.jpg"})
    fs::copy_file(test::sources_dir() / f, dir / "photos" / f);
  const auto extract = [&] {
    return test::run(amva_cmd(
        fmt::format("extract --images {} --out {}", (dir / "photos").string(), (dir / "photos" / "store").string())));
  };
  for (int run = 0; run < 2; ++run) {
    const auto [rc, out] = extract();
    ASSERT_EQ(rc, 0) << out;
  }
  const auto index = io::read_text(dir / "photos" / "store" / "index.csv");
  EXPECT_EQ(std::count(index.begin(), index.end(), '\n'), 3) << index;  // the header and the two photos
  EXPECT_EQ(index.find("not_an_image"), std::string::npos) << index;
}

// A study of nothing says why (issue 34, item 7): no files, or files without a face.
TEST(CliErrors, RunWithoutFacesSaysWhy) {
  test::TempDir dir;
  fs::create_directories(dir / "empty");
  auto [rc, out] =
      test::run(amva_cmd(fmt::format("run --images {} --out {}", (dir / "empty").string(), (dir / "study1").string())));
  EXPECT_EQ(rc, 3) << out;
  EXPECT_NE(out.find("no files to read"), std::string::npos) << out;
  fs::create_directories(dir / "notes");
  for (int i = 0; i < 5; ++i) std::ofstream(dir / "notes" / fmt::format("note{}.txt", i)) << "not an image\n";
  std::tie(rc, out) =
      test::run(amva_cmd(fmt::format("run --images {} --out {}", (dir / "notes").string(), (dir / "study2").string())));
  EXPECT_EQ(rc, 7) << out;
  EXPECT_NE(out.find("no face was found in its 5 files (5 not_an_image)"), std::string::npos) << out;
}

// An index row whose status is neither ok nor error is a damaged store: analyze and edc name
// the file and row, as extract and quality do, instead of leaving the face out.
TEST(CliErrors, AnUnknownIndexStatusIsNamedWithItsRow) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store", {.faces = 20, .failed = 0, .methods = 1});
  auto index = io::read_text(dir / "store" / "index.csv");
  const auto first_ok = index.find(",ok,");
  ASSERT_NE(first_ok, std::string::npos);
  index.replace(first_ok, 4, ",maybe,");
  io::write_text_atomically(dir / "store" / "index.csv", index);
  for (const char* command : {"analyze", "edc --labels-from-folders"}) {
    const auto [rc, out] = test::run(fmt::format("{} {} --store {} --out {}", test::cli().string(), command,
                                                 (dir / "store").string(), (dir / "out").string()));
    EXPECT_EQ(rc, 5) << command << "\n" << out;
    EXPECT_NE(out.find("index.csv:2: status is 'maybe', not ok or error"), std::string::npos) << command << "\n" << out;
  }
}
