#include "amva/face/detector.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "amva/error.hpp"
#include "detectors.hpp"

namespace amva::face {

DetectorConfig default_detector(const std::filesystem::path& models_dir) {
  DetectorConfig d;
  d.kind = "default";
  d.detector_model = models_dir / "fr_detect.onnx";
  d.landmark_model = models_dir / "fr_landmark.onnx";
  return d;
}

std::unique_ptr<FaceDetector> FaceDetector::create(const DetectorConfig& config) {
  if (config.kind == "default") return make_ultraface_detector(config);
  if (config.kind == "yunet") return make_yunet_detector(config);
  throw Error(ErrorCode::InvalidArgument,
              fmt::format("unknown detector '{}' (expected 'default' or 'yunet')", config.kind));
}

Landmarks5 landmarks5_from_68(const std::vector<cv::Point2f>& p) {
  if (p.size() != 68) {
    throw Error(ErrorCode::InvalidArgument, fmt::format("expected 68 landmarks, got {}", p.size()));
  }
  const auto mean = [&](int first, int last) {
    cv::Point2f s(0, 0);
    for (int i = first; i <= last; ++i) s += p[i];
    return s * (1.0f / static_cast<float>(last - first + 1));
  };
  return {mean(36, 41), mean(42, 47), p[30], p[48], p[54]};
}

void sort_largest_first(std::vector<Face>& faces) {
  std::stable_sort(faces.begin(), faces.end(), [](const Face& a, const Face& b) {
    if (a.box.area() != b.box.area()) return a.box.area() > b.box.area();
    return a.score > b.score;
  });
}

std::size_t primary_face(const std::vector<Face>& faces, cv::Size image, FaceRule rule) {
  if (faces.empty()) throw Error(ErrorCode::InvalidArgument, "primary_face needs at least one face");
  const cv::Point2f centre(image.width / 2.f, image.height / 2.f);
  const auto value = [&](const Face& f) {
    if (rule == FaceRule::Largest) return static_cast<double>(f.box.area());
    const cv::Point2f offset = (f.box.tl() + f.box.br()) * 0.5f - centre;
    return static_cast<double>(f.box.area()) - 2.0 * offset.dot(offset);
  };
  std::size_t best = 0;
  for (std::size_t i = 1; i < faces.size(); ++i) {
    if (value(faces[i]) > value(faces[best])) best = i;  // strict: earlier (larger) face wins ties
  }
  return best;
}

FaceRule face_rule_from_string(const std::string& name) {
  if (name == "largest") return FaceRule::Largest;
  if (name == "central") return FaceRule::Central;
  throw Error(ErrorCode::InvalidArgument, fmt::format("unknown face rule '{}' (largest or central)", name));
}

const char* to_string(FaceRule rule) {
  return rule == FaceRule::Largest ? "largest" : "central";
}

}  // namespace amva::face
