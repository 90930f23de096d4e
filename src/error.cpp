#include "amva/error.hpp"

#include <ctime>

#include "amva/version.hpp"

namespace amva {

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::InvalidArgument:
      return "invalid_argument";
    case ErrorCode::NotFound:
      return "not_found";
    case ErrorCode::Io:
      return "io";
    case ErrorCode::Parse:
      return "parse";
    case ErrorCode::Model:
      return "model";
    case ErrorCode::Image:
      return "image";
    case ErrorCode::Mismatch:
      return "mismatch";
  }
  return "unknown";
}

const char* version() noexcept {
  return AMVA_VERSION_STRING;
}

std::string utc_timestamp() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::tm utc{};
  gmtime_r(&t, &utc);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

}  // namespace amva
