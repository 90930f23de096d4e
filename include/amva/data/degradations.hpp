#pragma once
// Controlled degradations of face images: each degraded copy keeps its source's identity and
// records exactly what was done to it, so a data set spans known quality levels.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "amva/face/detector.hpp"
#include "amva/progress.hpp"

namespace amva::data {

struct Degradation {
  std::string kind;                        // gaussian_blur, motion_blur, noise, underexposure, overexposure,
                                           // jpeg, downscale, occlusion, rotation
  int level = 1;                           // 1 (mild) .. 3 (strong)
  double parameter = 0;                    // sigma, kernel length, noise sigma, gain, JPEG quality, factor,
                                           // patch side as a fraction of the inter-ocular distance, degrees
  std::string position;                    // occlusion only: left_eye, right_eye, mouth, forehead
  [[nodiscard]] std::string name() const;  // e.g. "gaussian_blur_2", "occlusion_mouth_1"
};

/// Every degradation at levels 1..levels (at most 3), in a fixed order.
std::vector<Degradation> degradation_plan(int levels);

/// Applies one degradation to an 8-bit BGR image. `landmarks` place occluding patches (the
/// patch drawn is returned in `patch`); `seed` fixes noise and motion direction.
cv::Mat degrade(const cv::Mat& bgr, const Degradation& d, const face::Landmarks5& landmarks, std::uint64_t seed,
                cv::Rect* patch = nullptr);

struct DegradeOptions {
  std::filesystem::path images;  // folder or list of face images; one identity per image
                                 // (files in a sub-folder take the sub-folder's name)
  std::filesystem::path out;
  int levels = 3;
  std::uint64_t seed = 20221;
  face::DetectorConfig detector;  // places occluding patches and rotation centres
  bool force = false;             // write into a non-empty `out` that amva did not make
};

struct DegradeSummary {
  std::size_t sources = 0;
  std::size_t written = 0;
  std::vector<std::string> skipped;  // "path: reason"
};

/// Writes `out/images/<identity>/<stem>.png` (the original) and
/// `out/images/<identity>/<stem>__<name>.png` for each degradation, plus `out/manifest.csv`
/// (file, source, identity, kind, level, parameter, position, patch box) and
/// `out/labels.txt` (path TAB identity); paths in both are relative to `out/images`. The
/// outputs are staged and published as one unit (io::StagedOutput): a run that is killed or
/// fails leaves `out` as it was, and a second writer of `out` is refused.
DegradeSummary generate_degraded_set(const DegradeOptions& options,
                                     const Progress& progress = {});

}  // namespace amva::data
