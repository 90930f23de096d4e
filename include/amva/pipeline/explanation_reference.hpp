#pragma once
// A reference for single-image explanations made with another map kind than the study's.
// Occlusion maps localise a covered part of the face far better than a 7x7 Grad-CAM
// (bench/occlusion_hits.py), but cost h x w forward passes per face; so only the faces that a
// reference and its explanations need are mapped again: the high and the low group of the
// study's FIQA method, about 20 % of the faces with top:10.
#include <filesystem>
#include <functional>
#include <string>

#include "amva/analysis/analyze.hpp"
#include "amva/pipeline/extract.hpp"

namespace amva::pipeline {

struct ExplanationReferenceOptions {
  std::filesystem::path images;     // the study's image folder or list (its store keys resolve against it)
  std::filesystem::path store;      // the study's store, whose rows the groups name
  analysis::MethodAnalysis method;  // a built-in FIQA method of the study's analysis, with its groups
  std::string cam;                  // the map kind of the reference
  ExtractOptions extract;           // model card, detector, alignment, threads, cache; the rest is set here
  std::filesystem::path dir;        // work folder: images.hex (the keys), store/, analysis/
  Progress progress;  // counts stage "extract": the groups' faces mapped
};

/// Extracts `cam` maps (and the method's scores) of the method's lowest and highest group,
/// analyses them alone with top:50 (which splits their union back into the two groups), and
/// returns the folder of the high group's reference (dir/analysis/reference_<method>), whose
/// deviations.csv covers both groups. A second call with the same groups resumes the store;
/// with other groups it starts again. Throws Error(InvalidArgument) for a method without
/// groups or one that is not built in (external scores are matched to the study's store).
std::filesystem::path build_explanation_reference(const ExplanationReferenceOptions& options);

}  // namespace amva::pipeline
