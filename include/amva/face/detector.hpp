#pragma once
// Face detection with five alignment points. Like cv::FaceDetectorYN: a small interface
// and a factory; the implementations stay in their .cpp files.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "amva/face/face.hpp"

namespace amva::face {

struct DetectorConfig {
  /// "default": fr_detect.onnx (UltraFace) + fr_landmark.onnx (68 points reduced to 5);
  /// "yunet": OpenCV's cv::FaceDetectorYN with its own 5 points.
  std::string kind = "default";
  std::filesystem::path detector_model;  // fr_detect.onnx or the YuNet model
  std::filesystem::path landmark_model;  // fr_landmark.onnx; unused for YuNet
  float score_threshold = 0.65f;
  float nms_iou = 0.4f;
};

/// The default detector: fr_detect.onnx and fr_landmark.onnx in `models_dir`.
DetectorConfig default_detector(const std::filesystem::path& models_dir);

class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  /// Every face found in an 8-bit BGR image, largest box first (ties: higher score first).
  virtual std::vector<Face> detect(const cv::Mat& bgr) = 0;
  /// The 68 iBUG points of `face` when the detector has a dense landmark model (the default
  /// one does), else empty.
  virtual std::vector<cv::Point2f> dense_landmarks(const cv::Mat& bgr, const Face& face) {
    (void)bgr;
    (void)face;
    return {};
  }
  /// "default" or "yunet" with the model file names, for meta.json.
  [[nodiscard]] virtual std::string describe() const = 0;

  /// Throws Error(Model) naming the file if a model cannot be loaded.
  static std::unique_ptr<FaceDetector> create(const DetectorConfig& config);
};

/// Reduces the 68-point (iBUG) layout to the 5 alignment points: eye centres as the means of
/// points 36-41 and 42-47, nose tip 30, mouth corners 48 and 54 (the best LFW accuracy with
/// the default models, 99.45 %, per ../shared/models/README.md).
Landmarks5 landmarks5_from_68(const std::vector<cv::Point2f>& points68);

/// Sorts faces largest box area first, ties by score.
void sort_largest_first(std::vector<Face>& faces);

/// How one face is chosen from several.
enum class FaceRule {
  Largest,  // largest box area, ties by score
  Central,  // largest of area - 2 * |box centre - image centre|^2 (insightface's rule when it
            // prepared its training and test sets): a large face wins unless it is far off
            // centre, so a bystander in an LFW photo is not taken for the subject
};
/// Index of the face `rule` picks; `faces` must not be empty.
std::size_t primary_face(const std::vector<Face>& faces, cv::Size image, FaceRule rule);
FaceRule face_rule_from_string(const std::string& name);  // "largest" or "central"
const char* to_string(FaceRule rule);

}  // namespace amva::face
