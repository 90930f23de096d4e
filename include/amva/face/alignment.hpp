#pragma once
#include <opencv2/core.hpp>

#include "amva/face/face.hpp"

namespace amva::face {

constexpr int kAlignedSize = 112;

/// The ArcFace 112x112 reference points (insightface), in Landmarks5 order.
const Landmarks5& arcface_template();

/// Least-squares similarity transform (rotation, uniform scale, translation; Umeyama) that
/// maps `points` onto the ArcFace template. Returns a 2x3 CV_64F matrix.
cv::Mat similarity_to_template(const Landmarks5& points);

/// Warps `bgr` to the 112x112 aligned face (bilinear, black border), as insightface does.
cv::Mat align_face(const cv::Mat& bgr, const Landmarks5& points);

/// Where the 5 points land in the aligned face.
Landmarks5 aligned_landmarks(const Landmarks5& points);

/// Root-mean-square distance, in aligned pixels, between the transformed points and the
/// template: how well a similarity transform explains the detected points.
double alignment_residual(const Landmarks5& points);

}  // namespace amva::face
