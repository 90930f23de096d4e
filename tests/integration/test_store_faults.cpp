// The store's promise under faults (issue 11, items 1-2): a kill or a full disk at any step of
// a commit leaves a store that the same command completes, equal to an uninterrupted run; one
// writer at a time.
#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/folder_lock.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/npy.hpp"
#include "amva/store/store.hpp"
#include "support.hpp"

using namespace amva;
namespace fs = std::filesystem;

namespace {
// Six 112x112 crops of the default photos (content does not matter to the store), and two
// lists: the first three images, and all six.
fs::path make_lists(const test::TempDir& dir) {
  fs::create_directories(dir / "images");
  std::string first, all;
  int k = 0;
  for (const auto& e : fs::directory_iterator(test::sources_dir())) {
    if (k == 6) break;
    cv::Mat img = io::load_bgr(e.path());
    cv::Mat crop;
    cv::resize(img, crop, cv::Size(112, 112));
    const auto name = fmt::format("images/face{}.png", k);
    cv::imwrite((dir / name).string(), crop);
    (k < 3 ? first : all) += name + "\n";
    ++k;
  }
  std::ofstream(dir / "first.txt") << first;
  std::ofstream(dir / "all.txt") << first << all;
  return dir.path();
}

// A store of the first three crops at `out` (embeddings only).
std::pair<int, std::string> extract_first(const test::TempDir& dir, const fs::path& out) {
  return test::run(fmt::format("{} extract --images {} --out {} --aligned --models {}", test::cli().string(),
                               (dir / "first.txt").string(), out.string(), test::models_dir().string()));
}

std::pair<int, std::string> extract(const fs::path& list, const fs::path& store, const std::string& env = "") {
  return test::run(fmt::format("{} {} extract --images {} --out {} --aligned --cam gradcam --shard-size 2 --models {}",
                               env, test::cli().string(), list.string(), store.string(), test::models_dir().string()));
}

void expect_same_store(const fs::path& a, const fs::path& b, const std::string& what) {
  EXPECT_EQ(io::read_text(a / "index.csv"), io::read_text(b / "index.csv")) << what;
  for (const char* f : {"embeddings.npy", "maps_gradcam.npy"}) {
    const auto x = io::read_npy(a / f);
    const auto y = io::read_npy(b / f);
    ASSERT_EQ(x.shape, y.shape) << what << " " << f;
    double worst = 0;
    for (std::size_t i = 0; i < x.data.size(); ++i) {
      if (std::isnan(x.data[i]) != std::isnan(y.data[i])) worst = 1e9;
      if (!std::isnan(x.data[i])) worst = std::max(worst, static_cast<double>(std::abs(x.data[i] - y.data[i])));
    }
    EXPECT_LE(worst, 1e-6) << what << " " << f;
  }
  EXPECT_FALSE(fs::exists(a / ".commit")) << what;
  EXPECT_FALSE(fs::exists(a / "shards")) << what;
}
}  // namespace

// Growing a store: three images committed, then all six with a fault injected at commit step
// k (every file write, rename and removal of the commit, in turn), as a kill -9 and as a full
// disk. The same command run again completes the store, equal to an uninterrupted run.
TEST(StoreFaults, CommitSurvivesAKillOrAFullDiskAtEveryStep) {
  test::TempDir dir;
  const auto root = make_lists(dir);
  ASSERT_EQ(extract(root / "first.txt", dir / "base").first, 0);
  fs::copy(dir / "base", dir / "reference", fs::copy_options::recursive);
  const auto [rc, out] = extract(root / "all.txt", dir / "reference");
  ASSERT_EQ(rc, 0) << out;
  for (const std::string kind : {"kill", "enospc"}) {
    int steps = 0;
    for (int k = 1; k <= 30; ++k) {
      const auto store = dir / fmt::format("{}-{}", kind, k);
      fs::copy(dir / "base", store, fs::copy_options::recursive);
      const auto [frc, fout] =
          extract(root / "all.txt", store, fmt::format("AMVA_FAULT_COMMIT_STEP={} AMVA_FAULT_KIND={}", k, kind));
      if (frc == 0) break;  // past the last step: the commit ran through
      steps = k;
      EXPECT_EQ(frc, kind == "kill" ? 137 : 4) << kind << " step " << k << "\n" << fout;
      const auto [rrc, rout] = extract(root / "all.txt", store);
      ASSERT_EQ(rrc, 0) << kind << " step " << k << "\n" << rout;
      expect_same_store(store, dir / "reference", fmt::format("{} at step {}", kind, k));
      fs::remove_all(store);
    }
    // 2 arrays + index + marker written, 3 files renamed, shards and staging removed.
    EXPECT_EQ(steps, 9) << kind;
  }
}

// A reader finds a commit interrupted after its marker and completes it instead of refusing the
// store; one interrupted before the marker is discarded and the old store read as it was.
TEST(StoreFaults, ReadersCompleteAnInterruptedCommit) {
  test::TempDir dir;
  const auto root = make_lists(dir);
  ASSERT_EQ(extract(root / "first.txt", dir / "store").first, 0);
  // Kill after the marker and the first rename (step 5 of 9).
  const auto [frc, fout] = extract(root / "all.txt", dir / "store", "AMVA_FAULT_COMMIT_STEP=6 AMVA_FAULT_KIND=kill");
  ASSERT_EQ(frc, 137) << fout;
  ASSERT_TRUE(fs::exists(dir / "store" / ".commit" / "COMPLETE"));
  const auto entries = store::read_index_entries(dir / "store");
  EXPECT_EQ(entries.size(), 6u);
  EXPECT_FALSE(fs::exists(dir / "store" / ".commit"));
  EXPECT_EQ(store::read_store(dir / "store").table.records.size(), 6u);
}

// One writer: while a process holds the lock another extract stops at once, naming it; a lock
// file left behind by a process that is gone does not block.
TEST(StoreFaults, OneWriterAtATime) {
  test::TempDir dir;
  const auto root = make_lists(dir);
  ASSERT_EQ(extract(root / "first.txt", dir / "store").first, 0);
  {
    const store::StoreLock held(dir / "store");
    const auto [rc, out] = extract(root / "all.txt", dir / "store");
    EXPECT_EQ(rc, 2) << out;
    EXPECT_NE(out.find(fmt::format("store in use by process {}", ::getpid())), std::string::npos) << out;
    EXPECT_EQ(store::read_index_entries(dir / "store").size(), 3u);  // untouched
  }
  std::ofstream(dir / "store" / ".lock") << "999999";  // a stale pid, no flock
  const auto [rc, out] = extract(root / "all.txt", dir / "store");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(store::read_index_entries(dir / "store").size(), 6u);
}

// A lock that cannot be made is named with the system's reason (issue 34, item 9: a read-only
// store said "Invalid argument", an errno read after another call had changed it). Root writes
// anywhere, so the reason here is a folder where the lock file goes.
TEST(StoreFaults, ALockThatCannotBeMadeSaysWhy) {
  test::TempDir dir;
  const auto root = make_lists(dir);
  fs::create_directories(dir / "store" / io::kLockName);
  const auto [rc, out] = extract(root / "first.txt", dir / "store");
  EXPECT_EQ(rc, 4) << out;
  EXPECT_NE(out.find("cannot lock the store (Is a directory)"), std::string::npos) << out;
}

// Stores and output folders are never stuck at birth (issue 34, item 4). What a kill or a full
// disk leaves before meta.json (or the output marker) is in place, the same command completes;
// a second process creating the same store at once is told it is in use.
TEST(StoreFaults, CreationInterruptedBeforeTheFirstFileIsCompleted) {
  test::TempDir dir;
  make_lists(dir);
  const auto extract = [&](const fs::path& out) {
    return test::run(
        fmt::format("AMVA_CACHE={} {} extract --images {} --out {} --aligned --cam gradcam --quality "
                    "sharpness --models {}",
                    test::jacobian_cache().string(), test::cli().string(), (dir / "first.txt").string(), out.string(),
                    test::models_dir().string()));
  };
  // A store killed while writing its first meta.json: its lock and a temporary file.
  fs::create_directories(dir / "store");
  std::ofstream(dir / "store" / ".lock") << "12345";
  std::ofstream(dir / "store" / "meta.json.tmp12345-0") << "{\"amva_ver";
  auto [rc, out] = extract(dir / "store");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_FALSE(fs::exists(dir / "store" / "meta.json.tmp12345-0"));
  EXPECT_EQ(store::read_store(dir / "store").table.records.size(), 3u);
  // Another process creating the same store holds its lock: "in use", not "not an amva store".
  {
    fs::create_directories(dir / "racing");
    const store::StoreLock other(dir / "racing");
    std::tie(rc, out) = extract(dir / "racing");
    EXPECT_EQ(rc, 2) << out;
    EXPECT_NE(out.find("store in use by process"), std::string::npos) << out;
  }
  std::tie(rc, out) = extract(dir / "racing");
  EXPECT_EQ(rc, 0) << out;
  // An output folder whose claim was killed while writing its marker.
  fs::create_directories(dir / "analysis");
  std::ofstream(dir / "analysis" / ".amva-output.tmp12345-0") << "This folder";
  std::tie(rc, out) =
      test::run(fmt::format("{} analyze --store {} --out {} --bootstrap 0 --permutations 99 --null-controls 0 "
                            "--no-figures --methods sharpness --group top:50",
                            test::cli().string(), (dir / "store").string(), (dir / "analysis").string()));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(fs::exists(dir / "analysis" / "summary.json"));
}

// merge and import write a new store as one unit: a kill or a full disk at the last step
// leaves no part of a store at --out, and the same command then succeeds.
TEST(StoreFaults, MergeAndImportLeaveNoPartOfAStore) {
  test::TempDir dir;
  make_lists(dir);
  auto [rc, out] = extract_first(dir, dir / "a");
  ASSERT_EQ(rc, 0) << out;
  std::vector<float> maps(3 * 7 * 7, 0.5f);
  for (std::size_t i = 0; i < maps.size(); ++i) maps[i] += static_cast<float>(i % 7) * 0.01f;
  io::write_npy(dir / "maps.npy", {3, 7, 7}, maps.data());
  std::ofstream(dir / "maps.txt") << "x.png\ny.png\nz.png\n";
  const std::vector<std::pair<std::string, std::string>> commands = {
      {"merge", fmt::format("merge {} --out {}", (dir / "a").string(), (dir / "merged").string())},
      {"import", fmt::format("import --maps {} --list {} --cam gradcam --out {}", (dir / "maps.npy").string(),
                             (dir / "maps.txt").string(), (dir / "imported").string())}};
  for (const auto& [name, args] : commands) {
    const auto target = dir / (name == "merge" ? "merged" : "imported");
    for (const std::string kind : {"kill", "enospc"}) {
      std::tie(rc, out) = test::run(
          fmt::format("AMVA_FAULT_NEW_STORE_STEP=1 AMVA_FAULT_KIND={} {} {}", kind, test::cli().string(), args));
      EXPECT_NE(rc, 0) << name << " " << kind << ": the fault fired\n" << out;
      EXPECT_FALSE(fs::exists(target)) << name << " " << kind;
    }
    std::tie(rc, out) = test::run(fmt::format("{} {}", test::cli().string(), args));
    EXPECT_EQ(rc, 0) << name << "\n" << out;
    EXPECT_EQ(store::read_store(target).table.records.size(), 3u) << name;
    EXPECT_FALSE(fs::exists(dir / ("." + target.filename().string() + ".amva-partial"))) << name;
  }
}

// quality.csv's temporary file of a killed run is removed by the next run (it stayed for good).
TEST(StoreFaults, AKilledQualityWriteLeavesNoTemporaryFile) {
  test::TempDir dir;
  make_lists(dir);
  auto [rc, out] = extract_first(dir, dir / "store");
  ASSERT_EQ(rc, 0) << out;
  std::ofstream(dir / "store" / "quality.csv.tmp12345-0") << "id,path,shar";
  std::tie(rc, out) =
      test::run(fmt::format("{} quality --store {} --methods sharpness --models {}", test::cli().string(),
                            (dir / "store").string(), test::models_dir().string()));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_FALSE(fs::exists(dir / "store" / "quality.csv.tmp12345-0"));
  EXPECT_TRUE(fs::exists(dir / "store" / "quality.csv"));
}
