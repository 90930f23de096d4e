// The default detector: fr_detect.onnx (UltraFace-style) finds boxes, fr_landmark.onnx puts
// 68 points in each, reduced to the 5 alignment points. Conventions measured on LFW and
// recorded in ../shared/models/README.md.
#include <fmt/format.h>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "amva/error.hpp"
#include "amva/model/onnx_net.hpp"
#include "detectors.hpp"

namespace amva::face {
namespace {

constexpr int kDetectWidth = 320;
constexpr int kDetectHeight = 240;
constexpr int kLandmarkSize = 64;

class UltraFaceDetector final : public FaceDetector {
 public:
  explicit UltraFaceDetector(const DetectorConfig& config)
      : config_(config),
        detect_net_(model::load_onnx_net(config.detector_model)),
        landmark_net_(model::load_onnx_net(config.landmark_model)) {}

  std::vector<Face> detect(const cv::Mat& bgr) override {
    std::vector<Face> faces = find_boxes(bgr);
    for (Face& f : faces) f.landmarks = place_landmarks(bgr, f.box);
    sort_largest_first(faces);
    return faces;
  }

  [[nodiscard]] std::string describe() const override {
    return fmt::format("default ({} + {})", config_.detector_model.filename().string(),
                       config_.landmark_model.filename().string());
  }

 private:
  std::vector<Face> find_boxes(const cv::Mat& bgr) {
    cv::Mat blob = cv::dnn::blobFromImage(bgr, 1.0 / 128.0, cv::Size(kDetectWidth, kDetectHeight),
                                          cv::Scalar(127, 127, 127), /*swapRB=*/true, false, CV_32F);
    detect_net_.setInput(blob);
    std::vector<cv::Mat> outs;
    detect_net_.forward(outs, std::vector<std::string>{"scores", "boxes"});
    const cv::Mat scores = outs[0].reshape(1, static_cast<int>(outs[0].total() / 2));
    const cv::Mat boxes = outs[1].reshape(1, static_cast<int>(outs[1].total() / 4));
    std::vector<cv::Rect2d> rects;
    std::vector<float> confidences;
    const float w = static_cast<float>(bgr.cols);
    const float h = static_cast<float>(bgr.rows);
    for (int i = 0; i < scores.rows; ++i) {
      const float s = scores.at<float>(i, 1);
      if (s < config_.score_threshold) continue;
      const float* b = boxes.ptr<float>(i);
      rects.emplace_back(b[0] * w, b[1] * h, (b[2] - b[0]) * w, (b[3] - b[1]) * h);
      confidences.push_back(s);
    }
    std::vector<int> keep;
    cv::dnn::NMSBoxes(rects, confidences, config_.score_threshold, config_.nms_iou, keep);
    std::vector<Face> faces;
    for (int k : keep) {
      Face f;
      f.box = cv::Rect2f(rects[k]);
      f.score = confidences[k];
      faces.push_back(f);
    }
    return faces;
  }

  // The landmark net sees a square crop of side = box height, centred on the box; parts of
  // the crop outside the image are black.
  std::vector<cv::Point2f> dense_landmarks(const cv::Mat& bgr, const Face& face) override {
    return landmarks68(bgr, face.box);
  }

  Landmarks5 place_landmarks(const cv::Mat& bgr, const cv::Rect2f& box) {
    return landmarks5_from_68(landmarks68(bgr, box));
  }

  std::vector<cv::Point2f> landmarks68(const cv::Mat& bgr, const cv::Rect2f& box) {
    const float side = box.height;
    const float x0 = box.x + box.width / 2 - side / 2;
    const float y0 = box.y;
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    const cv::Mat to_crop = (cv::Mat_<double>(2, 3) << kLandmarkSize / side, 0, -x0 * kLandmarkSize / side, 0,
                             kLandmarkSize / side, -y0 * kLandmarkSize / side);
    cv::Mat crop;
    cv::warpAffine(gray, crop, to_crop, cv::Size(kLandmarkSize, kLandmarkSize), cv::INTER_AREA, cv::BORDER_CONSTANT,
                   cv::Scalar::all(0));
    cv::Mat blob = cv::dnn::blobFromImage(crop, 1.0 / 256.0, cv::Size(), cv::Scalar(), false, false, CV_32F);
    landmark_net_.setInput(blob);
    const cv::Mat out = landmark_net_.forward();
    const float* v = out.ptr<float>();
    std::vector<cv::Point2f> points(68);
    for (int i = 0; i < 68; ++i) points[i] = cv::Point2f(x0 + v[2 * i] * side, y0 + v[2 * i + 1] * side);
    return points;
  }

  DetectorConfig config_;
  cv::dnn::Net detect_net_;
  cv::dnn::Net landmark_net_;
};

}  // namespace

std::unique_ptr<FaceDetector> make_ultraface_detector(const DetectorConfig& config) {
  return std::make_unique<UltraFaceDetector>(config);
}

}  // namespace amva::face
