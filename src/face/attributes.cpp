#include "amva/face/attributes.hpp"

#include <cmath>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "amva/error.hpp"
#include "amva/model/onnx_net.hpp"

namespace amva::face {
namespace {

constexpr int kPoseSize = 224;
constexpr int kEyeSize = 24;

// Expected angle of a 66-bin classification (bins of 3 degrees from -99) and the standard
// deviation of the softmax over the bins: how sure the model is of it.
std::pair<double, double> binned_angle(const cv::Mat& logits) {
  const float* v = logits.ptr<float>();
  const int n = static_cast<int>(logits.total());
  const float top = *std::max_element(v, v + n);
  double sum = 0, weighted = 0, squares = 0;
  for (int i = 0; i < n; ++i) {
    const double e = std::exp(static_cast<double>(v[i] - top));
    const double angle = 3.0 * i - 99.0;
    sum += e;
    weighted += e * angle;
    squares += e * angle * angle;
  }
  const double mean = weighted / sum;
  return {mean, std::sqrt(std::max(0.0, squares / sum - mean * mean))};
}

// A square crop of `bgr` (outside the image: black), resized to size x size.
cv::Mat square_crop(const cv::Mat& img, cv::Point2f centre, float side, int size) {
  const double s = size / static_cast<double>(side);
  const cv::Mat m = (cv::Mat_<double>(2, 3) << s, 0, -(centre.x - side / 2) * s, 0, s, -(centre.y - side / 2) * s);
  cv::Mat crop;
  cv::warpAffine(img, crop, m, cv::Size(size, size), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  return crop;
}

class DefaultFaceAttributes : public FaceAttributes {
 public:
  DefaultFaceAttributes(const std::filesystem::path& pose_model, const std::filesystem::path& eye_model)
      : pose_net_(model::load_onnx_net(pose_model)), eye_net_(model::load_onnx_net(eye_model)) {}

  HeadPose pose(const cv::Mat& bgr, const cv::Rect2f& box) override {
    const float side = std::max(box.width, box.height);
    const cv::Mat crop = square_crop(bgr, {box.x + box.width / 2, box.y + box.height / 2}, side, kPoseSize);
    cv::Mat rgb;
    cv::cvtColor(crop, rgb, cv::COLOR_BGR2RGB);
    rgb.convertTo(rgb, CV_32F, 1.0 / 255);
    cv::subtract(rgb, cv::Scalar(0.485, 0.456, 0.406), rgb);
    cv::divide(rgb, cv::Scalar(0.229, 0.224, 0.225), rgb);
    pose_net_.setInput(cv::dnn::blobFromImage(rgb));
    std::vector<cv::Mat> out;
    pose_net_.forward(out, std::vector<std::string>{"output", "617", "618"});
    const auto [yaw, yaw_sd] = binned_angle(out[0]);
    const auto [pitch, pitch_sd] = binned_angle(out[1]);
    const auto [roll, roll_sd] = binned_angle(out[2]);
    return {yaw, pitch, roll, yaw_sd, pitch_sd, roll_sd};
  }

  std::optional<EyeOpenness> eyes(const cv::Mat& bgr, const std::vector<cv::Point2f>& p) override {
    if (p.size() < 68) return std::nullopt;
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    const auto open = [&](int corner_a, int corner_b, std::initializer_list<int> lids) {
      cv::Point2f centre(0, 0);
      for (int i : lids) centre += p[static_cast<std::size_t>(i)];
      centre *= 1.0f / static_cast<float>(lids.size());
      const float side =
          1.6f * std::abs(p[static_cast<std::size_t>(corner_b)].x - p[static_cast<std::size_t>(corner_a)].x);
      const cv::Mat crop = square_crop(gray, centre, std::max(side, 4.0f), kEyeSize);
      eye_net_.setInput(cv::dnn::blobFromImage(crop, 1.0 / 255));
      const cv::Mat logits = eye_net_.forward();
      const float* v = logits.ptr<float>();
      return 1.0 / (1.0 + std::exp(static_cast<double>(v[0] - v[1])));
    };
    return EyeOpenness{open(36, 39, {37, 38, 40, 41}), open(42, 45, {43, 44, 46, 47})};
  }

 private:
  cv::dnn::Net pose_net_;
  cv::dnn::Net eye_net_;
};

}  // namespace

std::unique_ptr<FaceAttributes> FaceAttributes::create(const std::filesystem::path& pose_model,
                                                       const std::filesystem::path& eye_model) {
  return std::make_unique<DefaultFaceAttributes>(pose_model, eye_model);
}

}  // namespace amva::face
