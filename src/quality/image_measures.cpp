// Measures computed from the aligned face or the detection geometry.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <opencv2/core/persistence.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/ml.hpp>
#include <opencv2/quality/quality_utils.hpp>
#include <opencv2/quality/qualitybrisque.hpp>

#include "amva/error.hpp"
#include "measures.hpp"

namespace amva::quality {
namespace {

constexpr const char* kDebianBrisqueDir = "/usr/share/opencv4/quality";

cv::Mat gray_of(const face::FaceContext& in) {
  if (!in.aligned || in.aligned->empty()) throw Error(ErrorCode::InvalidArgument, "measure needs the aligned face");
  cv::Mat gray;
  cv::cvtColor(*in.aligned, gray, cv::COLOR_BGR2GRAY);
  return gray;
}

class Sharpness final : public QualityMeasure {
 public:
  [[nodiscard]] std::string name() const override { return "sharpness"; }
  [[nodiscard]] std::string description() const override {
    return "variance of the Laplacian of the aligned face (grey, 0-255 scale); higher is sharper; >= 0";
  }
  [[nodiscard]] double score(const face::FaceContext& in) const override {
    cv::Mat lap;
    cv::Laplacian(gray_of(in), lap, CV_64F);
    cv::Scalar mean, sd;
    cv::meanStdDev(lap, mean, sd);
    return sd[0] * sd[0];
  }
};

class Brightness final : public QualityMeasure {
 public:
  [[nodiscard]] std::string name() const override { return "brightness"; }
  [[nodiscard]] std::string description() const override {
    return "mean grey level of the aligned face; higher is brighter (not always better); 0-255";
  }
  [[nodiscard]] double score(const face::FaceContext& in) const override { return cv::mean(gray_of(in))[0]; }
};

class Contrast final : public QualityMeasure {
 public:
  [[nodiscard]] std::string name() const override { return "contrast"; }
  [[nodiscard]] std::string description() const override {
    return "standard deviation of the grey levels of the aligned face (RMS contrast); higher is more contrast; 0-127.5";
  }
  [[nodiscard]] double score(const face::FaceContext& in) const override {
    cv::Scalar mean, sd;
    cv::meanStdDev(gray_of(in), mean, sd);
    return sd[0];
  }
};

class FaceSize final : public QualityMeasure {
 public:
  [[nodiscard]] std::string name() const override { return "face_size"; }
  [[nodiscard]] std::string description() const override {
    return "inter-eye distance in source-image pixels; higher is a larger face; >= 0";
  }
  [[nodiscard]] double score(const face::FaceContext& in) const override {
    if (!in.detection) throw Error(ErrorCode::InvalidArgument, "face_size needs the detection");
    const auto& lm = in.detection->landmarks;
    return cv::norm(lm[1] - lm[0]);
  }
};

// BRISQUE with OpenCV contrib's features and LIVE model, evaluated as QualityBRISQUE::compute
// does (features scaled to [-1, 1] with the model's range file, then the SVR) but without its
// final clamp to [0, 100]: on 112x112 faces many scores clamp to 0, and tied scores would let
// file order pick the high group. Equal to OpenCV's score wherever that lies inside (0, 100).
// Lower is better in BRISQUE's own scale, so amva negates it. Where the features are undefined
// (an AGGD fit that degenerates on flat or perfectly regular content gives NaN features, and
// the SVR then infinity, which OpenCV's clamp turns into 100), the score is NaN: BRISQUE's
// model cannot judge that face, and the analysis leaves it out of the method's groups.
class Brisque final : public QualityMeasure {
 public:
  explicit Brisque(const std::filesystem::path& dir) {
    const auto model = dir / "brisque_model_live.yml";
    const auto range = dir / "brisque_range_live.yml";
    if (!std::filesystem::exists(model) || !std::filesystem::exists(range)) {
      throw Error(ErrorCode::NotFound,
                  fmt::format("{}: BRISQUE model files not found (Debian package opencv-data)", dir.string()));
    }
    svm_ = cv::ml::SVM::load(model.string());
    cv::FileStorage(range.string(), cv::FileStorage::READ)["range"].mat().convertTo(range_, CV_32F);
    if (svm_.empty() || range_.rows != 2) {
      throw Error(ErrorCode::Model, fmt::format("{}: not a BRISQUE model and range", dir.string()));
    }
  }
  [[nodiscard]] std::string name() const override { return "brisque"; }
  [[nodiscard]] std::string description() const override {
    return "negated BRISQUE score of the aligned face (OpenCV contrib features and LIVE model, not clamped to "
           "[0, 100]; NaN where the features are undefined); higher is better; about -100-0";
  }
  [[nodiscard]] bool negated() const override { return true; }
  [[nodiscard]] double score(const face::FaceContext& in) const override {
    if (!in.aligned) throw Error(ErrorCode::InvalidArgument, "brisque needs the aligned face");
    cv::Mat features;
    cv::quality::QualityBRISQUE::computeFeatures(*in.aligned, features);
    if (features.cols != range_.cols) {
      throw Error(ErrorCode::Model,
                  fmt::format("BRISQUE gave {} features, its range file has {}", features.cols, range_.cols));
    }
    cv::quality::quality_utils::scale<float>(features, range_, -1.f, 1.f);
    if (!cv::checkRange(features)) return std::numeric_limits<double>::quiet_NaN();
    cv::Mat out;
    svm_->predict(features, out);
    const double raw = out.at<float>(0);
    return std::isfinite(raw) ? -raw : std::numeric_limits<double>::quiet_NaN();
  }

 private:
  cv::Ptr<cv::ml::SVM> svm_;
  cv::Mat range_;
};

}  // namespace

std::unique_ptr<QualityMeasure> make_sharpness(const PluginConfig& /*config*/) {
  return std::make_unique<Sharpness>();
}
std::unique_ptr<QualityMeasure> make_brightness(const PluginConfig& /*config*/) {
  return std::make_unique<Brightness>();
}
std::unique_ptr<QualityMeasure> make_contrast(const PluginConfig& /*config*/) {
  return std::make_unique<Contrast>();
}
std::unique_ptr<QualityMeasure> make_face_size(const PluginConfig& /*config*/) {
  return std::make_unique<FaceSize>();
}
std::unique_ptr<QualityMeasure> make_brisque(const PluginConfig& config) {
  return std::make_unique<Brisque>(config.value("model_dir", std::string(kDebianBrisqueDir)));
}

std::vector<SettingSpec> brisque_settings() {
  return {SettingSpec::path("model_dir",
                            fmt::format("OpenCV's BRISQUE model files (brisque_model_live.yml, "
                                        "brisque_range_live.yml); default {} (Debian's opencv-data)",
                                        kDebianBrisqueDir),
                            "AMVA_BRISQUE_DIR")};
}

}  // namespace amva::quality
