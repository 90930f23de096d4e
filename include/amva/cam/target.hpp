#pragma once
// A target is a scalar function t(e) of the embedding; CAM methods explain it. Targets are
// small function objects: a new one plugs in without touching the methods.
#include <memory>
#include <string>
#include <vector>

namespace amva::cam {

class Target {
 public:
  virtual ~Target() = default;
  [[nodiscard]] virtual std::string name() const = 0;
  /// t(e); `own` is the image's own unmasked embedding r (both of size d).
  [[nodiscard]] virtual double value(const float* e, const float* own, int d) const = 0;
  /// dt/de at e, written to `out` (size d).
  virtual void gradient(const float* e, const float* own, int d, float* out) const = 0;

  /// "self-cosine" (cos(e, r)), "projection" (<e, r/|r|>, r held fixed), "norm" (|e|), or
  /// "reference:FILE.npy" (cos(e, q) with q read from a float32 .npy of d values).
  static std::unique_ptr<Target> create(const std::string& spec);
};

/// cos(e, q) for a fixed reference embedding q (another image, an identity's mean).
std::unique_ptr<Target> make_reference_target(std::vector<float> reference, std::string label);

/// Whether dt/de vanishes at the image itself (e = r): |grad| * |e| below 1e-4. Such a target
/// gives meaningless gradient maps (self-cosine does: its gradient at r is zero).
bool gradient_vanishes_at_self(const Target& target, const float* own, int d);

}  // namespace amva::cam
