#pragma once
// Numbers in the JSON outputs, and their text on a terminal.
#include <nlohmann/json.hpp>
#include <string>

namespace amva::io {
/// A JSON number; NaN and infinities become null (JSON has no NaN).
nlohmann::json json_number(double v);
/// An interval's bounds as a JSON pair [lo, hi], each a json_number.
nlohmann::json json_interval(double lo, double hi);
/// The JSON text of `j` (indented by `indent`, -1: one line). A string that is not valid UTF-8
/// (a file name in another encoding) has its invalid bytes written as U+FFFD instead of
/// failing the whole output, as nlohmann::json's dump() would.
std::string json_text(const nlohmann::json& j, int indent = 2);
/// "0.0102 [0.0059, 0.0142]" from a value and its [lo, hi] interval (`decimals` after the
/// point); "n/a" for null.
std::string interval_text(const nlohmann::json& value, const nlohmann::json& interval, int decimals = 4);
/// interval_text from numbers; a bound that is not finite reads "n/a".
std::string bounded_text(double value, double lo, double hi, int decimals = 4);
}  // namespace amva::io
