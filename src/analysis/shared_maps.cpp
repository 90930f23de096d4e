#include "shared_maps.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>

#include "amva/analysis/regions.hpp"
#include "amva/error.hpp"
#include "team_values.hpp"

namespace amva::analysis {
namespace {

constexpr std::int64_t kReadChunk = 8192;      // map rows read at once
constexpr std::size_t kDeviationPart = 65536;  // maps held at once for deviation scores

std::vector<double> mat_vector(const cv::Mat& m) {
  return {m.begin<double>(), m.end<double>()};
}
cv::Mat vector_mat(const std::vector<double>& v) {
  const int size = static_cast<int>(std::lround(std::sqrt(static_cast<double>(v.size()))));
  return cv::Mat(size, size, CV_64F, const_cast<double*>(v.data())).clone();
}

nlohmann::json request_json(const GroupRequest& r) {
  return {{"op", "group"},
          {"rows", r.rows},
          {"region", r.region},
          {"stream_seed", r.stream_seed},
          {"clusters", r.clusters},
          {"keep_maps", r.keep_maps},
          {"memory_budget", r.statistics.memory_budget},
          {"histogram_bins", r.statistics.histogram_bins},
          {"value_lo", r.statistics.value_lo},
          {"value_hi", r.statistics.value_hi},
          {"median", static_cast<int>(r.statistics.median)},
          {"replicates", r.bootstrap.replicates},
          {"seed", r.bootstrap.seed},
          {"confidence", r.bootstrap.confidence}};
}
GroupRequest request_of(const nlohmann::json& j) {
  GroupRequest r;
  r.rows = j["rows"].get<std::vector<std::int64_t>>();
  r.region = j["region"].get<bool>();
  r.stream_seed = j["stream_seed"].get<std::uint64_t>();
  r.clusters = j["clusters"].get<std::vector<std::int64_t>>();
  r.keep_maps = j["keep_maps"].get<bool>();
  r.statistics.memory_budget = j["memory_budget"].get<std::size_t>();
  r.statistics.histogram_bins = j["histogram_bins"].get<int>();
  r.statistics.value_lo = j["value_lo"].get<double>();
  r.statistics.value_hi = j["value_hi"].get<double>();
  r.statistics.median = static_cast<stats::MedianConvention>(j["median"].get<int>());
  r.bootstrap.replicates = j["replicates"].get<int>();
  r.bootstrap.seed = j["seed"].get<std::uint64_t>();
  r.bootstrap.confidence = j["confidence"].get<double>();
  return r;
}

}  // namespace

SharedMaps::SharedMaps(Team& team, io::NpyRowReader& reader, Normalization normalization, const Upsampler& up)
    : team_(team), reader_(reader), normalization_(normalization), up_(up) {}

SharedMaps::~SharedMaps() {
  if (team_.is_root() && team_.size() > 1 && !released_) {
    const nlohmann::json last = {{"op", std::uncaught_exceptions() > 0 ? "failed" : "done"}};
    const auto bytes = nlohmann::json::to_cbor(last);
    team_.broadcast(std::string(bytes.begin(), bytes.end()));
  }
}

std::pair<std::size_t, std::size_t> SharedMaps::my_slice(std::size_t total) const {
  const auto r = static_cast<std::size_t>(team_.rank());
  const auto n = static_cast<std::size_t>(team_.size());
  return {total * r / n, total * (r + 1) / n};
}

// The maps of `rows` (ascending ids), read chunk by chunk and normalised.
std::vector<float> SharedMaps::read_maps(const std::vector<std::int64_t>& rows) const {
  const auto d = static_cast<std::size_t>(reader_.row_size());
  std::vector<float> maps(rows.size() * d);
  std::vector<float> chunk;
  std::size_t next = 0;
  for (std::int64_t first = 0; first < reader_.rows() && next < rows.size(); first += kReadChunk) {
    const std::int64_t count = std::min(kReadChunk, reader_.rows() - first);
    if (rows[next] >= first + count) continue;
    chunk.resize(static_cast<std::size_t>(count) * d);
    reader_.read_rows(first, count, chunk.data());
    while (next < rows.size() && rows[next] < first + count) {
      const auto offset = static_cast<std::size_t>(rows[next] - first) * d;
      std::copy_n(chunk.data() + offset, d, maps.data() + next * d);
      ++next;
    }
  }
  normalize_maps(maps.data(), rows.size(), normalization_, up_);
  return maps;
}

namespace {
// A failure on one rank in the middle of a collective step would leave the others waiting:
// with several ranks it ends the job, naming the rank; alone it is the caller's error.
template <typename Step>
auto guarded(Team& team, Step&& step) {
  try {
    return step();
  } catch (const std::exception& e) {
    if (team.size() > 1) {
      team.abort(fmt::format("rank {} of {} failed while analysing its share of the maps, the others stop with it: {}",
                             team.rank(), team.size(), e.what()));
    }
    throw;
  }
}
void ask(Team& team, const nlohmann::json& request) {
  if (team.size() == 1) return;
  const auto bytes = nlohmann::json::to_cbor(request);
  team.broadcast(std::string(bytes.begin(), bytes.end()));
}
}  // namespace

std::pair<double, double> SharedMaps::value_range(const std::vector<bool>& ok) {
  if (team_.size() > 1) ask(team_, {{"op", "range"}, {"ok", ok}});
  return guarded(team_, [&] { return run_value_range(ok); });
}

GroupMaps SharedMaps::group(const GroupRequest& request) {
  if (team_.size() > 1) ask(team_, request_json(request));
  return guarded(team_, [&] { return run_group(request); });
}

std::vector<double> SharedMaps::deviations(const std::vector<std::int64_t>& rows, const cv::Mat& mam,
                                           const cv::Mat& amv, double eps) {
  if (team_.size() > 1) {
    ask(team_,
        {{"op", "deviations"}, {"rows", rows}, {"mam", mat_vector(mam)}, {"amv", mat_vector(amv)}, {"eps", eps}});
  }
  return guarded(team_, [&] { return run_deviations(rows, mam, amv, eps); });
}

std::vector<float> SharedMaps::maps(const std::vector<std::int64_t>& rows) {
  if (team_.size() > 1) ask(team_, {{"op", "maps"}, {"rows", rows}});
  return guarded(team_, [&] { return run_maps(rows); });
}

void SharedMaps::serve() {
  for (;;) {
    const auto text = team_.broadcast({});
    const auto request = nlohmann::json::from_cbor(text);
    const auto op = request.at("op").get<std::string>();
    if (op == "done" || op == "failed") {
      released_ = true;
      // The root says why; the other ranks only end with an error code.
      if (op == "failed") throw RootError(ErrorCode::Io, "the root rank stopped");
      return;
    }
    guarded(team_, [&] {
      if (op == "range") {
        run_value_range(request["ok"].get<std::vector<bool>>());
      } else if (op == "group") {
        run_group(request_of(request));
      } else if (op == "maps") {
        run_maps(request["rows"].get<std::vector<std::int64_t>>());
      } else if (op == "deviations") {
        run_deviations(request["rows"].get<std::vector<std::int64_t>>(),
                       vector_mat(request["mam"].get<std::vector<double>>()),
                       vector_mat(request["amv"].get<std::vector<double>>()), request["eps"].get<double>());
      } else {
        throw Error(ErrorCode::Mismatch, fmt::format("unknown analysis request '{}'", op));
      }
      return 0;
    });
  }
}

std::pair<double, double> SharedMaps::run_value_range(const std::vector<bool>& ok) {
  double range[2] = {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  const auto d = static_cast<std::size_t>(reader_.row_size());
  const auto [begin, end] = my_slice(static_cast<std::size_t>(reader_.rows()));
  std::vector<float> chunk;
  for (auto first = static_cast<std::int64_t>(begin); first < static_cast<std::int64_t>(end); first += kReadChunk) {
    const std::int64_t count = std::min(kReadChunk, static_cast<std::int64_t>(end) - first);
    chunk.resize(static_cast<std::size_t>(count) * d);
    reader_.read_rows(first, count, chunk.data());
    for (std::int64_t i = 0; i < count; ++i) {
      if (!ok[static_cast<std::size_t>(first + i)]) continue;
      const float* m = chunk.data() + static_cast<std::size_t>(i) * d;
      for (std::size_t k = 0; k < d; ++k) {
        if (std::isfinite(m[k])) {
          range[0] = std::min(range[0], static_cast<double>(m[k]));
          range[1] = std::max(range[1], static_cast<double>(m[k]));
        }
      }
    }
  }
  const auto merged = team_.reduce(std::string(reinterpret_cast<const char*>(range), sizeof range),
                                   [](std::string lower, const std::string& higher) {
                                     double a[2], b[2];
                                     std::memcpy(a, lower.data(), sizeof a);
                                     std::memcpy(b, higher.data(), sizeof b);
                                     a[0] = std::min(a[0], b[0]);
                                     a[1] = std::max(a[1], b[1]);
                                     return std::string(reinterpret_cast<const char*>(a), sizeof a);
                                   });
  if (!team_.is_root()) return {};
  std::memcpy(range, merged.data(), sizeof range);
  if (!(range[1] > range[0])) range[1] = range[0] + 1;
  return {range[0], range[1]};
}

GroupMaps SharedMaps::run_group(const GroupRequest& request) {
  const std::size_t total = request.rows.size();
  const auto [first, last] = my_slice(total);
  const std::vector<std::int64_t> mine(request.rows.begin() + static_cast<std::ptrdiff_t>(first),
                                       request.rows.begin() + static_cast<std::ptrdiff_t>(last));
  auto maps = read_maps(mine);
  const GroupSlice slice{maps, mine.size(), first, total};
  GroupMaps out;
  out.statistics = group_statistics(slice, up_, request.statistics, team_);
  if (request.region) {
    out.region = region_statistics(slice, up_, central_face_mask(), request.bootstrap, request.stream_seed,
                                   request.clusters, team_);
  }
  if (request.keep_maps) {
    out.maps = team_.size() == 1 ? std::move(maps) : gathered_on_root(team_, maps);
  }
  return out;
}

std::vector<float> SharedMaps::run_maps(const std::vector<std::int64_t>& rows) {
  const auto [first, last] = my_slice(rows.size());
  const auto mine =
      read_maps({rows.begin() + static_cast<std::ptrdiff_t>(first), rows.begin() + static_cast<std::ptrdiff_t>(last)});
  return team_.size() == 1 ? mine : gathered_on_root(team_, mine);
}

std::vector<double> SharedMaps::run_deviations(const std::vector<std::int64_t>& rows, const cv::Mat& mam,
                                               const cv::Mat& amv, double eps) {
  const auto [first, last] = my_slice(rows.size());
  std::vector<double> scores;
  scores.reserve(last - first);
  for (std::size_t at = first; at < last; at += kDeviationPart) {
    const std::vector<std::int64_t> part(
        rows.begin() + static_cast<std::ptrdiff_t>(at),
        rows.begin() + static_cast<std::ptrdiff_t>(std::min(at + kDeviationPart, last)));
    const auto part_maps = read_maps(part);
    const auto dev = deviation_scores(part_maps, part.size(), up_, mam, amv, eps);
    scores.insert(scores.end(), dev.begin(), dev.end());
  }
  if (team_.size() == 1) return scores;
  return gathered_on_root(team_, scores);
}

}  // namespace amva::analysis
