#pragma once
// Head pose and eye openness from the default package's fr_pose.onnx and fr_eye.onnx, with
// the conventions measured on LFW (../shared/models/README.md):
// - pose: the tight square face box (side = the box's larger side, centred), 224x224 RGB,
//   ImageNet mean and std; three outputs of 66 bins (yaw `output`, pitch `617`, roll `618`),
//   angle = sum_i softmax_i * (3 i - 99) degrees, with the softmax's spread as its uncertainty. Yaw is positive when
//   the nose points to the image's left (a horizontally flipped face has the opposite sign), roll positive for a head
//   tilted clockwise as displayed, pitch positive for the chin up.
// - eyes: a square centred on the mean of points 37, 38, 40, 41 (43, 44, 46, 47 for the other
//   eye) of the 68, side 1.6 x the eye's corner-to-corner width, 24x24 grey / 255; two logits,
//   class 1 = open; openness = its softmax probability.
#include <filesystem>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <vector>

namespace amva::face {

struct HeadPose {
  double yaw = 0;  // degrees
  double pitch = 0;
  double roll = 0;
  // Standard deviation of the model's distribution over its angle bins (degrees): a spread of
  // a few degrees is a confident estimate, 15 or more is a guess.
  double yaw_sd = 0;
  double pitch_sd = 0;
  double roll_sd = 0;
};

struct EyeOpenness {
  double image_left = 0;  // probability that the eye on the image's left is open
  double image_right = 0;
};

class FaceAttributes {
 public:
  virtual ~FaceAttributes() = default;
  /// Pose of the face in `box` (source-image pixels) of an 8-bit BGR image.
  virtual HeadPose pose(const cv::Mat& bgr, const cv::Rect2f& box) = 0;
  /// Eye openness from the 68 iBUG points; nothing when fewer are given.
  virtual std::optional<EyeOpenness> eyes(const cv::Mat& bgr, const std::vector<cv::Point2f>& points68) = 0;
  /// Throws Error(Model) naming a model file that cannot be loaded.
  static std::unique_ptr<FaceAttributes> create(const std::filesystem::path& pose_model,
                                                const std::filesystem::path& eye_model);
};

}  // namespace amva::face
