#pragma once
// amva faithfulness: which CAM method's maps reflect what the FR model uses, measured on the
// store's own faces (cam/faithfulness.hpp has the games). For a seeded sample of faces, every
// CAM method's map before its ReLU is re-made from the stored face (the pixels extraction saw)
// and ranks the pixels; a random order and a centre prior (pixels nearest the face's centre
// first) are played the same way as controls. Per order and fill: the mean deletion and
// insertion areas with bootstrap intervals (identities as units when known), and the paired
// differences of every order against every other on the same faces.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "amva/cam/faithfulness.hpp"
#include "amva/cam/faithfulness_result.hpp"
#include "amva/eval/identities.hpp"
#include "amva/pipeline/model_setup.hpp"

namespace amva::pipeline {

struct FaithfulnessOptions : ModelSetup {  // the card must be the store's model
  std::filesystem::path store;
  std::filesystem::path out;
  bool force = false;             // write into a non-empty folder amva did not make
  std::vector<std::string> cams;  // CAM methods to judge; empty: those the store holds
  int faces = 200;                // faces sampled (all when the store has fewer)
  std::uint64_t seed = 1;         // the sample, tie breaks, random orders, ROAD's noise, the bootstrap
  cam::GameSettings game;
  int batch = 64;  // perturbed inputs per forward pass
  eval::IdentitySource identities;
  bool identities_from_evident_folders = true;  // as amva analyze: LFW-style folders name people
  int bootstrap = 1000;
  double confidence = 0.95;
  /// Per stage ("maps": faces whose maps are made; "games": faces played): may be empty.
  Progress progress;  // counts the stages "maps (METHODS)" and "games"
};

using cam::FaithfulnessResult;

/// Plays the games and writes faithfulness.csv, faithfulness.json and the curves figure
/// (faithfulness.svg) into `out`, staged and published as a unit. Refuses a store made by
/// amva import (no images to perturb) and a card whose model is not the store's.
FaithfulnessResult measure_faithfulness(const FaithfulnessOptions& options);

/// The summary as faithfulness.json holds it (the Python module returns it; the report and the
/// terminal read the result itself: report/faithfulness_section.hpp).
nlohmann::json faithfulness_json(const FaithfulnessResult& result);

}  // namespace amva::pipeline
