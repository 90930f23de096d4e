#pragma once
// The settings every pass that runs the face recognition model shares (extract, explain, cam,
// run): which model, how faces are found, where the Jacobian cache lives and how many workers
// run. Options of those passes derive from it, so that one pass hands them to the next whole.
#include <filesystem>

#include "amva/face/detector.hpp"
#include "amva/model/affine_head.hpp"
#include "amva/model/model_card.hpp"
#include "amva/progress.hpp"
#include "amva/quality/quality_measure.hpp"

namespace amva::pipeline {

struct ModelSetup {
  model::ModelCard card;
  face::DetectorConfig detector;
  bool aligned = false;                                          // inputs are aligned crops: no detection
  std::filesystem::path cache_dir = model::default_cache_dir();  // Jacobian cache (empty: the default)
  int threads = 2;                                               // worker threads, each with its own networks
  PluginConfigs measures;  // the FIQA measures' settings, by measure (QualityRegistry::settings)
  /// This setup with an empty cache_dir replaced by the default one.
  [[nodiscard]] ModelSetup resolved() const {
    ModelSetup s = *this;
    if (s.cache_dir.empty()) s.cache_dir = model::default_cache_dir();
    return s;
  }
};

}  // namespace amva::pipeline
