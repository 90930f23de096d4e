#pragma once
// The part of a CNN face recognition model after the target layer is affine in CNN FR models
// (batch norm, global depthwise or fully connected layers, batch norm): e = J vec(A) + b.
// AffineHead cuts that head out of the ONNX graph, recovers J and b exactly by probing it
// with basis inputs, checks affinity on random inputs, and caches J by model hash.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "amva/model/channel_factors.hpp"
#include "amva/model/model_card.hpp"

namespace amva::model {

struct HeadShape {
  int channels = 0;   // C
  int height = 0;     // h
  int width = 0;      // w
  int embedding = 0;  // D
  [[nodiscard]] int positions() const { return height * width; }
  [[nodiscard]] int inputs() const { return channels * height * width; }
};

class AffineHead {
 public:
  /// Relative tolerance of the affinity check: on random inputs of the activations' scale,
  /// max |head(x) - (J x + b)| <= kAffinityTolerance * (1 + max |head(x)|).
  static constexpr double kAffinityTolerance = 1e-3;

  /// Cuts the head from `layer` (an ONNX tensor of shape C x h x w per image) to the card's
  /// embedding, and recovers J. With a non-empty `cache_dir`, J and b are read from and
  /// written to `<cache_dir>/head-<sha256>-<layer>.npy`. Throws Error(Model) naming the first
  /// non-affine node (and suggesting scorecam) when the head is not affine.
  static std::shared_ptr<const AffineHead> extract(const ModelCard& card, const std::string& model_sha256,
                                                   const std::string& layer, const HeadShape& shape,
                                                   const std::filesystem::path& cache_dir);

  [[nodiscard]] const HeadShape& shape() const { return shape_; }
  [[nodiscard]] const std::string& layer() const { return layer_; }
  /// J, D rows of C*h*w, row-major; column index c*h*w + y*w + x.
  [[nodiscard]] const std::vector<float>& jacobian() const { return jacobian_; }
  [[nodiscard]] const std::vector<float>& bias() const { return bias_; }
  /// The measured affinity error (max abs, relative as in kAffinityTolerance).
  [[nodiscard]] double affinity_error() const { return affinity_error_; }

  /// e = J a + b for one image's activations a (C*h*w).
  void apply(const float* activations, float* embedding) const;
  /// g = J^T v: the gradient with respect to the activations of <v, e>.
  void transpose_apply(const float* v, float* gradient) const;
  /// G = V J for n row vectors V (n x D): each row of G (n x C*h*w) is J^T v. One matrix
  /// product streams J once for the whole batch, where n separate products would each read
  /// all of it (J is 51 MB for a 512 x 7 x 7 layer).
  void transpose_apply_batch(const float* v, int n, float* gradients) const;
  /// The sum over each channel's h*w positions of J^T v (C values per row), for n row vectors
  /// V (n x D): all that Grad-CAM reads of the gradient. It multiplies by J summed over the
  /// positions (D x C, in double, found on first use): 1/(h*w) of transpose_apply_batch's
  /// work. Each sum adds its D terms in double in a fixed order, so a face's sums do not
  /// depend on the batch it came in.
  void channel_sums_of_transpose_apply(const float* v, int n, float* sums) const;
  /// J as U and per-channel spatial weights (channel_factors.hpp), found on first use, or null
  /// when J does not factor by channel (a fully connected layer over C*h*w, say).
  [[nodiscard]] const ChannelFactors* channel_factors() const;
  /// Runs the head network itself on a batch N x C x h x w (for tests and checks).
  [[nodiscard]] cv::Mat run_network(const cv::Mat& activations) const;

  AffineHead(HeadShape shape, std::string layer, const std::string& onnx_bytes,
             const std::vector<std::string>& output_candidates);
  ~AffineHead();

 private:
  void probe();
  void check_affinity();
  struct Net;
  HeadShape shape_;
  std::string layer_;
  std::vector<float> jacobian_;
  std::vector<float> bias_;
  double affinity_error_ = 0;
  std::unique_ptr<Net> net_;
  mutable std::once_flag factored_;
  mutable std::optional<ChannelFactors> factors_;
  mutable std::once_flag summed_;
  mutable std::vector<double> summed_jacobian_;  // D x C: J summed over each channel's positions
};

/// Where the Jacobian cache lives: $AMVA_CACHE, else $XDG_CACHE_HOME/amva, else ~/.cache/amva.
std::filesystem::path default_cache_dir();

}  // namespace amva::model
