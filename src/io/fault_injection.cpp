#include "amva/io/fault_injection.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <map>
#include <mutex>

#include "amva/error.hpp"

namespace amva::io {

void fault_point(const char* variable, const std::string& what) {
  static std::mutex mutex;
  static std::map<std::string, long> steps;
  const char* value = std::getenv(variable);
  if (!value) return;
  const long fail_at = std::strtol(value, nullptr, 10);
  long step = 0;
  {
    const std::lock_guard<std::mutex> lock(mutex);
    step = ++steps[variable];
  }
  if (fail_at <= 0 || step != fail_at) return;
  const char* kind = std::getenv("AMVA_FAULT_KIND");
  if (kind && std::string(kind) == "kill") std::_Exit(137);
  throw Error(ErrorCode::Io, fmt::format("{}: No space left on device (injected at {}={})", what, variable, fail_at));
}

}  // namespace amva::io
