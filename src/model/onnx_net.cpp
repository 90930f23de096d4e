#include "amva/model/onnx_net.hpp"

#include <fmt/format.h>

#include <functional>

#include "amva/error.hpp"

namespace amva::model {
namespace {
cv::dnn::Net checked(const std::function<cv::dnn::Net()>& read, const std::filesystem::path& file) {
  cv::dnn::Net net;
  try {
    net = read();
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::Model, fmt::format("{}: not a model OpenCV can load ({})", file.string(), e.err));
  }
  if (net.empty()) throw Error(ErrorCode::Model, fmt::format("{}: empty network", file.string()));
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return net;
}
}  // namespace

cv::dnn::Net load_onnx_net(const std::filesystem::path& file) {
  if (!std::filesystem::is_regular_file(file)) {
    throw Error(ErrorCode::NotFound, fmt::format("{}: model file not found", file.string()));
  }
  return checked([&] { return cv::dnn::readNetFromONNX(file.string()); }, file);
}

cv::dnn::Net load_onnx_net(const std::string& bytes, const std::filesystem::path& file) {
  return checked([&] { return cv::dnn::readNetFromONNX(bytes.data(), bytes.size()); }, file);
}

}  // namespace amva::model
