#pragma once
// Single-image explanation against a high-quality reference (DESIGN.md, "Single-image
// explanation"): how far an image's activation map lies from what high-quality faces show,
// where, and the likely causes.
//
// For each image: AM (its map, normalised and upsampled as the reference's), D = |MAM - AM|
// (the seed paper's map), Z = (AM - MAM) / (AM-V + eps) with the reference's eps; a region
// breakdown over analysis::FacePart (mean |Z|, mean D, share of the total |Z|); the deviation
// score mean |Z| and its percentiles among the reference's high group and whole set; the
// built-in FIQA scores; head pose and eye openness (face::FaceAttributes). Output per image,
// in a folder named after the file stem: am.npy, d.npy, z.npy (112x112 float32), sheet.png,
// explain.json; for the run: ranking.csv (by deviation, highest first), regions_legend.png.
// amva explain (pipeline/explain.hpp) extracts the faces and calls this per face.
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "amva/analysis/reference.hpp"
#include "amva/analysis/regions.hpp"
#include "amva/face/attributes.hpp"
#include "amva/viz/overlay.hpp"

namespace amva::explain {

struct ExplainedImage {
  std::string path;
  std::string folder;  // output folder name (file stem, made unique)
  bool ok = false;
  std::string error;  // why it could not be explained
  double deviation = 0;
  double percentile_high = 0;  // % of the reference's high group with a smaller deviation
  double percentile_all = 0;   // % of the whole reference set
  double share_outside = 0;    // share of the total |Z| outside the central face
  std::string causes;          // one plain-language line
  nlohmann::json json;         // explain.json
};

/// What is known of one face besides the reference: its map on the layer's grid and what the
/// extraction pass measured on it.
struct FaceToExplain {
  std::string image;           // as given
  std::string reference;       // the reference folder, for explain.json
  cv::Mat aligned;             // 112x112 BGR
  const float* map = nullptr;  // map_height x map_width, row-major, as extracted
  int map_height = 0, map_width = 0;
  std::map<std::string, double> fiqa;  // built-in scores; NaN: undefined for this face
  std::optional<face::HeadPose> pose;
  std::optional<face::EyeOpenness> eyes;
};
/// The face's map against the reference: AM (normalised and upsampled as the reference's), D,
/// Z, loss, the region breakdown, the deviation and its percentiles, the largest loss and the
/// likely causes; written to `dir` (am.npy, d.npy, z.npy, loss.npy, explain.json, sheet.png).
ExplainedImage explain_face(const FaceToExplain& face, const analysis::Reference& reference, const std::filesystem::path& dir,
                            viz::Colormap colormap);
/// ranking.csv: the images by deviation, highest first, then those that could not be explained.
void write_ranking(const std::filesystem::path& file, const std::vector<ExplainedImage>& images);
/// The face-region legend (regions_legend.png) that the sheets refer to.
void write_regions_legend(const std::filesystem::path& file);
/// One face region's part of an image's deviation (explain.json: regions.<part>).
struct RegionDeviation {
  analysis::FacePart part = analysis::FacePart::Outside;
  int pixels = 0;
  double mean_abs_z = 0, mean_d = 0, mean_loss = 0;
  double share_of_abs_z = 0;  // of the image's total |Z|
};
/// Where the face gives the model the least against the reference (explain.json: largest_loss).
struct LargestLoss {
  int x = 0, y = 0;  // 112x112 pixel
  double value = 0;
  analysis::FacePart part = analysis::FacePart::Outside;
  std::string near = "elsewhere";  // the landmark it lies near: left_eye, right_eye, nose, mouth
};
/// What an explanation's plain-language line is read from.
struct ExplanationFacts {
  std::vector<RegionDeviation> regions;
  std::optional<LargestLoss> largest_loss;
  double deviation = 0;                                               // mean |Z|
  double percentile_high = std::numeric_limits<double>::quiet_NaN();  // NaN: no reference group to rank in
  double share_outside = 0;                                           // of the total |Z|, outside the central face
  std::optional<face::HeadPose> pose;
  std::optional<face::EyeOpenness> eyes;
};
/// The plain-language line of an explanation: where the deviation lies only for a face that
/// deviates and only where a region stands out; pose and eye hints worded by the models'
/// confidence.
std::string likely_causes(const ExplanationFacts& facts);

}  // namespace amva::explain
