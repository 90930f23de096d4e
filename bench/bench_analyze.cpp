// Memory and time of `amva analyze` as the store grows: synthetic stores of 10,000, 100,000 and
// 1,000,000 faces (7x7 maps, four FIQA score columns; tests/synthetic_store.hpp), each
// analysed by the real CLI in a child process with the default settings and --no-figures
// (figures are drawn by a separate Python process whose cost does not grow with the store).
// Reported: wall_s and peak_rss_MiB of the child (getrusage of that child alone, via wait4).
// Stores are written under $AMVA_BENCH_TMP (default /tmp) and removed afterwards.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "synthetic_store.hpp"

extern char** environ;

namespace {
namespace fs = std::filesystem;

struct ChildUsage {
  int status = -1;
  double wall_s = 0;
  double peak_rss_mib = 0;
};

ChildUsage run_child(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  ChildUsage u;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return u;
  rusage usage{};
  wait4(pid, &u.status, 0, &usage);
  u.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  u.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
  return u;
}

void Analyze(benchmark::State& state) {
  const auto faces = static_cast<std::size_t>(state.range(0));
  const char* tmp = std::getenv("AMVA_BENCH_TMP");
  const fs::path dir = fs::path(tmp ? tmp : "/tmp") / fmt::format("amva-bench-analyze-{}", faces);
  fs::remove_all(dir);
  amva::test::write_synthetic_store(dir / "store", {.faces = faces, .failed = faces / 100, .methods = 4});
  ChildUsage u;
  for (auto _ : state) {
    u = run_child({AMVA_BENCH_CLI, "analyze", "--store", (dir / "store").string(), "--out", (dir / "out").string(),
                   "--no-figures"});
    state.SetIterationTime(u.wall_s);
  }
  fs::remove_all(dir);
  if (u.status != 0) state.SkipWithError("amva analyze failed");
  state.counters["faces"] = static_cast<double>(faces);
  state.counters["wall_s"] = u.wall_s;
  state.counters["peak_rss_MiB"] = u.peak_rss_mib;
}
BENCHMARK(Analyze)->Arg(10'000)->Arg(100'000)->Arg(1'000'000)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

}  // namespace
