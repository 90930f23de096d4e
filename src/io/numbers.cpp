#include "amva/io/numbers.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

namespace amva::io {
namespace {
std::string_view trimmed(std::string_view t) {
  const auto first = t.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return t.substr(first, t.find_last_not_of(" \t\r") - first + 1);
}
// from_chars takes no leading '+', which writers of score files do use.
std::string_view without_plus(std::string_view t) {
  return t.size() > 1 && t.front() == '+' && t[1] != '-' ? t.substr(1) : t;
}
}  // namespace

std::optional<double> to_double(std::string_view text) {
  const auto t = without_plus(trimmed(text));
  if (t.empty()) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (end != t.data() + t.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Too large for a double: not a usable number. Too small (4e-320, a subnormal value, or
    // 1e-400, which rounds to zero): a number all the same, as strtod gives it.
    const std::string copy(t);
    const double near = std::strtod(copy.c_str(), nullptr);
    if (!(std::abs(near) <= std::numeric_limits<double>::min())) return std::nullopt;
    return near;
  }
  if (ec != std::errc()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> to_integer(std::string_view text) {
  const auto t = without_plus(trimmed(text));
  if (t.empty()) return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return v;
}
}  // namespace amva::io
