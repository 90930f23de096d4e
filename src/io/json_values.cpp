#include "amva/io/json_values.hpp"

#include <fmt/format.h>

#include <cmath>

namespace amva::io {

nlohmann::json json_number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json json_interval(double lo, double hi) {
  return {json_number(lo), json_number(hi)};
}

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string interval_text(const nlohmann::json& value, const nlohmann::json& interval, int decimals) {
  const auto num = [&](const nlohmann::json& j) {
    return j.is_number() ? fmt::format("{:.{}f}", j.get<double>(), decimals) : "n/a";
  };
  if (!interval.is_array() || interval.size() != 2) return num(value);
  return fmt::format("{} [{}, {}]", num(value), num(interval[0]), num(interval[1]));
}

std::string bounded_text(double value, double lo, double hi, int decimals) {
  return interval_text(json_number(value), json_interval(lo, hi), decimals);
}

}  // namespace amva::io
