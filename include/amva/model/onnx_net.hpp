#pragma once
#include <filesystem>
#include <opencv2/dnn.hpp>

namespace amva::model {
/// Loads an ONNX file into a cv::dnn::Net on the CPU. Throws Error naming the file when it
/// is missing (NotFound) or not a model OpenCV can import (Model).
cv::dnn::Net load_onnx_net(const std::filesystem::path& file);
}  // namespace amva::model
