#pragma once
// The embedded default data: real faces from registry packages (fetched by scripts/setup.sh
// into data/default/sources), cut into one crop per face, then degraded in controlled ways.
#include <filesystem>
#include <functional>

#include "amva/data/degradations.hpp"
#include "amva/progress.hpp"

namespace amva::data {

struct DefaultDataOptions {
  std::filesystem::path sources;  // folder of source photos (group photos are fine)
  std::filesystem::path out;      // gets faces/ (crops) and set/ (crops + degradations)
  face::DetectorConfig detector;
  int levels = 3;
  int crop_size = 256;         // crops are square, the face box side is half of it
  float min_face_side = 64.f;  // smaller faces in the photos are left out (px)
  float min_score = 0.9f;
};

struct DefaultDataSummary {
  std::size_t photos = 0;
  std::size_t faces = 0;
  DegradeSummary degraded;
  std::filesystem::path set;  // the image folder to extract; labels in its parent
};

/// Builds the default data set; deterministic for the same sources and settings.
DefaultDataSummary prepare_default_data(const DefaultDataOptions& options,
                                        const Progress& progress = {});

}  // namespace amva::data
