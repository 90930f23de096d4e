#pragma once
// How the report's sections write numbers, intervals and verdicts, so that they read alike.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "amva/report/html_report.hpp"

namespace amva::report {

/// A number to `digits` decimals; n/a when it is not finite.
inline std::string num(double v, int digits = 4) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "n/a";
}

/// A value with its interval in smaller type: an analysis::Interval or an eval::Pauc.
template <typename Bounded>
std::string with_ci(const Bounded& b, int digits = 4) {
  return fmt::format("{} <small>[{}, {}]</small>", num(b.value, digits), num(b.lo, digits), num(b.hi, digits));
}

/// A verdict's CSS class: its words joined by underscores.
inline std::string verdict_class(std::string verdict) {
  std::replace(verdict.begin(), verdict.end(), ' ', '_');
  return html_escape(verdict);
}

/// A verdict in its colour.
inline std::string verdict_span(const std::string& v) {
  return fmt::format("<span class=\"{}\">{}</span>", verdict_class(v), html_escape(v));
}

}  // namespace amva::report
