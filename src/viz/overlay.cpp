#include "amva/viz/overlay.hpp"

#include <opencv2/imgproc.hpp>

namespace amva::viz {

cv::Mat normalize_minmax(const cv::Mat& map) {
  double lo, hi;
  cv::minMaxLoc(map, &lo, &hi);
  cv::Mat out;
  map.convertTo(out, CV_32F, 1.0 / (hi - lo + 1e-7), -lo / (hi - lo + 1e-7));
  return out;
}

cv::Mat overlay_jet(const cv::Mat& bgr_face, const cv::Mat& map, double image_weight) {
  cv::Mat up;
  cv::resize(map, up, bgr_face.size(), 0, 0, cv::INTER_LINEAR);
  cv::Mat mask8;
  normalize_minmax(up).convertTo(mask8, CV_8U, 255.0);
  cv::Mat heat;
  cv::applyColorMap(mask8, heat, cv::COLORMAP_JET);
  cv::Mat heat_f, face_f;
  heat.convertTo(heat_f, CV_32FC3, 1.0 / 255);
  bgr_face.convertTo(face_f, CV_32FC3, 1.0 / 255);
  cv::Mat blend = (1.0 - image_weight) * heat_f + image_weight * face_f;
  double hi;
  cv::minMaxLoc(blend.reshape(1), nullptr, &hi);
  cv::Mat out;
  blend.convertTo(out, CV_8UC3, 255.0 / (hi > 0 ? hi : 1.0));
  return out;
}

}  // namespace amva::viz
