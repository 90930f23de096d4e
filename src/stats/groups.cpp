#include "amva/stats/groups.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "amva/error.hpp"
#include "amva/stats/random_streams.hpp"

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

GroupRule::Ties GroupRule::parse_ties(const std::string& text) {
  if (text == "random") return Ties::Random;
  if (text == "exclude") return Ties::Exclude;
  if (text == "id") return Ties::RowId;
  throw Error(ErrorCode::InvalidArgument, fmt::format("ties '{}': use random, exclude or id", text));
}

std::string GroupRule::to_string(Ties ties) {
  switch (ties) {
    case Ties::Random:
      return "random";
    case Ties::Exclude:
      return "exclude";
    case Ties::RowId:
      return "id";
  }
  return {};
}

GroupRule GroupRule::parse(const std::string& text) {
  GroupRule rule;
  std::string kind = text;
  std::string value;
  if (const auto colon = text.find(':'); colon != std::string::npos) {
    kind = text.substr(0, colon);
    value = text.substr(colon + 1);
    // "top:" with nothing after the colon is a typo, not a request for the default.
    if (value.empty()) throw bad_rule(text, "a value must follow the colon (e.g. top:10, quantiles:4)");
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
  std::string ties;
  switch (this->ties) {
    case Ties::Random:
      ties = fmt::format("equal scores ordered pseudo-randomly with seed {}, independent of file order", tie_seed);
      break;
    case Ties::Exclude:
      ties = "equal scores that straddle a group boundary are left out of both groups";
      break;
    case Ties::RowId:
      ties = "equal scores ordered by store row id, lower ids ranked lower";
      break;
  }
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

std::vector<Group> make_groups(const std::vector<double>& scores, const GroupRule& rule,
                               std::vector<BoundaryTie>* ties) {
  std::vector<std::int64_t> ranked;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!std::isnan(scores[i])) ranked.push_back(static_cast<std::int64_t>(i));
  }
  const std::size_t n = ranked.size();
  if (n < 2) throw Error(ErrorCode::InvalidArgument, fmt::format("{} scored image(s): groups need at least 2", n));
  const auto score_of = [&](std::int64_t row) { return scores[static_cast<std::size_t>(row)]; };
  const auto tie_key = [&](std::int64_t row) {
    return rule.ties == GroupRule::Ties::RowId ? static_cast<std::uint64_t>(row)
                                               : mix64(rule.tie_seed ^ mix64(static_cast<std::uint64_t>(row)));
  };
  std::sort(ranked.begin(), ranked.end(), [&](std::int64_t a, std::int64_t b) {
    const double sa = score_of(a);
    const double sb = score_of(b);
    if (sa != sb) return sa < sb;
    const auto ka = tie_key(a);
    const auto kb = tie_key(b);
    return ka != kb ? ka < kb : a < b;
  });

  // Groups as rank ranges [from, to), then the boundaries between adjacent ranges.
  struct Range {
    std::string name;
    std::size_t from, to;
  };
  std::vector<Range> ranges;
  switch (rule.kind) {
    case GroupRule::Kind::Extremes: {
      const auto k = std::clamp<std::size_t>(
          static_cast<std::size_t>(std::llround(rule.percent * static_cast<double>(n) / 100.0)), 1, n / 2);
      ranges = {{"low", 0, k}, {"high", n - k, n}};
      break;
    }
    case GroupRule::Kind::Quantiles: {
      const auto b = static_cast<std::size_t>(rule.bins);
      for (std::size_t j = 0; j < b; ++j) ranges.push_back({fmt::format("q{}", j + 1), j * n / b, (j + 1) * n / b});
      break;
    }
    case GroupRule::Kind::Thresholds: {
      std::size_t from = 0;
      for (std::size_t j = 0; j <= rule.thresholds.size(); ++j) {
        std::size_t to = from;
        while (to < n && (j == rule.thresholds.size() || score_of(ranked[to]) < rule.thresholds[j])) ++to;
        ranges.push_back({fmt::format("bin{}", j + 1), from, to});
        from = to;
      }
      break;
    }
  }
  std::vector<bool> excluded(n, false);
  if (rule.kind != GroupRule::Kind::Thresholds) {
    struct Cut {
      std::size_t at;
      std::string lower, upper;
    };
    std::vector<Cut> cuts;
    for (std::size_t j = 0; j < ranges.size(); ++j) {
      const bool gap_after = j + 1 < ranges.size() && ranges[j].to < ranges[j + 1].from;
      if (j + 1 < ranges.size() && !gap_after) cuts.push_back({ranges[j].to, ranges[j].name, ranges[j + 1].name});
      if (gap_after) {
        cuts.push_back({ranges[j].to, ranges[j].name, "rest"});
        cuts.push_back({ranges[j + 1].from, "rest", ranges[j + 1].name});
      }
    }
    for (const auto& cut : cuts) {
      if (cut.at == 0 || cut.at >= n || score_of(ranked[cut.at - 1]) != score_of(ranked[cut.at])) continue;
      const double tied = score_of(ranked[cut.at]);
      std::size_t first = cut.at;
      while (first > 0 && score_of(ranked[first - 1]) == tied) --first;
      std::size_t last = cut.at;
      while (last < n && score_of(ranked[last]) == tied) ++last;
      if (ties) ties->push_back({cut.lower, cut.upper, tied, last - first, cut.at - first, last - cut.at});
      if (rule.ties == GroupRule::Ties::Exclude) std::fill(excluded.begin() + first, excluded.begin() + last, true);
    }
  }
  std::vector<Group> groups;
  for (const auto& r : ranges) {
    std::vector<std::int64_t> rows;
    for (std::size_t k = r.from; k < r.to; ++k) {
      if (!excluded[k]) rows.push_back(ranked[k]);
    }
    groups.push_back(make_group(r.name, std::move(rows), scores));
  }
  return groups;
}

}  // namespace amva::stats
