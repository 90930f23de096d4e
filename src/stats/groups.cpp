#include "amva/stats/groups.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "amva/error.hpp"

namespace amva::stats {
namespace {

Error bad_rule(const std::string& text, const std::string& why) {
  return Error(ErrorCode::InvalidArgument,
               fmt::format("group rule '{}': {} (use top:K with 0 < K <= 50, quantiles:B with B >= 2, or "
                           "thresholds:T1,T2,... ascending)",
                           text, why));
}

double parse_number(const std::string& text, const std::string& rule) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size() || !std::isfinite(v)) throw std::invalid_argument(text);
    return v;
  } catch (const std::logic_error&) {
    throw bad_rule(rule, fmt::format("'{}' is not a number", text));
  }
}

Group make_group(std::string name, std::vector<std::int64_t> rows, const std::vector<double>& scores) {
  Group g{std::move(name), std::move(rows), std::numeric_limits<double>::quiet_NaN(),
          std::numeric_limits<double>::quiet_NaN()};
  for (const auto r : g.rows) {
    const double s = scores[static_cast<std::size_t>(r)];
    g.score_min = std::isnan(g.score_min) ? s : std::min(g.score_min, s);
    g.score_max = std::isnan(g.score_max) ? s : std::max(g.score_max, s);
  }
  std::sort(g.rows.begin(), g.rows.end());
  return g;
}

}  // namespace

GroupRule GroupRule::parse(const std::string& text) {
  GroupRule rule;
  std::string kind = text;
  std::string value;
  if (const auto colon = text.find(':'); colon != std::string::npos) {
    kind = text.substr(0, colon);
    value = text.substr(colon + 1);
  } else if (!text.empty() && text.back() == '%') {
    kind = "top";
    value = text.substr(0, text.size() - 1);
  }
  if (kind == "top" || kind == "extremes") {
    rule.kind = Kind::Extremes;
    if (!value.empty()) rule.percent = parse_number(value, text);
    if (!(rule.percent > 0 && rule.percent <= 50)) throw bad_rule(text, "K must lie in (0, 50]");
  } else if (kind == "quantiles") {
    rule.kind = Kind::Quantiles;
    if (!value.empty()) {
      const double b = parse_number(value, text);
      if (b != std::floor(b) || b < 2 || b > 1000) throw bad_rule(text, "B must be a whole number from 2 to 1000");
      rule.bins = static_cast<int>(b);
    }
  } else if (kind == "thresholds") {
    rule.kind = Kind::Thresholds;
    std::stringstream list(value);
    for (std::string item; std::getline(list, item, ',');) rule.thresholds.push_back(parse_number(item, text));
    if (rule.thresholds.empty()) throw bad_rule(text, "no thresholds given");
    for (std::size_t i = 1; i < rule.thresholds.size(); ++i) {
      if (!(rule.thresholds[i] > rule.thresholds[i - 1])) throw bad_rule(text, "thresholds must be ascending");
    }
  } else {
    throw bad_rule(text, fmt::format("unknown kind '{}'", kind));
  }
  return rule;
}

std::string GroupRule::to_string() const {
  switch (kind) {
    case Kind::Extremes:
      return fmt::format("top:{}", percent);
    case Kind::Quantiles:
      return fmt::format("quantiles:{}", bins);
    case Kind::Thresholds:
      return fmt::format("thresholds:{}", fmt::join(thresholds, ","));
  }
  return {};
}

std::string GroupRule::describe() const {
  const std::string ties = "ties broken by store row id, lower ids ranked lower";
  switch (kind) {
    case Kind::Extremes:
      return fmt::format("low = bottom {0} %, high = top {0} % of the images ranked by score ({1})", percent, ties);
    case Kind::Quantiles:
      return fmt::format("{} equal-count quantile bins of the images ranked by score, q1 lowest ({})", bins, ties);
    case Kind::Thresholds:
      return fmt::format("bins split at scores {} (a score equal to a threshold goes to the upper bin)",
                         fmt::join(thresholds, ", "));
  }
  return {};
}

std::vector<Group> make_groups(const std::vector<double>& scores, const GroupRule& rule) {
  std::vector<std::int64_t> ranked;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!std::isnan(scores[i])) ranked.push_back(static_cast<std::int64_t>(i));
  }
  const std::size_t n = ranked.size();
  if (n < 2) throw Error(ErrorCode::InvalidArgument, fmt::format("{} scored image(s): groups need at least 2", n));
  std::sort(ranked.begin(), ranked.end(), [&](std::int64_t a, std::int64_t b) {
    const double sa = scores[static_cast<std::size_t>(a)];
    const double sb = scores[static_cast<std::size_t>(b)];
    return sa != sb ? sa < sb : a < b;
  });
  const auto slice = [&](std::size_t from, std::size_t to) {
    return std::vector<std::int64_t>(ranked.begin() + static_cast<std::ptrdiff_t>(from),
                                     ranked.begin() + static_cast<std::ptrdiff_t>(to));
  };
  std::vector<Group> groups;
  switch (rule.kind) {
    case GroupRule::Kind::Extremes: {
      const auto k = std::clamp<std::size_t>(
          static_cast<std::size_t>(std::llround(rule.percent * static_cast<double>(n) / 100.0)), 1, n / 2);
      groups.push_back(make_group("low", slice(0, k), scores));
      groups.push_back(make_group("high", slice(n - k, n), scores));
      break;
    }
    case GroupRule::Kind::Quantiles: {
      const auto b = static_cast<std::size_t>(rule.bins);
      for (std::size_t j = 0; j < b; ++j) {
        groups.push_back(make_group(fmt::format("q{}", j + 1), slice(j * n / b, (j + 1) * n / b), scores));
      }
      break;
    }
    case GroupRule::Kind::Thresholds: {
      std::size_t from = 0;
      for (std::size_t j = 0; j <= rule.thresholds.size(); ++j) {
        std::size_t to = from;
        while (to < n &&
               (j == rule.thresholds.size() || scores[static_cast<std::size_t>(ranked[to])] < rule.thresholds[j]))
          ++to;
        groups.push_back(make_group(fmt::format("bin{}", j + 1), slice(from, to), scores));
        from = to;
      }
      break;
    }
  }
  return groups;
}

}  // namespace amva::stats
