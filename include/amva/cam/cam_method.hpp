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

/// What a gradient method reads of dt/dA.
enum class GradientForm {
  PerPosition,  ///< all of it: C x h x w values
  ChannelSums,  ///< its sum over each channel's h x w positions: C values (Grad-CAM)
};

/// Everything a method may need for one image: the face's context (its activations,
/// embedding, the layer's shape, the head for methods that use gradients, the input and a
/// forward pass for those that forward masked inputs) and what is the method's to explain.
struct CamInput : face::FaceContext {
  CamInput() = default;
  explicit CamInput(const face::FaceContext& context) : face::FaceContext(context) {}
  const Target* target = nullptr;
  /// dt/dA for `target` in the method's gradient_form(), when the caller computed it already
  /// (extraction does, for a whole batch at once: BatchGradients); null: computed here from
  /// the head.
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
  /// What the method reads of dt/dA: a method that needs only each channel's sum is given
  /// those, found with 1/(h*w) of the work (AffineHead::channel_sums_of_transpose_apply).
  [[nodiscard]] virtual GradientForm gradient_form() const { return GradientForm::PerPosition; }
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
  /// `grads` is dt/dA in gradient_form() for methods that use gradients, else empty.
  [[nodiscard]] virtual std::vector<float> channel_weights(const CamInput& in, const float* grads) const;
  /// Hook for methods that are not a channel-weighted sum.
  [[nodiscard]] virtual cv::Mat combine(const CamInput& in, const float* grads) const;
  /// dt/dA = J^T dt/de in gradient_form() (the head is affine, so this is exact).
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

/// What a store records of a method beyond its own settings (meta.json's cam.methods.NAME):
/// its target, and for a method that reads dt/dA other than per position, that form under
/// kGradientFormKey, so that a store resumes or merges only with maps defined the same way.
inline constexpr const char* kGradientFormKey = "gradients";
nlohmann::json method_record(const CamMethod& method, const model::HeadShape& layer, const std::string& target);

/// What a store or a reference records of a method (meta.json's cam.methods.NAME, a
/// reference's cam.options), less its target and gradient form: the method's own settings.
PluginConfig recorded_config(const nlohmann::json& recorded);

/// dt/dA of every face of a batch, for each distinct target (by name) and form a batch's
/// methods read: one product with J (or J summed by channel) per target and form for the
/// whole batch, which streams J once where a product per face would read all of it each time.
class BatchGradients {
 public:
  /// `embeddings` is N x D CV_32F.
  BatchGradients(const std::vector<std::pair<const Target*, GradientForm>>& wanted, const cv::Mat& embeddings,
                 const model::AffineHead& head);
  /// Face i's dt/dA for `target` in `form`, what CamInput::gradients points to.
  [[nodiscard]] const float* of(const Target& target, GradientForm form, int face) const;

 private:
  std::map<std::pair<std::string, GradientForm>, std::vector<float>> gradients_;
  std::size_t per_position_ = 0, channels_ = 0;
};

/// Bilinear upsampling with aligned corners (torch.nn.UpsamplingBilinear2d), as Score-CAM in
/// pytorch-grad-cam uses; `src` is h x w CV_32F.
cv::Mat upsample_align_corners(const cv::Mat& src, cv::Size size);

}  // namespace amva::cam
