#pragma once
// Built-in FIQA methods, plugged in by name through a registry (as OFIQ does with its
// measures). Every score is "higher is better" for grouping; each measure documents what
// its number means and its range.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "amva/face/face_context.hpp"
#include "amva/model/affine_head.hpp"
#include "amva/registry.hpp"

namespace amva::quality {

class QualityMeasure {
 public:
  virtual ~QualityMeasure() = default;
  [[nodiscard]] virtual std::string name() const = 0;
  /// One line: what the number measures, its direction and range.
  [[nodiscard]] virtual std::string description() const = 0;
  /// Whether the measure needs target-layer activations and the affine head (serfiq).
  [[nodiscard]] virtual bool needs_activations() const { return false; }
  /// Whether the score depends on the face recognition model (its embedding or activations):
  /// such a measure is scored per model in a study across models, the others once.
  [[nodiscard]] virtual bool uses_model() const { return needs_activations(); }
  /// Whether the score is the negation of a lower-is-better scale (brisque).
  [[nodiscard]] virtual bool negated() const { return false; }
  /// The score, higher is better, from what the face's context holds (the aligned face and
  /// detection; the embedding; the activations and head when needs_activations()). Throws
  /// Error for input it cannot score. Safe to call from several threads at once.
  [[nodiscard]] virtual double score(const face::FaceContext& in) const = 0;
};

/// What a measure is, as its virtual functions say, without scoring anything.
struct MeasureTraits {
  bool needs_activations = false;
  bool uses_model = false;
  bool negated = false;
};

/// The built-in measures (brightness, brisque, contrast, face_size, magnitude, serfiq,
/// sharpness) by name, each with the settings it takes, so that a measure never reads the
/// environment: brisque's `model_dir` (OpenCV's BRISQUE model and range, by default Debian's
/// opencv-data folder; the CLI takes it from $AMVA_BRISQUE_DIR). A program may add its own.
class QualityRegistry : public Registry<QualityMeasure> {
 public:
  QualityRegistry() : Registry<QualityMeasure>("quality measure") {}
  /// The registry with every built-in measure.
  static QualityRegistry& instance();
  /// The traits of measure `name`, read once from a measure made with its default settings,
  /// so that asking them costs no model load per question. Thread-safe.
  [[nodiscard]] MeasureTraits traits(const std::string& name) const;

 private:
  mutable std::map<std::string, MeasureTraits> traits_;
  std::unique_ptr<std::mutex> traits_mutex_ = std::make_unique<std::mutex>();
};

/// The FIQA method made after extraction from every face's maps (pipeline/deviation.hpp), not
/// per face: the explanation deviation from a high-quality reference, stored negated.
inline constexpr const char* kDeviationMethod = "deviation";

}  // namespace amva::quality
