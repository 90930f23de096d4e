// The store's promise under faults (issue 11, items 1-2): a kill or a full disk at any step of
// a commit leaves a store that the same command completes, equal to an uninterrupted run; one
// writer at a time.
#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
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
