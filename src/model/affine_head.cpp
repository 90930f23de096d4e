#include "amva/model/affine_head.hpp"

#include <fmt/format.h>

#include <Eigen/Core>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <opencv2/dnn.hpp>
#include <random>

#include "amva/error.hpp"
#include "amva/io/npy.hpp"
#include "amva/model/onnx_graph.hpp"

namespace amva::model {
namespace fs = std::filesystem;

namespace {
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr int kProbeBatch = 256;

std::string sanitize(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}
}  // namespace

// cv::dnn::Net::forward is not const; one mutex keeps the shared head usable from workers.
struct AffineHead::Net {
  cv::dnn::Net net;
  std::string input;
  std::string output;
  std::mutex mutex;
};

AffineHead::AffineHead(HeadShape shape, std::string layer, const std::string& onnx_bytes,
                       const std::vector<std::string>& output_candidates)
    : shape_(shape), layer_(std::move(layer)), net_(std::make_unique<Net>()) {
  try {
    net_->net = cv::dnn::readNetFromONNX(onnx_bytes.data(), onnx_bytes.size());
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::Model, fmt::format("cannot load the head after '{}' ({})", layer_, e.err));
  }
  net_->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net_->input = layer_;
  for (const auto& name : output_candidates) {
    if (net_->net.getLayerId(name) >= 0) {
      net_->output = name;
      break;
    }
  }
  if (net_->output.empty())
    throw Error(ErrorCode::Model, fmt::format("head after '{}' has no embedding layer", layer_));
}

AffineHead::~AffineHead() = default;

cv::Mat AffineHead::run_network(const cv::Mat& activations) const {
  std::lock_guard lock(net_->mutex);
  net_->net.setInput(activations, net_->input);
  const cv::Mat out = net_->net.forward(net_->output);
  return out.reshape(1, activations.size[0]).clone();
}

// Column i of J is (head(s e_i) - head(-s e_i)) / 2s. The symmetric difference cancels the
// bias exactly instead of subtracting it from a value that holds it (float32 cancellation
// cost 1e-2 of reconstruction error on the MobileFaceNets with plain basis vectors); the
// head is affine, so the result is exact up to rounding for any scale s.
void AffineHead::probe() {
  constexpr float kScale = 64.f;
  const int k = shape_.inputs();
  const int d = shape_.embedding;
  const std::vector<int> zero_dims{1, shape_.channels, shape_.height, shape_.width};
  const cv::Mat b = run_network(cv::Mat(zero_dims, CV_32F, cv::Scalar(0)));
  bias_.assign(b.ptr<float>(), b.ptr<float>() + d);
  jacobian_.assign(static_cast<std::size_t>(d) * k, 0.f);
  for (int first = 0; first < k; first += kProbeBatch) {
    const int n = std::min(kProbeBatch, k - first);
    cv::Mat basis(std::vector<int>{2 * n, shape_.channels, shape_.height, shape_.width}, CV_32F, cv::Scalar(0));
    for (int i = 0; i < n; ++i) {
      basis.ptr<float>()[static_cast<std::size_t>(i) * k + first + i] = kScale;
      basis.ptr<float>()[static_cast<std::size_t>(n + i) * k + first + i] = -kScale;
    }
    const cv::Mat out = run_network(basis);
    for (int i = 0; i < n; ++i) {
      const float* plus = out.ptr<float>(i);
      const float* minus = out.ptr<float>(n + i);
      for (int r = 0; r < d; ++r) {
        jacobian_[static_cast<std::size_t>(r) * k + first + i] = (plus[r] - minus[r]) / (2 * kScale);
      }
    }
  }
}

// Random inputs on the activations' own scale (PReLU/ReLU outputs: mostly 0..3), with some
// negatives so that a hidden ReLU in the head would show.
void AffineHead::check_affinity() {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> uniform(-1.f, 3.f);
  const int n = 4;
  const int k = shape_.inputs();
  cv::Mat x(std::vector<int>{n, shape_.channels, shape_.height, shape_.width}, CV_32F);
  for (std::size_t i = 0; i < x.total(); ++i) x.ptr<float>()[i] = uniform(rng);
  const cv::Mat head = run_network(x);
  std::vector<float> predicted(static_cast<std::size_t>(shape_.embedding));
  double worst = 0;
  for (int i = 0; i < n; ++i) {
    apply(x.ptr<float>() + static_cast<std::size_t>(i) * k, predicted.data());
    double err = 0, scale = 0;
    for (int r = 0; r < shape_.embedding; ++r) {
      err = std::max(err, std::abs(double(head.at<float>(i, r)) - predicted[r]));
      scale = std::max(scale, std::abs(double(head.at<float>(i, r))));
    }
    worst = std::max(worst, err / (1.0 + scale));
  }
  affinity_error_ = worst;
}

void AffineHead::apply(const float* activations, float* embedding) const {
  const Eigen::Map<const RowMajor> j(jacobian_.data(), shape_.embedding, shape_.inputs());
  Eigen::Map<Eigen::VectorXf> e(embedding, shape_.embedding);
  e = j * Eigen::Map<const Eigen::VectorXf>(activations, shape_.inputs()) +
      Eigen::Map<const Eigen::VectorXf>(bias_.data(), shape_.embedding);
}

void AffineHead::transpose_apply(const float* v, float* gradient) const {
  const Eigen::Map<const RowMajor> j(jacobian_.data(), shape_.embedding, shape_.inputs());
  Eigen::Map<Eigen::VectorXf>(gradient, shape_.inputs()) =
      j.transpose() * Eigen::Map<const Eigen::VectorXf>(v, shape_.embedding);
}

void AffineHead::transpose_apply_batch(const float* v, int n, float* gradients) const {
  const Eigen::Map<const RowMajor> j(jacobian_.data(), shape_.embedding, shape_.inputs());
  const Eigen::Map<const RowMajor> vm(v, n, shape_.embedding);
  Eigen::Map<RowMajor>(gradients, n, shape_.inputs()).noalias() = vm * j;
}

void AffineHead::channel_sums_of_transpose_apply(const float* v, int n, float* sums) const {
  const int d_count = shape_.embedding, c_count = shape_.channels, p_count = shape_.positions();
  const auto k = static_cast<std::size_t>(shape_.inputs());
  std::call_once(summed_, [&] {
    summed_jacobian_.assign(static_cast<std::size_t>(d_count) * c_count, 0.0);
    for (int d = 0; d < d_count; ++d) {
      for (int c = 0; c < c_count; ++c) {
        const float* block = jacobian_.data() + static_cast<std::size_t>(d) * k + static_cast<std::size_t>(c) * p_count;
        double s = 0;
        for (int p = 0; p < p_count; ++p) s += block[p];
        summed_jacobian_[static_cast<std::size_t>(d) * c_count + c] = s;
      }
    }
  });
  // Row by row of the summed Jacobian, so that the loop over channels vectorises while each
  // channel's sum still adds its terms in the order of d.
  std::vector<double> acc(static_cast<std::size_t>(c_count));
  for (int i = 0; i < n; ++i) {
    std::fill(acc.begin(), acc.end(), 0.0);
    const float* vi = v + static_cast<std::size_t>(i) * d_count;
    for (int d = 0; d < d_count; ++d) {
      const double vd = vi[d];
      const double* row = summed_jacobian_.data() + static_cast<std::size_t>(d) * c_count;
      for (int c = 0; c < c_count; ++c) acc[c] += row[c] * vd;
    }
    float* out = sums + static_cast<std::size_t>(i) * c_count;
    for (int c = 0; c < c_count; ++c) out[c] = static_cast<float>(acc[c]);
  }
}

const ChannelFactors* AffineHead::channel_factors() const {
  std::call_once(factored_, [this] { factors_ = factor_by_channel(jacobian_, shape_); });
  return factors_ ? &*factors_ : nullptr;
}

std::shared_ptr<const AffineHead> AffineHead::extract(const ModelCard& card, const std::string& model_sha256,
                                                      const std::string& layer, const HeadShape& shape,
                                                      const fs::path& cache_dir) {
  const OnnxGraph graph = OnnxGraph::load(card.file);
  const std::string embedding = graph.skip_reshapes(card.embedding_output);
  if (auto node = graph.first_non_affine(layer, embedding)) {
    throw Error(ErrorCode::Model,
                fmt::format("{}: the head after '{}' is not affine: node '{}' ({}) is not; gradient methods and "
                            "'contribution' need an affine head, use --cam scorecam or a later --layer",
                            card.file.string(), layer, node->name, node->op_type));
  }
  const auto bytes = graph.head_model(layer, {shape.channels, shape.height, shape.width}, embedding);
  auto head = std::make_shared<AffineHead>(shape, layer, bytes, graph.opencv_layer_candidates(embedding));

  const fs::path cached = cache_dir / fmt::format("head-{}-{}.npy", model_sha256, sanitize(layer));
  if (!cache_dir.empty() && fs::exists(cached)) {
    io::NpyArray a = io::read_npy(cached);
    if (a.shape == std::vector<std::int64_t>{shape.embedding, shape.inputs() + 1}) {
      // [J | b] becomes J where it lies: each row moves left by its row number, past the
      // biases already read, so that a second 51 MB is never allocated at every start.
      const auto k = static_cast<std::size_t>(shape.inputs());
      head->bias_.resize(static_cast<std::size_t>(shape.embedding));
      for (std::size_t r = 0; r < head->bias_.size(); ++r) {
        head->bias_[r] = a.data[r * (k + 1) + k];
        const auto row = a.data.begin() + static_cast<std::ptrdiff_t>(r * (k + 1));
        if (r > 0)
          std::copy(row, row + static_cast<std::ptrdiff_t>(k), a.data.begin() + static_cast<std::ptrdiff_t>(r * k));
      }
      a.data.resize(static_cast<std::size_t>(shape.embedding) * k);
      head->jacobian_ = std::move(a.data);
    }
  }
  if (head->jacobian_.empty()) {
    head->probe();
    if (!cache_dir.empty()) {
      fs::create_directories(cache_dir);
      const auto k = static_cast<std::size_t>(shape.inputs());
      std::vector<float> packed(static_cast<std::size_t>(shape.embedding) * (k + 1));  // [J | b]
      for (std::size_t r = 0; r < head->bias_.size(); ++r) {
        std::copy_n(head->jacobian_.begin() + static_cast<std::ptrdiff_t>(r * k), k,
                    packed.begin() + static_cast<std::ptrdiff_t>(r * (k + 1)));
        packed[r * (k + 1) + k] = head->bias_[r];
      }
      io::write_npy(cached, {shape.embedding, shape.inputs() + 1}, packed.data());
    }
  }
  head->check_affinity();
  if (head->affinity_error_ > kAffinityTolerance) {
    throw Error(ErrorCode::Model,
                fmt::format("{}: the head after '{}' is not affine on random inputs (relative error {:.2e} > {:.0e}); "
                            "use --cam scorecam",
                            card.file.string(), layer, head->affinity_error_, kAffinityTolerance));
  }
  return head;
}

fs::path default_cache_dir() {
  if (const char* env = std::getenv("AMVA_CACHE")) return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME")) return fs::path(xdg) / "amva";
  if (const char* home = std::getenv("HOME")) return fs::path(home) / ".cache" / "amva";
  return fs::temp_directory_path() / "amva-cache";
}

}  // namespace amva::model
