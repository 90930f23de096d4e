// Measures computed from the face recognition model's own output.
#include <cblas.h>
#include <fmt/format.h>

#include <Eigen/Core>
#include <cmath>
#include <mutex>
#include <random>

#include "amva/error.hpp"
#include "measures.hpp"

namespace amva::quality {
namespace {

class Magnitude final : public QualityMeasure {
 public:
  [[nodiscard]] std::string name() const override { return "magnitude"; }
  [[nodiscard]] bool uses_model() const override { return true; }
  [[nodiscard]] std::string description() const override {
    return "norm of the unnormalised embedding (MagFace's quality); higher is better for magnitude-aware models; >= 0";
  }
  [[nodiscard]] double score(const face::FaceContext& in) const override {
    if (!in.embedding) throw Error(ErrorCode::InvalidArgument, "magnitude needs the embedding");
    return Eigen::Map<const Eigen::VectorXf>(in.embedding, in.shape.embedding).cast<double>().norm();
  }
};

// SER-FIQ on the affine head: T = 100 dropout masks (p = 0.5, kept units scaled by 2) on the
// target-layer activations, e_t = J (m_t * A) / (1 - p) + b; the score is
// 2 / (1 + exp(mean pairwise Euclidean distance of the L2-normalised e_t)), in (0, 1],
// higher is better. The masks come from a fixed seed, the same for every image, so two runs
// and two images see the same dropout pattern. When J factors by channel (channel_factors.hpp)
// the passes go through the factors, about 45 times fewer multiplications for the same scores.
class SerFiq final : public QualityMeasure {
 public:
  static constexpr int kPasses = 100;
  static constexpr double kDropout = 0.5;
  static constexpr unsigned kSeed = 29794;

  [[nodiscard]] std::string name() const override { return "serfiq"; }
  [[nodiscard]] std::string description() const override {
    return fmt::format(
        "SER-FIQ: {} dropout passes (p = {}, seed {}) on the target-layer activations through the "
        "affine head; 2 / (1 + exp(mean pairwise distance)); higher is better; (0, 1]",
        kPasses, kDropout, kSeed);
  }
  [[nodiscard]] bool needs_activations() const override { return true; }
  [[nodiscard]] double score(const face::FaceContext& in) const override {
    if (!in.activations || !in.head) throw Error(ErrorCode::InvalidArgument, "serfiq needs activations and the head");
    const int d = in.head->shape().embedding;
    const auto& masks = dropout_masks(in.head->shape().inputs());
    RowMajor e(kPasses, d);
    if (const auto* factors = in.head->channel_factors()) {
      passes_through_factors(*factors, masks, in.activations, e);
    } else {
      passes_through_jacobian(*in.head, masks, in.activations, e);
    }
    e.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(in.head->bias().data(), d);
    e.rowwise().normalize();
    double total = 0;
    for (int s = 0; s < kPasses; ++s)
      for (int t = s + 1; t < kPasses; ++t) total += (e.row(s) - e.row(t)).norm();
    const double mean = total / (kPasses * (kPasses - 1) / 2.0);
    return 2.0 / (1.0 + std::exp(mean));
  }

 private:
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  static constexpr float kKeptScale = static_cast<float>(1.0 / (1.0 - kDropout));

  // e_t = J (m_t * a) / (1 - p) for every pass at once: 100 x C*h*w times J^T.
  static void passes_through_jacobian(const model::AffineHead& head, const RowMajor& masks, const float* activations,
                                      RowMajor& e) {
    const int k = head.shape().inputs();
    const int d = head.shape().embedding;
    RowMajor x = masks;
    x.array().rowwise() *= Eigen::Map<const Eigen::RowVectorXf>(activations, k).array() * kKeptScale;
    single_threaded_blas();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kPasses, d, k, 1.f, x.data(), k, head.jacobian().data(), k,
                0.f, e.data(), d);
  }

  // The same through J = U diag-blocks(s_c): each pass first reduces every channel's kept
  // positions with its weights s_c (100 x C sums), then one 100 x C times C x D product.
  static void passes_through_factors(const model::ChannelFactors& f, const RowMajor& masks, const float* activations,
                                     RowMajor& e) {
    const auto k = static_cast<Eigen::Index>(f.channels) * f.positions;
    const Eigen::ArrayXf weighted = Eigen::Map<const Eigen::ArrayXf>(activations, k) *
                                    Eigen::Map<const Eigen::ArrayXf>(f.spatial.data(), k) * kKeptScale;
    // Column c of a P x C view is channel c's positions (index c*P + p).
    const Eigen::Map<const Eigen::ArrayXXf> w(weighted.data(), f.positions, f.channels);
    RowMajor sums(kPasses, f.channels);
    for (int t = 0; t < kPasses; ++t) {
      const Eigen::Map<const Eigen::ArrayXXf> m(masks.row(t).data(), f.positions, f.channels);
      sums.row(t) = (m * w).colwise().sum().matrix();
    }
    single_threaded_blas();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kPasses, f.embedding, f.channels, 1.f, sums.data(), f.channels,
                f.mix.data(), f.channels, 0.f, e.data(), f.embedding);
  }

  // One thread per product: the workers are the parallelism.
  static void single_threaded_blas() {
    static std::once_flag once;
    std::call_once(once, [] { openblas_set_num_threads(1); });
  }

  const RowMajor& dropout_masks(int k) const {
    std::lock_guard lock(mutex_);
    if (masks_.cols() != k) {
      std::mt19937 rng(kSeed);
      std::bernoulli_distribution keep(1.0 - kDropout);
      masks_.resize(kPasses, k);
      for (int s = 0; s < kPasses; ++s)
        for (int i = 0; i < k; ++i) masks_(s, i) = keep(rng) ? 1.f : 0.f;
    }
    return masks_;
  }
  mutable std::mutex mutex_;
  mutable RowMajor masks_;
};

}  // namespace

std::unique_ptr<QualityMeasure> make_magnitude(const PluginConfig& /*config*/) {
  return std::make_unique<Magnitude>();
}
std::unique_ptr<QualityMeasure> make_serfiq(const PluginConfig& /*config*/) {
  return std::make_unique<SerFiq>();
}

}  // namespace amva::quality
