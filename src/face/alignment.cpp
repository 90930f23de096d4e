#include "amva/face/alignment.hpp"

#include <Eigen/Geometry>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace amva::face {

const Landmarks5& arcface_template() {
  static const Landmarks5 kTemplate = {cv::Point2f(38.2946f, 51.6963f), cv::Point2f(73.5318f, 51.5014f),
                                       cv::Point2f(56.0252f, 71.7366f), cv::Point2f(41.5493f, 92.3655f),
                                       cv::Point2f(70.7299f, 92.2041f)};
  return kTemplate;
}

cv::Mat similarity_to_template(const Landmarks5& points) {
  Eigen::Matrix<double, 2, 5> src;
  Eigen::Matrix<double, 2, 5> dst;
  for (int i = 0; i < 5; ++i) {
    src(0, i) = points[i].x;
    src(1, i) = points[i].y;
    dst(0, i) = arcface_template()[i].x;
    dst(1, i) = arcface_template()[i].y;
  }
  const Eigen::Matrix3d t = Eigen::umeyama(src, dst, true);
  cv::Mat m(2, 3, CV_64F);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) m.at<double>(r, c) = t(r, c);
  return m;
}

cv::Mat align_face(const cv::Mat& bgr, const Landmarks5& points) {
  cv::Mat aligned;
  cv::warpAffine(bgr, aligned, similarity_to_template(points), cv::Size(kAlignedSize, kAlignedSize), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar::all(0));
  return aligned;
}

Landmarks5 aligned_landmarks(const Landmarks5& points) {
  const cv::Mat m = similarity_to_template(points);
  Landmarks5 out;
  for (int i = 0; i < 5; ++i) {
    const auto& p = points[i];
    out[i] = cv::Point2f(static_cast<float>(m.at<double>(0, 0) * p.x + m.at<double>(0, 1) * p.y + m.at<double>(0, 2)),
                         static_cast<float>(m.at<double>(1, 0) * p.x + m.at<double>(1, 1) * p.y + m.at<double>(1, 2)));
  }
  return out;
}

double alignment_residual(const Landmarks5& points) {
  const Landmarks5 aligned = aligned_landmarks(points);
  double sum = 0;
  for (int i = 0; i < 5; ++i) {
    const cv::Point2f d = aligned[i] - arcface_template()[i];
    sum += d.dot(d);
  }
  return std::sqrt(sum / 5.0);
}

}  // namespace amva::face
