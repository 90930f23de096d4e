#pragma once
// Numbers read from text files: the whole field must be the number, and a bad one is a value
// the caller reports with its file and line, never a library exception ("stod") that names
// neither.
#include <cstdint>
#include <optional>
#include <string_view>

namespace amva::io {
/// The number in `text` (surrounding spaces and tabs ignored; "nan" and "inf" accepted), or
/// nothing when `text` is empty or holds anything else.
std::optional<double> to_double(std::string_view text);
/// The integer in `text` (surrounding spaces and tabs ignored), or nothing when it is empty,
/// holds anything else or does not fit.
std::optional<std::int64_t> to_integer(std::string_view text);
}  // namespace amva::io
