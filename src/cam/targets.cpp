#include <fmt/format.h>

#include <cmath>
#include <numeric>

#include "amva/cam/target.hpp"
#include "amva/error.hpp"
#include "amva/io/npy.hpp"

namespace amva::cam {
namespace {

double dot(const float* a, const float* b, int d) {
  double s = 0;
  for (int i = 0; i < d; ++i) s += double(a[i]) * b[i];
  return s;
}

double cosine(const float* a, const float* b, int d) {
  const double n = std::sqrt(dot(a, a, d) * dot(b, b, d));
  return n > 0 ? dot(a, b, d) / n : 0.0;
}

// d cos(e, q) / de = (q/|q| - cos * e/|e|) / |e|
void cosine_gradient(const float* e, const float* q, int d, float* out) {
  const double ne = std::sqrt(dot(e, e, d));
  const double nq = std::sqrt(dot(q, q, d));
  if (ne == 0 || nq == 0) {
    std::fill(out, out + d, 0.f);
    return;
  }
  const double c = dot(e, q, d) / (ne * nq);
  for (int i = 0; i < d; ++i) out[i] = static_cast<float>((q[i] / nq - c * e[i] / ne) / ne);
}

class SelfCosine final : public Target {
 public:
  [[nodiscard]] std::string name() const override { return "self-cosine"; }
  [[nodiscard]] double value(const float* e, const float* own, int d) const override { return cosine(e, own, d); }
  void gradient(const float* e, const float* own, int d, float* out) const override { cosine_gradient(e, own, d, out); }
};

class Projection final : public Target {
 public:
  [[nodiscard]] std::string name() const override { return "projection"; }
  [[nodiscard]] double value(const float* e, const float* own, int d) const override {
    const double n = std::sqrt(dot(own, own, d));
    return n > 0 ? dot(e, own, d) / n : 0.0;
  }
  void gradient(const float*, const float* own, int d, float* out) const override {
    const double n = std::sqrt(dot(own, own, d));
    for (int i = 0; i < d; ++i) out[i] = n > 0 ? static_cast<float>(own[i] / n) : 0.f;
  }
};

class Norm final : public Target {
 public:
  [[nodiscard]] std::string name() const override { return "norm"; }
  [[nodiscard]] double value(const float* e, const float*, int d) const override { return std::sqrt(dot(e, e, d)); }
  void gradient(const float* e, const float*, int d, float* out) const override {
    const double n = std::sqrt(dot(e, e, d));
    for (int i = 0; i < d; ++i) out[i] = n > 0 ? static_cast<float>(e[i] / n) : 0.f;
  }
};

class Reference final : public Target {
 public:
  Reference(std::vector<float> q, std::string label) : q_(std::move(q)), label_(std::move(label)) {}
  [[nodiscard]] std::string name() const override { return "reference:" + label_; }
  [[nodiscard]] double value(const float* e, const float*, int d) const override {
    check(d);
    return cosine(e, q_.data(), d);
  }
  void gradient(const float* e, const float*, int d, float* out) const override {
    check(d);
    cosine_gradient(e, q_.data(), d, out);
  }

 private:
  void check(int d) const {
    if (static_cast<int>(q_.size()) != d) {
      throw Error(ErrorCode::Mismatch,
                  fmt::format("reference embedding '{}' has {} values, the model gives {}", label_, q_.size(), d));
    }
  }
  std::vector<float> q_;
  std::string label_;
};

}  // namespace

std::unique_ptr<Target> make_reference_target(std::vector<float> reference, std::string label) {
  return std::make_unique<Reference>(std::move(reference), std::move(label));
}

std::unique_ptr<Target> Target::create(const std::string& spec) {
  if (spec == "self-cosine") return std::make_unique<SelfCosine>();
  if (spec == "projection") return std::make_unique<Projection>();
  if (spec == "norm") return std::make_unique<Norm>();
  if (spec.starts_with("reference:")) {
    const std::string file = spec.substr(10);
    io::NpyArray a = io::read_npy(file);
    return make_reference_target(std::move(a.data), file);
  }
  throw Error(ErrorCode::InvalidArgument,
              fmt::format("unknown target '{}' (self-cosine, projection, norm, reference:FILE.npy)", spec));
}

bool gradient_vanishes_at_self(const Target& target, const float* own, int d) {
  std::vector<float> g(static_cast<std::size_t>(d));
  target.gradient(own, own, d, g.data());
  return std::sqrt(dot(g.data(), g.data(), d) * dot(own, own, d)) < 1e-4;
}

}  // namespace amva::cam
