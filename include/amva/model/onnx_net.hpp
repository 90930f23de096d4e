#pragma once
#include <filesystem>
#include <opencv2/dnn.hpp>
#include <string>

namespace amva::model {
/// Loads an ONNX file into a cv::dnn::Net on the CPU. Throws Error naming the file when it
/// is missing (NotFound) or not a model OpenCV can import (Model).
cv::dnn::Net load_onnx_net(const std::filesystem::path& file);
/// The same from a serialized model (one rewritten in memory); `file` names it in messages.
cv::dnn::Net load_onnx_net(const std::string& bytes, const std::filesystem::path& file);
}  // namespace amva::model
