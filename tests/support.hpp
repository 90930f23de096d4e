#pragma once
// Paths and helpers shared by the tests.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>

#include "amva/error.hpp"
#include "amva/face/alignment.hpp"
#include "amva/face/detector.hpp"
#include "amva/model/model_card.hpp"

namespace amva::test {
namespace fs = std::filesystem;

/// Whether this executable runs under AddressSanitizer (scripts/sanitize.sh), where every amva
/// process costs two to three times as much: a test that repeats one fault at every step of a
/// write takes a sample of the steps there, and every step in the Release pass.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

/// Whether a test that injects a fault at each step k = 1, 2, ... of a write tries step k: every
/// step, but under the sanitizers the first three and every third after them.
inline bool fault_step_sampled(int k) {
  return !kSanitized || k <= 3 || k % 3 == 0;
}

inline fs::path models_dir() {
  return AMVA_TEST_MODELS_DIR;
}
inline fs::path cards_dir() {
  return AMVA_TEST_CARDS_DIR;
}
inline fs::path sources_dir() {
  return AMVA_TEST_SOURCES_DIR;
}
inline fs::path shared_dir() {
  return AMVA_TEST_SHARED_DIR;
}
inline fs::path cli() {
  return AMVA_TEST_CLI;
}
inline const char* python() {
  return AMVA_TEST_PYTHON;
}

inline model::ModelCard card(const std::string& name = "default") {
  return model::ModelCard::load(cards_dir() / (name + ".json"),
                                name == "default" ? models_dir() : shared_dir() / "models");
}

inline face::DetectorConfig default_detector() {
  face::DetectorConfig d;
  d.detector_model = models_dir() / "fr_detect.onnx";
  d.landmark_model = models_dir() / "fr_landmark.onnx";
  return d;
}

/// Distance between the mean aligned position of each of the 5 points and its template
/// position, over many faces: the alignment's systematic offset per point.
inline std::array<double, 5> mean_template_offsets(const std::vector<face::Landmarks5>& detected) {
  std::array<cv::Point2d, 5> sum{};
  for (const auto& lm : detected) {
    const auto aligned = face::aligned_landmarks(lm);
    for (int k = 0; k < 5; ++k) sum[k] += cv::Point2d(aligned[k]);
  }
  std::array<double, 5> offsets{};
  for (int k = 0; k < 5; ++k) {
    offsets[k] = cv::norm(sum[k] / static_cast<double>(detected.size()) - cv::Point2d(face::arcface_template()[k]));
  }
  return offsets;
}

/// A JSON file as written by amva (summary.json, edc.json, explain.json).
inline nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

/// A fresh, empty folder removed when the test ends.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("amva-test-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

/// Runs a shell command, returns its exit status and output (stdout and stderr).
inline std::pair<int, std::string> run(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  char buf[4096];
  while (pipe && fgets(buf, sizeof buf, pipe)) output += buf;
  const int status = pipe ? pclose(pipe) : -1;
  return {WEXITSTATUS(status), output};
}

/// A folder that `build` fills once for every test process of this build tree, instead of
/// once per process (CTest runs each test case as its own process, so a suite's set-up would
/// otherwise run once per case). The first process builds it under a lock while the others
/// wait; later ones reuse it while the programs that made it are unchanged (amva, whose
/// build follows every library change, and, `by_this_executable`, the test executable whose
/// code builds it), and rebuild it when one was rebuilt. `build` must leave the folder
/// complete or throw; a failed build leaves nothing to reuse.
inline fs::path shared_fixture(const std::string& name, const std::function<void(const fs::path&)>& build,
                               bool by_this_executable = true) {
  const fs::path root = AMVA_TEST_FIXTURES_DIR;
  fs::create_directories(root);
  const fs::path dir = root / name;
  const auto stamp = [](const fs::path& file) {
    return fmt::format("{}:{}:{}", file.string(), fs::file_size(file),
                       fs::last_write_time(file).time_since_epoch().count());
  };
  std::string key = stamp(cli()) + "\n";
  if (by_this_executable) key += stamp(fs::read_symlink("/proc/self/exe")) + "\n";
  const int fd = ::open((root / (name + ".lock")).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || ::flock(fd, LOCK_EX) != 0) throw std::runtime_error("cannot lock the fixture " + name);
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }
  } unlock{fd};
  const fs::path key_file = dir / ".fixture-key";
  std::string found;
  if (std::ifstream in{key_file}) found.assign(std::istreambuf_iterator<char>(in), {});
  if (found != key) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    build(dir);
    std::ofstream(key_file) << key;
  }
  return dir;
}

/// The Jacobian cache the tests share (amva caches J by model sha256): the head is probed
/// once per build of amva instead of once per test process; every test executable uses the
/// same one. Tests of the cache itself use their own.
inline fs::path jacobian_cache() {
  return shared_fixture(
      "jacobian-cache", [](const fs::path&) {}, false);
}

/// An amva command line with the tests' models and shared Jacobian cache.
inline std::string amva_cmd(const std::string& args) {
  return fmt::format("AMVA_CACHE={} {} {} --models {}", jacobian_cache().string(), cli().string(), args,
                     models_dir().string());
}

}  // namespace amva::test

#define AMVA_REQUIRE_SHARED()                                                                        \
  do {                                                                                               \
    if (!std::filesystem::exists(amva::test::shared_dir() / "data" / "lfw")) {                       \
      GTEST_SKIP() << "../shared/data/lfw is absent (shared research data is not part of the repo)"; \
    }                                                                                                \
  } while (0)
