// Bad input through the command line: a clear message naming the thing, a non-zero exit,
// and an existing store left exactly as it was.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "amva/io/atomic_file.hpp"
#include "support.hpp"

using namespace amva;
namespace fs = std::filesystem;

namespace {
std::string amva_cmd(const std::string& args) {
  return fmt::format("{} {} --models {}", test::cli().string(), args, test::models_dir().string());
}
}  // namespace

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

TEST(CliErrors, ModelFileThatIsNotTheCardsModelIsRefused) {
  AMVA_REQUIRE_SHARED();
  test::TempDir dir;
  const auto [rc, out] = test::run(amva_cmd(
      fmt::format("extract --images {} --out {} --model {}", test::sources_dir().string(), (dir / "s").string(),
                  (test::shared_dir() / "models" / "paddlex_mobilefacenet128.onnx").string())));
  EXPECT_EQ(rc, 6) << out;
  EXPECT_NE(out.find("--model-card"), std::string::npos) << out;
}

// Usage errors exit 2, as the README says, whatever CLI11's own code for them; help and
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
