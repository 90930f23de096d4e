#pragma once
// Numbers in the JSON outputs, and their text on a terminal.
#include <nlohmann/json.hpp>
#include <string>

namespace amva::io {
/// A JSON number; NaN and infinities become null (JSON has no NaN).
nlohmann::json json_number(double v);
/// "0.0102 [0.0059, 0.0142]" from a value and its [lo, hi] interval (`decimals` after the
/// point); "n/a" for null.
std::string interval_text(const nlohmann::json& value, const nlohmann::json& interval, int decimals = 4);
}  // namespace amva::io
