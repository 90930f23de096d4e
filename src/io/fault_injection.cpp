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
  if (const char* where = std::getenv("AMVA_FAULT_WHERE"); where && what.find(where) == std::string::npos) return;
  const long fail_at = std::strtol(value, nullptr, 10);
  long step = 0;
  {
    const std::lock_guard<std::mutex> lock(mutex);
    step = ++steps[variable];
  }
  if (fail_at <= 0 || step != fail_at) return;
  const char* kind = std::getenv("AMVA_FAULT_KIND");
  const std::string k = kind ? kind : "";
  if (k == "kill") std::_Exit(137);
  // The tests run as root, where a read-only folder cannot be made with chmod.
  const char* reason = k == "erofs" ? "Read-only file system" : "No space left on device";
  throw Error(ErrorCode::Io, fmt::format("{}: {} (injected at {}={})", what, reason, variable, fail_at));
}

}  // namespace amva::io
