#pragma once
// A synthetic store for analysis tests and benchmarks: 7x7 maps whose spread outside the
// centre grows as quality falls (the seed paper's finding, built in), and a quality.csv
// with several FIQA columns. Written directly, without a model, so it can hold a million
// faces.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "amva/io/npy.hpp"
#include "amva/store/record.hpp"

namespace amva::test {

struct SyntheticStoreSpec {
  std::size_t faces = 1000;
  std::size_t failed = 0;  // extra error records without maps or scores
  int methods = 4;         // quality columns m0..m{k-1}: m0 = the true quality, others noisier
  unsigned seed = 7;
  int identities = 997;    // face r belongs to identity r % identities (its folder p<identity>)
  int embedding_size = 0;  // > 0: embeddings.npy, identity centre + noise growing as quality falls
};

/// Writes meta.json, index.csv, maps_gradcam.npy (faces x 7 x 7) and quality.csv into `dir`.
/// Face i has true quality q = i / faces (shuffled order); cells outside the central 3x3
/// block are 0.1 + q-dependent noise of amplitude 0.9 (1 - q), the centre is 0.8 + 0.05 noise.
inline void write_synthetic_store(const std::filesystem::path& dir, const SyntheticStoreSpec& spec) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "meta.json") << R"({"amva_version": "test", "settings": {"model_sha256": "synthetic", )"
                                   << R"("cam": {"layer": "synthetic", "map_shape": [7, 7], )"
                                   << R"("methods": {"gradcam": {"target": "projection"}}}}})";
  const std::size_t rows = spec.faces + spec.failed;
  std::mt19937 rng(spec.seed);
  std::uniform_real_distribution<float> uniform(0.f, 1.f);
  std::normal_distribution<float> noise(0.f, 1.f);
  std::vector<std::size_t> order(spec.faces);
  for (std::size_t i = 0; i < spec.faces; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);

  std::ofstream index(dir / "index.csv");
  std::ofstream quality(dir / "quality.csv");
  index << fmt::format("{}\n", fmt::join(store::index_columns(), ","));
  quality << "id,path";
  for (int m = 0; m < spec.methods; ++m) quality << ",m" << m;
  quality << "\n";
  std::vector<float> maps(rows * 49, 0.f);
  for (std::size_t r = 0; r < rows; ++r) {
    store::Record rec;
    rec.id = static_cast<std::int64_t>(r);
    rec.path = fmt::format("p{:03d}/img_{:07d}.jpg", r % static_cast<std::size_t>(spec.identities), r);
    const bool ok = r < spec.faces;
    rec.ok = ok;
    rec.face = ok ? 0 : -1;
    if (!ok) {
      rec.reason = "no_face";
      rec.error = "no face found";
    }
    index << fmt::format("{}\n", fmt::join(store::to_fields(rec), ","));
    quality << r << "," << rec.path;
    if (!ok) {
      for (int m = 0; m < spec.methods; ++m) quality << ",nan";
      quality << "\n";
      for (int k = 0; k < 49; ++k) maps[r * 49 + static_cast<std::size_t>(k)] = std::nanf("");
      continue;
    }
    const double q = static_cast<double>(order[r]) / static_cast<double>(spec.faces);
    for (int m = 0; m < spec.methods; ++m) quality << fmt::format(",{:.6f}", q + 0.1 * m * noise(rng));
    quality << "\n";
    for (int y = 0; y < 7; ++y) {
      for (int x = 0; x < 7; ++x) {
        const bool centre = y >= 2 && y <= 4 && x >= 2 && x <= 4;
        maps[r * 49 + static_cast<std::size_t>(y * 7 + x)] =
            centre ? 0.8f + 0.05f * noise(rng) : 0.1f + 0.9f * static_cast<float>(1 - q) * uniform(rng);
      }
    }
  }
  io::write_npy(dir / "maps_gradcam.npy", {static_cast<std::int64_t>(rows), 7, 7}, maps.data());
  if (spec.embedding_size > 0) {
    const auto d = static_cast<std::size_t>(spec.embedding_size);
    std::vector<float> centres(static_cast<std::size_t>(spec.identities) * d);
    for (auto& c : centres) c = noise(rng);
    std::vector<float> e(rows * d, std::nanf(""));
    for (std::size_t r = 0; r < spec.faces; ++r) {
      const double q = static_cast<double>(order[r]) / static_cast<double>(spec.faces);
      const float* c = centres.data() + (r % static_cast<std::size_t>(spec.identities)) * d;
      for (std::size_t k = 0; k < d; ++k) e[r * d + k] = c[k] + static_cast<float>(1.5 * (1 - q)) * noise(rng);
    }
    io::write_npy(dir / "embeddings.npy", {static_cast<std::int64_t>(rows), static_cast<std::int64_t>(d)}, e.data());
  }
}

}  // namespace amva::test
