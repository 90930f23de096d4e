#pragma once
// The one exception type the library throws. It carries a machine-readable code and a
// message that names the thing at fault (file, line, image, model node).
#include <stdexcept>
#include <string>
#include <utility>

namespace amva {

enum class ErrorCode {
  InvalidArgument,  // a caller passed a value that cannot work
  NotFound,         // a file, folder, layer or column that is not there
  Io,               // reading or writing failed
  Parse,            // a file exists but its content is malformed (CSV, JSON, npy, ONNX)
  Model,            // a model that cannot be loaded or does not match its card
  Image,            // an image that cannot be decoded or holds no usable face
  Mismatch,         // two things that must agree do not (store and model, shards)
};

const char* to_string(ErrorCode code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, std::string reason = {})
      : std::runtime_error(message), code_(code), reason_(std::move(reason)) {}
  [[nodiscard]] ErrorCode code() const noexcept { return code_; }
  /// Short failure class for per-image errors (no_face, truncated, ...), as index.csv and the
  /// run summary count them; falls back to the code's name.
  [[nodiscard]] std::string reason() const { return reason_.empty() ? to_string(code_) : reason_; }

 private:
  ErrorCode code_;
  std::string reason_;
};

}  // namespace amva
