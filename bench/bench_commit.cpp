// The commit as the store grows: the shards of 10,000, 100,000 and 1,000,000 faces (512-d
// embeddings and 7x7 gradcam maps, as extraction writes them, 512 images per shard) folded
// into the store by StoreWriter::finalize, which rank 0 of an MPI job runs alone at the end.
// Reported: the commit's wall time (the shards' writing is not timed) and the store's size.
// Stores are written under $AMVA_BENCH_TMP (default /tmp) and removed afterwards.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "amva/store/store.hpp"

namespace {
namespace fs = std::filesystem;

amva::store::Table shard(std::size_t first, std::size_t rows) {
  amva::store::Table t;
  auto& emb = t.arrays[amva::store::kEmbeddings];
  emb.row_shape = {512};
  emb.data.assign(rows * 512, 0.5f);
  auto& maps = t.arrays[amva::store::maps_array("gradcam")];
  maps.row_shape = {7, 7};
  maps.data.assign(rows * 49, 0.25f);
  for (std::size_t i = 0; i < rows; ++i) {
    amva::store::Record r;
    r.id = static_cast<std::int64_t>(i);
    r.path = fmt::format("person_{:05d}/image_{:07d}.jpg", (first + i) / 7, first + i);
    r.ok = true;
    r.image_width = r.image_height = 250;
    t.records.push_back(r);
  }
  return t;
}

void Commit(benchmark::State& state) {
  const auto faces = static_cast<std::size_t>(state.range(0));
  const char* tmp = std::getenv("AMVA_BENCH_TMP");
  const fs::path dir = fs::path(tmp ? tmp : "/tmp") / fmt::format("amva-bench-commit-{}", faces);
  for (auto _ : state) {
    fs::remove_all(dir);
    auto writer = amva::store::StoreWriter::open(
        dir, amva::store::StoreMeta::from_json({{"settings", {{"model_sha256", "bench"}}}}));
    for (std::size_t first = 0; first < faces; first += 512)
      writer.write_shard(shard(first, std::min<std::size_t>(512, faces - first)));
    const auto start = std::chrono::steady_clock::now();
    const auto content = writer.finalize();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    benchmark::DoNotOptimize(content.table.records.size());
  }
  std::uintmax_t bytes = 0;
  for (const auto& e : fs::directory_iterator(dir)) bytes += e.is_regular_file() ? e.file_size() : 0;
  state.counters["store_MiB"] = static_cast<double>(bytes) / (1024.0 * 1024.0);
  fs::remove_all(dir);
}
BENCHMARK(Commit)->Arg(10'000)->Arg(100'000)->Arg(1'000'000)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

}  // namespace
