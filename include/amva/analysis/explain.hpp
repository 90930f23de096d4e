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
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "amva/face/detector.hpp"
#include "amva/model/model_card.hpp"
#include "amva/viz/overlay.hpp"

namespace amva::analysis {

struct ExplainOptions {
  std::filesystem::path reference;            // a reference_<method>/ folder from amva analyze
  std::vector<std::filesystem::path> images;  // files or folders
  std::filesystem::path out;
  model::ModelCard card;  // must be the reference's model
  face::DetectorConfig detector;
  bool aligned = false;                      // inputs are aligned 112x112 crops
  bool force = false;                        // write into a non-empty folder amva did not make
  std::filesystem::path pose_model;          // fr_pose.onnx; empty: no pose
  std::filesystem::path eye_model;           // fr_eye.onnx; empty: no eye openness
  std::vector<std::string> quality_methods;  // empty: every built-in method
  std::filesystem::path cache_dir;           // Jacobian cache
  int threads = 2;
  viz::Colormap colormap = viz::Colormap::Jet;                        // of the sheets
  std::function<void(std::size_t done, std::size_t total)> progress;  // images explained; may be empty
};

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

struct ExplainResult {
  std::vector<ExplainedImage> images;  // in input order
};

/// Explains every image. A reference made with another model, CAM method, target, layer or
/// normalisation is refused with Error(Mismatch) naming the setting. Images without a usable
/// face are reported (ok = false), never stop the run.
ExplainResult explain(const ExplainOptions& options);

/// The plain-language line of an explain.json object (its regions, deviation, percentile,
/// pose and eyes): where the deviation lies only for a face that deviates and only where a
/// region stands out; pose and eye hints worded by the models' confidence.
std::string likely_causes(const nlohmann::json& explanation);

}  // namespace amva::analysis
