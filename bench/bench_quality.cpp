// SER-FIQ cost per face (issue 16): the measure as amva computes it (on the default model, whose
// J factors by channel: 100 x C sums of kept positions, then one 100 x C times C x D product),
// against two references kept here only: all 100 dropout passes as one dense product (100 x
// C*h*w times J^T through OpenBLAS, amva's path for heads that do not factor), and the per-pass
// loop that the SER-FIQ method describes (100 matrix-vector products J (m_t * a) + b). All give
// the same score (checked before timing, within 1e-6). Faces: the
// default source photos resized to the model's input (the cost does not depend on content).
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <fmt/format.h>

#include <Eigen/Dense>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <random>

#include "amva/io/image_io.hpp"
#include "amva/io/image_list.hpp"
#include "amva/model/affine_head.hpp"
#include "amva/model/face_recognizer.hpp"
#include "amva/model/layer_probe.hpp"
#include "amva/quality/quality_measure.hpp"

namespace {
using namespace amva;
namespace fs = std::filesystem;

struct Setup {
  std::shared_ptr<const model::AffineHead> head;
  std::vector<cv::Mat> activations;  // one per face, C x h x w
  std::vector<std::vector<float>> embeddings;
};

const Setup& setup() {
  static const Setup s = [] {
    Setup out;
    const auto card = model::ModelCard::load(fs::path(AMVA_BENCH_CARDS_DIR) / "default.json", AMVA_BENCH_MODELS_DIR);
    auto rec = model::FaceRecognizer::create(card);
    const auto target = model::probe_target_layer(*rec);
    const auto& layer = target.name;
    for (const auto& e : io::list_images(AMVA_BENCH_SOURCES_DIR)) {
      cv::Mat face;
      cv::resize(io::load_bgr(e.file), face, cv::Size(card.input_width, card.input_height));
      const auto r = rec->forward({face}, {layer});
      out.activations.push_back(r.activations.front().clone());
      const float* emb = r.embeddings.ptr<float>(0);
      out.embeddings.emplace_back(emb, emb + r.embeddings.cols);
    }
    out.head = model::head_after(*rec, target, model::default_cache_dir());
    return out;
  }();
  return s;
}

// The per-pass loop: each dropout pass is a separate product J (m_t * a) / (1 - p) + b, with
// the measure's own masks (same seed, same order).
constexpr int kPasses = 100;
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

const RowMajor& masks_for(int k) {
  static const RowMajor masks = [k] {
    std::mt19937 rng(29794);
    std::bernoulli_distribution keep(0.5);
    RowMajor m(kPasses, k);
    for (int s = 0; s < kPasses; ++s)
      for (int i = 0; i < k; ++i) m(s, i) = keep(rng) ? 1.f : 0.f;
    return m;
  }();
  return masks;
}

double score_of_passes(RowMajor& e) {
  e.rowwise().normalize();
  double total = 0;
  for (int s = 0; s < kPasses; ++s)
    for (int t = s + 1; t < kPasses; ++t) total += (e.row(s) - e.row(t)).norm();
  return 2.0 / (1.0 + std::exp(total / (kPasses * (kPasses - 1) / 2.0)));
}

// The dense product: every pass's masked activations times J^T in one call.
double serfiq_dense_product(const model::AffineHead& head, const float* activations) {
  const int k = head.shape().inputs();
  const int d = head.shape().embedding;
  openblas_set_num_threads(1);  // as the measure: one thread per face
  RowMajor x = masks_for(k);
  x.array().rowwise() *= Eigen::Map<const Eigen::RowVectorXf>(activations, k).array() * 2.f;
  RowMajor e(kPasses, d);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kPasses, d, k, 1.f, x.data(), k, head.jacobian().data(), k, 0.f,
              e.data(), d);
  e.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(head.bias().data(), d);
  return score_of_passes(e);
}

double serfiq_per_pass(const model::AffineHead& head, const float* activations) {
  const int k = head.shape().inputs();
  const int d = head.shape().embedding;
  const RowMajor& masks = masks_for(k);
  std::vector<Eigen::VectorXf> e(kPasses, Eigen::VectorXf(d));
  std::vector<float> x(static_cast<std::size_t>(k));
  for (int s = 0; s < kPasses; ++s) {
    for (int i = 0; i < k; ++i) x[static_cast<std::size_t>(i)] = masks(s, i) * activations[i] * 2.f;
    head.apply(x.data(), e[static_cast<std::size_t>(s)].data());
    e[static_cast<std::size_t>(s)].normalize();
  }
  double total = 0;
  for (int s = 0; s < kPasses; ++s)
    for (int t = s + 1; t < kPasses; ++t) total += (e[s] - e[t]).norm();
  return 2.0 / (1.0 + std::exp(total / (kPasses * (kPasses - 1) / 2.0)));
}

double serfiq_amva(const quality::QualityMeasure& m, std::size_t face) {
  const auto& s = setup();
  face::FaceContext in;
  in.activations = s.activations[face].ptr<float>();
  in.head = s.head.get();
  in.embedding = s.embeddings[face].data();
  in.shape.embedding = static_cast<int>(s.embeddings[face].size());
  return m.score(in);
}

double serfiq_by(int variant, const quality::QualityMeasure& m, std::size_t face) {
  const auto& s = setup();
  const float* a = s.activations[face].ptr<float>();
  if (variant == 0) return serfiq_amva(m, face);
  return variant == 1 ? serfiq_dense_product(*s.head, a) : serfiq_per_pass(*s.head, a);
}

void BM_SerFiq(benchmark::State& state) {
  const auto& s = setup();
  const auto measure = quality::QualityRegistry::instance().create("serfiq");
  const auto variant = static_cast<int>(state.range(0));
  if (variant == 0 && !s.head->channel_factors()) state.SkipWithError("the default head no longer factors by channel");
  for (std::size_t f = 0; f < s.activations.size(); ++f) {
    const double a = serfiq_by(variant, *measure, f);
    const double b = serfiq_per_pass(*s.head, s.activations[f].ptr<float>());
    if (std::abs(a - b) > 1e-6) state.SkipWithError(fmt::format("face {}: {} vs {}", f, a, b).c_str());
  }
  std::size_t face = 0, faces = 0;
  for (auto _ : state) {
    const double v = serfiq_by(variant, *measure, face);
    benchmark::DoNotOptimize(v);
    face = (face + 1) % s.activations.size();
    ++faces;
  }
  state.counters["faces_per_s"] = benchmark::Counter(static_cast<double>(faces), benchmark::Counter::kIsRate);
  state.SetLabel(variant == 0   ? "through the channel factors (amva)"
                 : variant == 1 ? "one dense product (reference)"
                                : "per-pass loop (reference)");
}
BENCHMARK(BM_SerFiq)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
