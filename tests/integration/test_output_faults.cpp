// Output folders under faults (issue 11, item 6): a command's outputs are staged and moved
// into place as a unit, so a kill or a full disk at any step leaves every reference folder
// whole (all old or all new, never new maps beside an old reference.json), the next run
// completes; a symlink already in the output folder is replaced, never written through.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "amva/io/atomic_file.hpp"
#include "amva/io/folder_lock.hpp"
#include "amva/io/npy.hpp"
#include "amva/io/staged_output.hpp"
#include "support.hpp"
#include "synthetic_store.hpp"

using namespace amva;
namespace fs = std::filesystem;

namespace {
std::pair<int, std::string> analyze(const test::TempDir& dir, const std::string& group, const std::string& env = "") {
  return test::run(fmt::format(
      "{} {} analyze --store {} --out {} --group {} --bootstrap 0 --null-controls 2 --permutations 19 --no-figures",
      env, test::cli().string(), (dir / "store").string(), (dir / "out").string(), group));
}

nlohmann::json read_json(const fs::path& file) {
  return nlohmann::json::parse(io::read_text(file));
}

// Which run made the reference folder: the group rule its reference.json names, and its
// maps must be that run's (compared with a copy of each run's folder).
std::string run_of(const fs::path& ref, const fs::path& first, const fs::path& second) {
  // A kill between moving the old folder aside and the new one in leaves it absent until the
  // next run completes the publication: never half of each.
  if (!fs::exists(ref)) return "absent";
  const auto rule = read_json(ref / "reference.json")["group_rule"].get<std::string>();
  const fs::path& made_by = rule == "top:30" ? first : second;
  for (const char* f : {"mam.npy", "amv.npy", "deviations.csv"}) {
    if (io::read_text(ref / f) != io::read_text(made_by / ref.filename() / f)) return "mixed (" + std::string(f) + ")";
  }
  return rule;
}
}  // namespace

TEST(OutputFaults, AKilledAnalyzeNeverMixesOldAndNewOutputs) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store", {.faces = 120, .failed = 0, .methods = 2});
  ASSERT_EQ(analyze(dir, "top:30").first, 0);
  fs::copy(dir / "out", dir / "first", fs::copy_options::recursive);
  ASSERT_EQ(analyze(dir, "top:10").first, 0);
  fs::copy(dir / "out", dir / "second", fs::copy_options::recursive);

  // Steps at which each fault kind fired: counted per kind, so that a kind whose injection
  // stopped firing fails here instead of hiding behind the other's count.
  std::map<std::string, int> steps_seen;
  for (const std::string kind : {"kill", "enospc"}) {
    for (int k = 1; k < 40; ++k) {
      if (!test::fault_step_sampled(k)) continue;
      fs::remove_all(dir / "out");
      fs::copy(dir / "first", dir / "out", fs::copy_options::recursive);
      const auto [rc, out] =
          analyze(dir, "top:10", fmt::format("AMVA_FAULT_PUBLISH_STEP={} AMVA_FAULT_KIND={}", k, kind));
      if (rc == 0) break;  // k is past the last step
      steps_seen[kind] = std::max(steps_seen[kind], k);
      for (const char* method : {"reference_m0", "reference_m1"}) {
        const auto state = run_of(dir / "out" / method, dir / "first", dir / "second");
        EXPECT_TRUE(state == "top:30" || state == "top:10" || (state == "absent" && kind == "kill"))
            << kind << " step " << k << ": " << method << " " << state;
      }
      // The next run completes: its outputs are exactly an uninterrupted run's.
      const auto [rc2, out2] = analyze(dir, "top:10");
      ASSERT_EQ(rc2, 0) << out2;
      for (const char* method : {"reference_m0", "reference_m1"}) {
        EXPECT_EQ(run_of(dir / "out" / method, dir / "first", dir / "second"), "top:10") << kind << " step " << k;
      }
      EXPECT_EQ(read_json(dir / "out" / "summary.json")["settings"],
                read_json(dir / "second" / "summary.json")["settings"]);
      EXPECT_FALSE(fs::exists(dir / "out" / io::kStagingName)) << kind << " step " << k;
    }
  }
  for (const std::string kind : {"kill", "enospc"}) {
    EXPECT_GE(steps_seen[kind], 5) << kind << ": the publication has a step per output entry";
  }
}

TEST(OutputFaults, SymlinksInTheOutputFolderAreReplacedNotFollowed) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store", {.faces = 60, .failed = 0, .methods = 1});
  ASSERT_EQ(analyze(dir, "top:30").first, 0);
  // Links planted where outputs go: a file and a folder outside --out.
  fs::create_directories(dir / "outside" / "folder");
  std::ofstream(dir / "outside" / "victim.csv") << "keep me\n";
  std::ofstream(dir / "outside" / "folder" / "mam.npy") << "keep me too\n";
  fs::remove(dir / "out" / "groups.csv");
  fs::create_symlink(dir / "outside" / "victim.csv", dir / "out" / "groups.csv");
  fs::remove_all(dir / "out" / "reference_m0");
  fs::create_directory_symlink(dir / "outside" / "folder", dir / "out" / "reference_m0");
  const auto [rc, out] = analyze(dir, "top:30");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(io::read_text(dir / "outside" / "victim.csv"), "keep me\n");
  EXPECT_EQ(io::read_text(dir / "outside" / "folder" / "mam.npy"), "keep me too\n");
  EXPECT_EQ(fs::directory_iterator(dir / "outside" / "folder")->path().filename(), "mam.npy");
  EXPECT_FALSE(fs::is_symlink(dir / "out" / "groups.csv"));
  EXPECT_FALSE(fs::is_symlink(dir / "out" / "reference_m0"));
  EXPECT_TRUE(fs::exists(dir / "out" / "reference_m0" / "reference.json"));
}

TEST(OutputFaults, AFailedRunLeavesThePreviousOutputsAsTheyWere) {
  test::TempDir dir;
  {
    io::StagedOutput staged(dir / "out", false);
    std::ofstream(staged.dir() / "a.txt") << "first\n";
    staged.publish();
  }
  EXPECT_EQ(io::read_text(dir / "out" / "a.txt"), "first\n");
  {
    io::StagedOutput staged(dir / "out", false);
    std::ofstream(staged.dir() / "a.txt") << "second\n";
    // no publish: the run failed
  }
  EXPECT_EQ(io::read_text(dir / "out" / "a.txt"), "first\n");
  EXPECT_FALSE(fs::exists(dir / "out" / io::kStagingName));
}

// One writer per output folder (issue 34, item 2): while one command writes into --out, a
// second is refused naming the first's process, and leaves the folder as it was. (Two analyze
// runs at once ended with the first printing top:10 results the folder no longer held.)
TEST(OutputFaults, ASecondWriterOfAnOutputFolderIsRefused) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "store", {.faces = 60, .failed = 0, .methods = 1});
  ASSERT_EQ(analyze(dir, "top:30").first, 0);
  const auto before = io::read_text(dir / "out" / "summary.json");
  {
    const io::FolderLock held(dir / "out", "output folder");  // as a running command holds it
    const auto [rc, out] = analyze(dir, "top:10");
    EXPECT_EQ(rc, 2) << out;
    EXPECT_NE(out.find(fmt::format("output folder in use by process {}", ::getpid())), std::string::npos) << out;
    EXPECT_EQ(io::read_text(dir / "out" / "summary.json"), before);
    const auto [rc_run, out_run] =
        test::run(fmt::format("{} run --images {} --out {} --models {}", test::cli().string(),
                              test::sources_dir().string(), (dir / "out").string(), test::models_dir().string()));
    EXPECT_EQ(rc_run, 2) << out_run;
    EXPECT_NE(out_run.find("in use by process"), std::string::npos) << out_run;
  }
  // Once the first ends (however it ends), the folder is free again.
  EXPECT_EQ(analyze(dir, "top:10").first, 0);
}
