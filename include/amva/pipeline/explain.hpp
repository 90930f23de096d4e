#pragma once
// amva explain: single images against a high-quality reference. The faces go through the same
// extraction pass as a store's (detection, alignment, embedding, the reference's CAM method,
// target and layer, the built-in FIQA measures), held in memory; head pose and eye openness
// are added, and explain::explain_face writes each face's maps, sheet and explain.json.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "amva/explain/explain_face.hpp"
#include "amva/face/detector.hpp"
#include "amva/model/model_card.hpp"
#include "amva/pipeline/model_setup.hpp"
#include "amva/viz/overlay.hpp"

namespace amva::pipeline {

struct ExplainOptions : ModelSetup {          // the card must be the reference's model
  std::filesystem::path reference;            // a reference_<method>/ folder from amva analyze
  std::vector<std::filesystem::path> images;  // files or folders
  std::filesystem::path out;
  bool force = false;                                                 // write into a non-empty folder amva did not make
  std::filesystem::path pose_model;                                   // fr_pose.onnx; empty: no pose
  std::filesystem::path eye_model;                                    // fr_eye.onnx; empty: no eye openness
  std::vector<std::string> quality_methods;                           // empty: every built-in method
  viz::Colormap colormap = viz::Colormap::Jet;                        // of the sheets
  Progress progress;  // counts stage "explain": images explained
};

struct ExplainResult {
  std::filesystem::path out;                     // the output folder (ExplanationFolder names its files)
  std::vector<explain::ExplainedImage> images;  // in input order
};

/// Sets the head-pose and eye-openness models when `models_dir` holds both (fr_pose.onnx,
/// fr_eye.onnx); otherwise explanations go without them.
void use_attribute_models(ExplainOptions& options, const std::filesystem::path& models_dir);

/// Explains every image. A reference made with another model, CAM method, target, layer or
/// normalisation is refused with Error(Mismatch) naming the setting. Images without a usable
/// face are reported (ok = false), never stop the run. Outputs appear only when all are written.
ExplainResult explain(const ExplainOptions& options);

}  // namespace amva::pipeline
