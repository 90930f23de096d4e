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
  [[nodiscard]] std::string description() const override {
    return "norm of the unnormalised embedding (MagFace's quality); higher is better for magnitude-aware models; >= 0";
  }
  [[nodiscard]] double score(const QualityInput& in) const override {
    if (!in.embedding) throw Error(ErrorCode::InvalidArgument, "magnitude needs the embedding");
    return Eigen::Map<const Eigen::VectorXf>(in.embedding, in.embedding_size).cast<double>().norm();
  }
};

// SER-FIQ on the affine head: T = 100 dropout masks (p = 0.5, kept units scaled by 2) on the
// target-layer activations, e_t = J (m_t * A) / (1 - p) + b; the score is
// 2 / (1 + exp(mean pairwise Euclidean distance of the L2-normalised e_t)), in (0, 1],
// higher is better. The masks come from a fixed seed, the same for every image, so two runs
// and two images see the same dropout pattern.
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
  [[nodiscard]] double score(const QualityInput& in) const override {
    if (!in.activations || !in.head) throw Error(ErrorCode::InvalidArgument, "serfiq needs activations and the head");
    const auto& shape = in.head->shape();
    const int k = shape.inputs();
    const int d = shape.embedding;
    const auto& masks = dropout_masks(k);
    using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    RowMajor x = masks;
    const Eigen::Map<const Eigen::RowVectorXf> a(in.activations, k);
    x.array().rowwise() *= a.array() * static_cast<float>(1.0 / (1.0 - kDropout));
    // e = x J^T: 100 x k times k x d, through OpenBLAS (one thread: the workers are the parallelism).
    static std::once_flag single_threaded;
    std::call_once(single_threaded, [] { openblas_set_num_threads(1); });
    RowMajor e(kPasses, d);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kPasses, d, k, 1.f, x.data(), k, in.head->jacobian().data(), k,
                0.f, e.data(), d);
    e.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(in.head->bias().data(), d);
    e.rowwise().normalize();
    double total = 0;
    for (int s = 0; s < kPasses; ++s)
      for (int t = s + 1; t < kPasses; ++t) total += (e.row(s) - e.row(t)).norm();
    const double mean = total / (kPasses * (kPasses - 1) / 2.0);
    return 2.0 / (1.0 + std::exp(mean));
  }

 private:
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>& dropout_masks(int k) const {
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
  mutable Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> masks_;
};

}  // namespace

std::unique_ptr<QualityMeasure> make_magnitude() {
  return std::make_unique<Magnitude>();
}
std::unique_ptr<QualityMeasure> make_serfiq() {
  return std::make_unique<SerFiq>();
}

}  // namespace amva::quality
