// The alternative detector: OpenCV's YuNet (cv::FaceDetectorYN), which gives 5 points itself.
#include <fmt/format.h>

#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect/face.hpp>

#include "amva/error.hpp"
#include "detectors.hpp"

namespace amva::face {
namespace {

// YuNet's cost grows with the input area; large photos are searched at this longest side.
constexpr int kMaxSide = 960;

class YuNetDetector final : public FaceDetector {
 public:
  explicit YuNetDetector(const DetectorConfig& config) : config_(config) {
    if (!std::filesystem::is_regular_file(config.detector_model)) {
      throw Error(ErrorCode::NotFound, fmt::format("{}: YuNet model not found", config.detector_model.string()));
    }
    try {
      yunet_ = cv::FaceDetectorYN::create(config.detector_model.string(), "", cv::Size(320, 320),
                                          config.score_threshold, config.nms_iou);
    } catch (const cv::Exception& e) {
      throw Error(ErrorCode::Model,
                  fmt::format("{}: cannot load YuNet model ({})", config.detector_model.string(), e.err));
    }
    // Another ONNX model (an FR model given as --detector) loads, and fails only when it runs:
    // run it once here, before a store or an output folder exists.
    try {
      const cv::Mat blank(320, 320, CV_8UC3, cv::Scalar::all(0));
      cv::Mat rows;
      yunet_->detect(blank, rows);
    } catch (const cv::Exception& e) {
      throw Error(ErrorCode::Model, fmt::format("{}: not a YuNet face detector model (OpenCV: {})",
                                                config.detector_model.string(), e.err));
    }
  }

  std::vector<Face> detect(const cv::Mat& bgr) override {
    const double scale = std::min(1.0, static_cast<double>(kMaxSide) / std::max(bgr.cols, bgr.rows));
    cv::Mat input = bgr;
    if (scale < 1.0) cv::resize(bgr, input, cv::Size(), scale, scale, cv::INTER_AREA);
    yunet_->setInputSize(input.size());
    cv::Mat rows;
    yunet_->detect(input, rows);
    std::vector<Face> faces;
    for (int i = 0; i < rows.rows; ++i) {
      const float* r = rows.ptr<float>(i);
      const auto s = static_cast<float>(1.0 / scale);
      Face f;
      f.box = cv::Rect2f(r[0] * s, r[1] * s, r[2] * s, r[3] * s);
      for (int k = 0; k < 5; ++k) f.landmarks[k] = cv::Point2f(r[4 + 2 * k] * s, r[5 + 2 * k] * s);
      f.score = r[14];
      faces.push_back(f);
    }
    sort_largest_first(faces);
    return faces;
  }

  [[nodiscard]] std::string describe() const override {
    return fmt::format("yunet ({})", config_.detector_model.filename().string());
  }

 private:
  DetectorConfig config_;
  cv::Ptr<cv::FaceDetectorYN> yunet_;
};

}  // namespace

std::unique_ptr<FaceDetector> make_yunet_detector(const DetectorConfig& config) {
  return std::make_unique<YuNetDetector>(config);
}

}  // namespace amva::face
