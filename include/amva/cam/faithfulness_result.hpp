#pragma once
// What amva faithfulness found (pipeline/faithfulness.hpp plays the games): per order (a CAM
// method or a control) and fill the mean deletion and insertion areas with their intervals,
// the paired differences, and the verdicts and rankings read from them. faithfulness.json,
// the terminal and the report are all written from this one result.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "amva/cam/faithfulness.hpp"

namespace amva::cam {

/// Names of the two controls, beside the CAM methods' names.
inline constexpr const char* kRandomOrder = "random";
inline constexpr const char* kCentreOrder = "centre";
/// The two games every order plays, as OrderDifference::game names them.
inline constexpr const char* kGames[] = {"deletion", "insertion"};

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
  /// Whether `order` is a control (random, centre) rather than a CAM method judged.
  [[nodiscard]] bool is_control(const std::string& order) const;
  /// Forward passes per face for one order under all fills.
  [[nodiscard]] int forwards_per_face_and_order() const;

  /// How alike the first and the last fill rank the methods.
  struct RankingAgreement {
    bool agrees = true;      // the same ranking (always, with one fill)
    double kendall_tau = 1;  // 1 - 2 * swapped / pairs (1 with fewer than two fills or methods)
    std::vector<std::pair<std::string, std::string>> swapped;  // pairs the two fills order differently
  };
  [[nodiscard]] RankingAgreement ranking_agreement() const;
};

}  // namespace amva::cam
