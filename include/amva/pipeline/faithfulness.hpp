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

/// Names of the two controls, beside the CAM methods' names.
inline constexpr const char* kRandomOrder = "random";
inline constexpr const char* kCentreOrder = "centre";

struct Interval {
  double mean = 0, lo = 0, hi = 0;
};

/// One order (a CAM method or a control) under one fill.
struct OrderScore {
  std::string order;
  std::string fill;
  Interval deletion;                    // mean area, lower is better
  Interval insertion;                   // mean area, higher is better
  std::vector<double> deletion_curve;   // mean cosine per step
  std::vector<double> insertion_curve;  // mean cosine per step
};

/// a - b on the same faces, per fill and game.
struct OrderDifference {
  std::string a, b, fill, game;  // game: "deletion" or "insertion"
  Interval difference;
  /// Whether a is better than b beyond chance: the interval below 0 for deletion, above for insertion.
  [[nodiscard]] bool a_better() const { return game == "deletion" ? difference.hi < 0 : difference.lo > 0; }
  [[nodiscard]] bool b_better() const { return game == "deletion" ? difference.lo > 0 : difference.hi < 0; }
};

/// Per face: the areas of every order and fill (faithfulness.csv).
struct FaceGames {
  std::int64_t id = 0;
  std::string path;
  int face = 0;
  std::int64_t unit = 0;  // the bootstrap's unit: identity, or a unit of its own
  std::map<std::string, std::map<std::string, cam::GameCurves>> curves;  // order -> fill -> curves
};

struct FaithfulnessResult {
  std::vector<std::string> cams;    // the CAM methods judged, in order
  std::vector<std::string> orders;  // cams, then the controls
  std::vector<std::string> fills;
  std::size_t faces = 0;
  std::size_t identities = 0;  // distinct identities among the faces (0: unknown)
  std::string bootstrap_unit;  // "identity" or "image"
  int steps = 0;
  double confidence = 0;      // of the intervals
  int forwards_per_face = 0;  // all orders and fills
  double seconds = 0;
  std::vector<OrderScore> scores;  // order x fill
  std::vector<OrderDifference> differences;
  std::vector<FaceGames> per_face;
  /// The score of one order under one fill.
  [[nodiscard]] const OrderScore& score(const std::string& order, const std::string& fill) const;
  /// a - b under one fill and game.
  [[nodiscard]] const OrderDifference& difference(const std::string& a, const std::string& b, const std::string& fill,
                                                  const std::string& game) const;
  /// The CAM method's verdict against a control (or another method) under one fill: "better"
  /// (both games better beyond chance), "worse" (both worse), or "mixed" / "no difference".
  [[nodiscard]] std::string versus(const std::string& cam, const std::string& other, const std::string& fill) const;
  /// The CAM methods ranked by insertion minus deletion area under one fill, best first.
  [[nodiscard]] std::vector<std::string> ranking(const std::string& fill) const;
};

/// Plays the games and writes faithfulness.csv, faithfulness.json and the curves figure
/// (faithfulness.svg) into `out`, staged and published as a unit. Refuses a store made by
/// amva import (no images to perturb) and a card whose model is not the store's.
FaithfulnessResult measure_faithfulness(const FaithfulnessOptions& options);

/// The summary as faithfulness.json holds it (the report and the terminal read it:
/// report/faithfulness_section.hpp).
nlohmann::json faithfulness_json(const FaithfulnessResult& result);

}  // namespace amva::pipeline
