#include "amva/analysis/regions.hpp"

#include <cmath>

#include "amva/error.hpp"
#include "amva/face/alignment.hpp"

namespace amva::analysis {
namespace {

struct TemplateGeometry {
  cv::Point2d left_eye, right_eye, nose, left_mouth, right_mouth;
  double eye_distance = 0;
};

TemplateGeometry geometry() {
  const auto& t = face::arcface_template();
  TemplateGeometry g{t[0], t[1], t[2], t[3], t[4], 0};
  g.eye_distance = cv::norm(g.right_eye - g.left_eye);
  return g;
}

}  // namespace

std::array<double, 4> central_face_box(double margin) {
  if (!(margin >= 0) || margin > 2) {
    throw Error(ErrorCode::InvalidArgument,
                "the central face's margin is a share of the inter-eye distance between 0 and 2");
  }
  const auto g = geometry();
  const double m = g.eye_distance * margin;
  return {g.left_eye.x - m, std::min(g.left_eye.y, g.right_eye.y) - m, g.right_eye.x + m,
          std::max(g.left_mouth.y, g.right_mouth.y) + m};
}

cv::Mat central_face_mask(double margin) {
  const auto box = central_face_box(margin);
  cv::Mat m(face::kAlignedSize, face::kAlignedSize, CV_8U, cv::Scalar(0));
  for (int r = 0; r < m.rows; ++r) {
    for (int c = 0; c < m.cols; ++c) {
      if (c >= box[0] && c <= box[2] && r >= box[1] && r <= box[3]) m.at<std::uint8_t>(r, c) = 255;
    }
  }
  return m;
}

const cv::Mat& central_face_mask() {
  static const cv::Mat mask = central_face_mask(kCentralFaceMargin);
  return mask;
}

std::string to_string(FacePart part) {
  switch (part) {
    case FacePart::LeftEye:
      return "left_eye";
    case FacePart::RightEye:
      return "right_eye";
    case FacePart::Nose:
      return "nose";
    case FacePart::Mouth:
      return "mouth";
    case FacePart::RestOfFace:
      return "rest_of_face";
    case FacePart::Outside:
      return "outside";
  }
  return "?";
}

const cv::Mat& face_part_labels() {
  static const cv::Mat labels = [] {
    const auto g = geometry();
    const double d = g.eye_distance;
    const auto& central = central_face_mask();
    cv::Mat l(face::kAlignedSize, face::kAlignedSize, CV_8U);
    for (int r = 0; r < l.rows; ++r) {
      for (int c = 0; c < l.cols; ++c) {
        const cv::Point2d p(c, r);
        FacePart part = FacePart::Outside;
        if (cv::norm(p - g.left_eye) <= d / 4) {
          part = FacePart::LeftEye;
        } else if (cv::norm(p - g.right_eye) <= d / 4) {
          part = FacePart::RightEye;
        } else if (cv::norm(p - g.nose) <= d / 4) {
          part = FacePart::Nose;
        } else if (c >= g.left_mouth.x - d / 8 && c <= g.right_mouth.x + d / 8 &&
                   r >= std::min(g.left_mouth.y, g.right_mouth.y) - d / 5 &&
                   r <= std::max(g.left_mouth.y, g.right_mouth.y) + d / 5) {
          part = FacePart::Mouth;
        } else if (central.at<std::uint8_t>(r, c)) {
          part = FacePart::RestOfFace;
        }
        l.at<std::uint8_t>(r, c) = static_cast<std::uint8_t>(part);
      }
    }
    return l;
  }();
  return labels;
}

double masked_mean(const cv::Mat& map, const cv::Mat& mask) {
  if (map.size() != mask.size()) throw Error(ErrorCode::InvalidArgument, "map and mask differ in size");
  return cv::mean(map, mask)[0];
}

}  // namespace amva::analysis
