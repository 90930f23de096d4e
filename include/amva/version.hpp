#pragma once
#include <string>

namespace amva {
/// The library version, written into every store's meta.json.
const char* version() noexcept;
/// The current UTC time as ISO 8601 (2026-11-29T07:52:25Z), for the outputs' "created".
std::string utc_timestamp();
}  // namespace amva
