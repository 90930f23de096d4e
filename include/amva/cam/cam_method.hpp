#pragma once
// Activation maps derived from the embedding. As in pytorch-grad-cam, one base class owns the
// pipeline (gradients from the affine head when a method uses them, then a weighted
// combination of the activation channels, then ReLU) and each method overrides one step.
// Maps come out raw at the target layer's resolution (h x w), not normalised.
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "amva/cam/target.hpp"
#include "amva/face/face_context.hpp"
#include "amva/model/affine_head.hpp"
#include "amva/registry.hpp"

namespace amva::cam {

/// Everything a method may need for one image: the face's context (its activations,
/// embedding, the layer's shape, the head for methods that use gradients, the input and a
/// forward pass for those that forward masked inputs) and what is the method's to explain.
struct CamInput : face::FaceContext {
  CamInput() = default;
  explicit CamInput(const face::FaceContext& context) : face::FaceContext(context) {}
  const Target* target = nullptr;
  /// dt/dA (C x h x w) for `target`, when the caller computed it already (extraction does,
  /// for a whole batch in one matrix product); null: computed here from the head.
  const float* gradients = nullptr;
  /// The map before the method's final ReLU (amva faithfulness ranks pixels by it, so that
  /// the positions a ReLU ties at zero keep their order); false: the method's map as defined.
  bool before_relu = false;
};

class CamMethod {
 public:
  virtual ~CamMethod() = default;
  [[nodiscard]] virtual std::string name() const = 0;
  /// The target used when none is given: projection for gradient methods (the gradient of
  /// self-cosine at the image itself is zero), self-cosine for scorecam.
  [[nodiscard]] virtual std::string default_target() const { return "projection"; }
  /// Whether the method explains the target through dt/dA.
  [[nodiscard]] virtual bool uses_gradients() const { return false; }
  /// Whether the method needs the affine head (J): gradient methods and contribution.
  [[nodiscard]] virtual bool needs_head() const { return uses_gradients(); }
  /// Whether the method forwards masked inputs (it needs CamInput::input and ::embed).
  [[nodiscard]] virtual bool needs_forward() const { return false; }
  /// The map's rows and columns: the target layer's, unless the method samples its own grid.
  [[nodiscard]] virtual cv::Size map_size(const model::HeadShape& layer) const { return {layer.width, layer.height}; }
  /// Whether the method always explains its default target, whatever target is asked for.
  [[nodiscard]] virtual bool fixed_target() const { return false; }
  /// The method's own settings that decide its maps (stored in meta.json's cam.methods and
  /// compared by amva explain), beyond the target; empty for most methods.
  [[nodiscard]] virtual nlohmann::json settings(const model::HeadShape& /*layer*/) const {
    return nlohmann::json::object();
  }

  /// The raw map, h x w CV_32F. Throws Error(InvalidArgument) when a gradient method is
  /// given a target whose gradient vanishes at the image.
  [[nodiscard]] cv::Mat compute(const CamInput& in) const;

  /// Creates a method by name through CamRegistry with its own settings (throws
  /// Error(InvalidArgument) naming the known methods for an unknown name, and the method's
  /// settings for a key it does not declare or a value out of its range).
  static std::unique_ptr<CamMethod> create(const std::string& name, const PluginConfig& config = {});
  /// The registered methods, in registration order.
  static std::vector<std::string> names();

 protected:
  /// ReLU(map), or `map` as it is when the input asks for the map before the ReLU.
  [[nodiscard]] static cv::Mat final_relu(const CamInput& in, const cv::Mat& map);
  /// Hook: one weight per channel (C); the default combination is ReLU(sum_c w_c A_c).
  /// `grads` is dt/dA (C x h x w) for methods that use gradients, else empty.
  [[nodiscard]] virtual std::vector<float> channel_weights(const CamInput& in, const float* grads) const;
  /// Hook for methods that are not a channel-weighted sum.
  [[nodiscard]] virtual cv::Mat combine(const CamInput& in, const float* grads) const;
  /// dt/dA = J^T dt/de (the head is affine, so this is exact).
  [[nodiscard]] std::vector<float> activation_gradients(const CamInput& in) const;
  /// Throws Error(InvalidArgument) when the target's gradient vanishes at the image.
  void check_target_gradient(const CamInput& in) const;
};

/// CAM methods plugged in by name, as quality measures are (quality::QualityRegistry): the
/// built-in ones (scorecam, gradcam, gradcam++, xgradcam, layercam, contribution, eigencam,
/// occlusion) are registered on first use, each with its own settings (scorecam's channels,
/// occlusion's grid), and a program may add its own.
class CamRegistry : public Registry<CamMethod> {
 public:
  CamRegistry() : Registry<CamMethod>("CAM method") {}
  static CamRegistry& instance();
};

/// What a store or a reference records of a method (meta.json's cam.methods.NAME, a
/// reference's cam.options), less its target: the method's own settings.
PluginConfig recorded_config(const nlohmann::json& recorded);

/// dt/dA of every face of a batch for each distinct target (by name): one matrix product
/// J^T dt/de per target for the whole batch. `embeddings` is N x D CV_32F; each value holds N
/// rows of C x h x w, what CamInput::gradients points into.
std::map<std::string, std::vector<float>> batch_gradients(const std::vector<const Target*>& targets,
                                                          const cv::Mat& embeddings, const model::AffineHead& head);

/// Bilinear upsampling with aligned corners (torch.nn.UpsamplingBilinear2d), as Score-CAM in
/// pytorch-grad-cam uses; `src` is h x w CV_32F.
cv::Mat upsample_align_corners(const cv::Mat& src, cv::Size size);

}  // namespace amva::cam
