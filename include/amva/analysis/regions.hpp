#pragma once
// Face regions on the 112x112 aligned face, defined from the ArcFace 5-point template that
// alignment maps every face onto, so that a region covers the same part of every face.
//
// Pixel (column c, row r) has its centre at (c, r), the convention of the template points.
// With d = the template's inter-eye distance (35.24 px):
// - central face region: the rectangle spanning the template points widened by d/4 on every
//   side: x in [le.x - d/4, re.x + d/4], y in [min(eye y) - d/4, max(mouth y) + d/4]
//   (3,127 of 12,544 pixels); "outside" is every other pixel.
// - eyes: discs of radius d/4 around each eye point (left and right as seen in the image);
//   nose: a disc of radius d/4 around the nose tip; mouth: the rectangle spanning the mouth
//   corners widened by d/8 horizontally and d/5 vertically; rest of the face: the central
//   region less the parts; outside: as above. Parts take pixels in the order listed
//   (eyes, nose, mouth), so every pixel has exactly one part.
#include <array>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace amva::analysis {

/// The central face region's margin around the template points, as a share of the inter-eye
/// distance: a quarter (d/4 above).
inline constexpr double kCentralFaceMargin = 0.25;
/// 112x112 CV_8U mask, 255 inside the central face region.
const cv::Mat& central_face_mask();
/// The same region with another margin (a share of the inter-eye distance, 0 to 2): the
/// robustness grid varies it.
cv::Mat central_face_mask(double margin);

enum class FacePart { LeftEye, RightEye, Nose, Mouth, RestOfFace, Outside };
constexpr std::array<FacePart, 6> kFaceParts = {FacePart::LeftEye, FacePart::RightEye,   FacePart::Nose,
                                                FacePart::Mouth,   FacePart::RestOfFace, FacePart::Outside};
/// snake_case name: left_eye, right_eye, nose, mouth, rest_of_face, outside.
std::string to_string(FacePart part);

/// 112x112 CV_8U label image: each pixel holds static_cast<int>(FacePart).
const cv::Mat& face_part_labels();

/// The central face rectangle in pixel-centre coordinates: x0, y0, x1, y1 (inclusive bounds),
/// with the margin given (a share of the inter-eye distance); throws Error(InvalidArgument)
/// outside 0 to 2.
std::array<double, 4> central_face_box(double margin = kCentralFaceMargin);

/// Mean of a 112x112 map (CV_32F or CV_64F) over the pixels where `mask` is non-zero.
double masked_mean(const cv::Mat& map, const cv::Mat& mask);

}  // namespace amva::analysis
