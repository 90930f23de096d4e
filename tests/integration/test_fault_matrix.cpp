// The fault matrix of issue 34: every command that writes, crossed with every fault (a kill
// at chosen steps of its writes and renames, a full disk, a read-only file system, a second
// writer), each run from a relative folder on images whose names hold a newline, a non-UTF-8
// byte, a space and a leading dash. What must hold for every cell: the fault is reported (the
// kill's status, or exit 4 naming the reason), the same command run again succeeds, and its
// outputs equal an uninterrupted run's; a second writer is refused naming the first's process
// and changes nothing. The tests run as root, so a full disk and a read-only file system are
// injected at the fault points (io/fault_injection.hpp), not made with chmod or mounts.
// The demo's own cell (a kill while its data is published) is in the Demo fixture, where the
// demo runs anyway.
#include <gtest/gtest.h>

#include <map>
#include <opencv2/imgproc.hpp>

#include "amva/io/atomic_file.hpp"
#include "amva/io/folder_lock.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/npy.hpp"
#include "folder_snapshot.hpp"
#include "support.hpp"

using namespace amva;
using amva::test::contents;
using amva::test::differences;
namespace fs = std::filesystem;

namespace {

// Photos in four person folders; p4's are small (degrade, cam and explain use them).
const std::vector<std::pair<std::string, std::string>>& photos() {
  static const std::vector<std::pair<std::string, std::string>> list = {
      {"p1/a b.jpg", "sample1.jpg"},         {"p1/-dash.jpg", "sample2.jpg"},        {"p2/sample3.jpg", "sample3.jpg"},
      {"p2/sample4.jpg", "sample4.jpg"},     {"p3/sample5.jpg", "sample5.jpg"},      {"p3/sample6.jpg", "sample6.jpg"},
      {"p4/new\nline.png", "astronaut.png"}, {"p4/caf\xe9.jpg", "grace_hopper.jpg"},
  };
  return list;
}

std::pair<int, std::string> amva_in(const fs::path& work, const std::string& args, const std::string& env = "") {
  return test::run(fmt::format("cd '{}' && AMVA_MODELS={} AMVA_CACHE={} {} {} {} --quiet", work.string(),
                               test::models_dir().string(), test::jacobian_cache().string(), env, test::cli().string(),
                               args));
}

// The inputs every command needs, made once per build: the photos, a store with gradcam maps
// and sharpness scores, the same store without scores, two part stores, an analysis (whose
// reference explain uses) and a folder of maps for import.
fs::path inputs() {
  return test::shared_fixture("fault-matrix", [](const fs::path& dir) {
    for (const auto& [to, from] : photos()) {
      fs::create_directories((dir / "photos" / to).parent_path());
      // At most 480 pixels wide: the faces are still found, and decoding costs a sixteenth.
      cv::Mat photo = io::load_bgr(test::sources_dir() / from);
      if (photo.cols > 480) cv::resize(photo, photo, {}, 480.0 / photo.cols, 480.0 / photo.cols, cv::INTER_AREA);
      io::write_image(dir / "photos" / to, photo);
      const fs::path map = dir / "maps" / fs::path(to).replace_extension(".npy");
      fs::create_directories(map.parent_path());
      const std::vector<float> values(49, 0.25f + 0.01f * static_cast<float>(to.size()));
      io::write_npy(map, {7, 7}, values.data());
    }
    for (const auto& args :
         {"extract --images photos --out base --cam gradcam --quality sharpness",
          "extract --images photos --out plain --cam gradcam", "extract --images photos --out part1 --part 1/2",
          "extract --images photos --out part2 --part 2/2",
          "analyze --store base --out analysis --methods sharpness --group top:50 --bootstrap 0 --permutations 19 "
          "--null-controls 0 --no-figures"}) {
      const auto [rc, out] = amva_in(dir, args);
      if (rc != 0) throw std::runtime_error(fmt::format("{}: {}", args, out));
    }
  });
}

struct Fault {
  std::string kind;      // kill, enospc or erofs (AMVA_FAULT_KIND)
  std::string variable;  // the protocol whose step fails
  int step;
};

struct WritingCommand {
  std::string name;
  std::string args;      // run in the work folder
  std::string out;       // the folder it writes
  std::string lock_dir;  // the folder whose lock a second writer meets (empty: out)
  std::string start;     // a folder copied to `out` before each run (empty: `out` absent)
  std::vector<Fault> faults;
};

// The protocol steps chosen for every command: the first file written (killed between its
// content and its rename, where a temporary file is whole), a late step of the command's own
// protocol, a full disk at its first step and at the second file, a read-only file system at
// the first file.
std::vector<Fault> faults_of(const std::string& protocol, int late_step) {
  return {{"kill", "AMVA_FAULT_WRITE_STEP", 1},
          {"kill", protocol, late_step},
          {"enospc", protocol, 1},
          {"enospc", "AMVA_FAULT_WRITE_STEP", 2},
          {"erofs", "AMVA_FAULT_WRITE_STEP", 1}};
}

// gtest prints a parameter by name instead of its bytes.
void PrintTo(const WritingCommand& c, std::ostream* os) {
  *os << c.name;
}

const std::vector<WritingCommand>& commands() {
  const std::string publish = "AMVA_FAULT_PUBLISH_STEP", commit = "AMVA_FAULT_COMMIT_STEP",
                    new_store = "AMVA_FAULT_NEW_STORE_STEP", write = "AMVA_FAULT_WRITE_STEP";
  static const std::vector<WritingCommand> list = {
      {"extract", "extract --images photos --out store --cam gradcam --quality sharpness --shard-size 3", "store", "",
       "", faults_of(commit, 6)},
      {"quality",
       "quality --store store --methods sharpness,brightness",
       "store",
       "",
       "plain",
       {{"kill", write, 1}, {"enospc", write, 1}, {"erofs", write, 1}}},  // quality.csv is its one write
      // deviation (issue 36): quality.csv, then deviation.json, from the odd names' maps.
      {"quality_deviation",
       "quality --store store --methods deviation --deviation-cam gradcam --deviation-folds 2 --deviation-reference "
       "sharpness --deviation-group top:50",
       "store",
       "",
       "base",
       {{"kill", write, 2}, {"enospc", write, 1}, {"erofs", write, 2}}},
      {"analyze",
       "analyze --store base --out out --methods sharpness --group top:50 --bootstrap 0 --permutations 19 "
       "--null-controls 0 --no-figures",
       "out", "", "", faults_of(publish, 3)},
      {"edc",
       "edc --store base --out out --labels-from-folders --methods sharpness --bootstrap 20 --start-fnmr 0.3 "
       "--no-figures",
       "out", "", "", faults_of(publish, 2)},
      {"explain", "explain --reference analysis/reference_sharpness --image 'photos/p4/new\nline.png' --out out", "out",
       "", "", faults_of(publish, 2)},
      {"cam", "cam --image 'photos/p4/caf\xe9.jpg' --image 'photos/p1/-dash.jpg' --out out --cam gradcam", "out", "",
       "", faults_of(publish, 2)},
      {"degrade", "degrade --images photos/p4 --levels 1 --out out", "out", "", "", faults_of(publish, 3)},
      {"faithfulness", "faithfulness --store base --out out --faces 3 --steps 2 --bootstrap 20", "out", "", "",
       faults_of(publish, 2)},
      {"merge", "merge part1 part2 --out merged", "merged", ".merged.amva-partial", "", faults_of(new_store, 1)},
      {"import", "import --maps maps --cam external --out imported", "imported", ".imported.amva-partial", "",
       faults_of(new_store, 1)},
      {"run",
       "run --images photos --out study --labels-from-folders --methods sharpness,deviation --deviation-cam gradcam "
       "--deviation-folds 2 --deviation-reference sharpness --deviation-group top:50 --explain 1 --explain-cam gradcam "
       "--null-controls 0 --permutations 19 --robustness-normalizations minmax --robustness-groups 25 --faithfulness "
       "--faithfulness-faces 1 --faithfulness-steps 2",
       "study", "", "", faults_of(publish, 2)},
      // A study across models (issue 32): one pass writes two stores. Its faults are those of
      // the new path: a kill at the first file, and a kill and a full disk in the second
      // store's commit (the stages after extraction are run's own, crossed in the row above).
      {"run_across_models",
       fmt::format("run --images photos --out study --labels-from-folders --methods sharpness,magnitude --model-card "
                   "'default,{}/tests/models/card_iresnet_opset13.json' --group top:50 --explain 0 --no-robustness "
                   "--null-controls 0 --permutations 19",
                   AMVA_TEST_SOURCE_DIR),
       "study",
       "",
       "",
       {{"kill", write, 1}, {"kill", commit, 12}, {"enospc", commit, 10}}},
  };
  return list;
}

class FaultMatrix : public ::testing::TestWithParam<WritingCommand> {
 protected:
  void SetUp() override { fs::copy(inputs(), work_.path(), fs::copy_options::recursive); }

  // `out` as each run of the command finds it.
  void reset_out(const WritingCommand& c) const {
    fs::remove_all(work_ / c.out);
    if (!c.start.empty()) fs::copy(work_ / c.start, work_ / c.out, fs::copy_options::recursive);
  }

  test::TempDir work_;
};

TEST_P(FaultMatrix, FaultsAreReportedAndTheRerunEqualsAnUninterruptedRun) {
  const WritingCommand& c = GetParam();
  reset_out(c);
  auto [rc, out] = amva_in(work_.path(), c.args);
  ASSERT_EQ(rc, 0) << c.name << " uninterrupted\n" << out;
  const auto uninterrupted = contents(work_ / c.out);
  ASSERT_FALSE(uninterrupted.empty()) << c.name;

  for (const auto& f : c.faults) {
    const std::string cell = fmt::format("{}: {} at {}={}", c.name, f.kind, f.variable, f.step);
    reset_out(c);
    std::tie(rc, out) =
        amva_in(work_.path(), c.args, fmt::format("{}={} AMVA_FAULT_KIND={}", f.variable, f.step, f.kind));
    if (f.kind == "kill") {
      EXPECT_EQ(rc, 137) << cell << ": the fault did not fire\n" << out;
    } else {
      EXPECT_EQ(rc, 4) << cell << "\n" << out;
      EXPECT_NE(out.find(f.kind == "erofs" ? "Read-only file system" : "No space left on device"), std::string::npos)
          << cell << "\n"
          << out;
      EXPECT_EQ(out.find("internal error"), std::string::npos) << cell << "\n" << out;
    }
    std::tie(rc, out) = amva_in(work_.path(), c.args);
    ASSERT_EQ(rc, 0) << cell << ", then run again\n" << out;
    const auto after = contents(work_ / c.out);
    EXPECT_TRUE(after == uninterrupted) << cell << ", then run again:\n" << differences(after, uninterrupted);
    // Nothing of the failed run is left beside the output either (merge and import stage there).
    for (const auto& e : fs::directory_iterator(work_.path())) {
      EXPECT_FALSE(e.path().filename().string().ends_with(".amva-partial")) << cell << ": " << e.path();
    }
  }
}

TEST_P(FaultMatrix, ASecondWriterIsRefusedAndChangesNothing) {
  const WritingCommand& c = GetParam();
  reset_out(c);
  const fs::path locked = work_ / (c.lock_dir.empty() ? c.out : c.lock_dir);
  fs::create_directories(locked);
  const auto before = contents(work_ / c.out);
  {
    const io::FolderLock first(locked, "folder");  // as a running command holds it
    const auto [rc, out] = amva_in(work_.path(), c.args);
    EXPECT_EQ(rc, 2) << c.name << "\n" << out;
    EXPECT_NE(out.find(fmt::format("in use by process {}", ::getpid())), std::string::npos) << c.name << "\n" << out;
    EXPECT_TRUE(contents(work_ / c.out) == before) << c.name;
  }
  const auto [rc, out] = amva_in(work_.path(), c.args);  // once the first has ended
  EXPECT_EQ(rc, 0) << c.name << "\n" << out;
}

INSTANTIATE_TEST_SUITE_P(EveryWritingCommand, FaultMatrix, ::testing::ValuesIn(commands()),
                         [](const ::testing::TestParamInfo<WritingCommand>& info) { return info.param.name; });

}  // namespace
