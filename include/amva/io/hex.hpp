#pragma once
// Any bytes as text that JSON and line-based files carry unchanged: file names may hold
// newlines or bytes that are not UTF-8, and an internal hand-over must round-trip them.
#include <string>
#include <string_view>

namespace amva::io {
/// Lower-case hex, two digits per byte.
std::string to_hex(std::string_view bytes);
/// The bytes of to_hex's text; throws Error(Parse) for text that is not such hex.
std::string from_hex(std::string_view hex);
}  // namespace amva::io
