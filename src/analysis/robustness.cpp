#include "amva/analysis/robustness.hpp"

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "amva/analysis/permutation_tests.hpp"
#include "amva/analysis/regions.hpp"
#include "amva/analysis/verdicts.hpp"
#include "amva/error.hpp"
#include "amva/io/npy.hpp"
#include "amva/stats/random_streams.hpp"
#include "amva/stats/variance_tests.hpp"
#include "amva/store/store.hpp"
#include "analysis_parts.hpp"

namespace amva::analysis {
namespace fs = std::filesystem;

namespace {

constexpr const char* kReproduced = "reproduced";

void report(const RobustnessInputs& in, const std::string& message) {
  if (in.progress) in.progress(message);
}

std::string group_label(double percent) {
  return fmt::format("top:{:g}", percent);
}

// Every row's map of one CAM method, as stored (rows x low_pixels).
std::vector<float> read_all_maps(const fs::path& store, const std::string& cam, std::size_t rows, int& h, int& w) {
  io::NpyRowReader reader(store::maps_file(store, cam));
  if (reader.rows() != static_cast<std::int64_t>(rows) || reader.shape().size() != 3) {
    throw Error(ErrorCode::Mismatch,
                fmt::format("{}: {} rows of shape {} but index.csv has {} rows", store::maps_file(store, cam).string(),
                            reader.rows(), fmt::join(reader.shape(), "x"), rows));
  }
  h = static_cast<int>(reader.shape()[1]);
  w = static_cast<int>(reader.shape()[2]);
  std::vector<float> maps(rows * static_cast<std::size_t>(reader.row_size()));
  if (rows > 0) reader.read_rows(0, static_cast<std::int64_t>(rows), maps.data());
  return maps;
}

std::vector<float> gather(const std::vector<float>& maps, const std::vector<std::int64_t>& rows, std::size_t d) {
  std::vector<float> out(rows.size() * d);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::copy_n(maps.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(rows[i]) * d), d,
                out.begin() + static_cast<std::ptrdiff_t>(i * d));
  }
  return out;
}

std::vector<std::int64_t> units_of(const RobustnessInputs& in, const std::vector<std::int64_t>& rows) {
  std::vector<std::int64_t> units;
  if (in.units.empty()) return units;
  for (const auto r : rows) units.push_back(in.units[static_cast<std::size_t>(r)]);
  return units;
}

// The specifications of one method, CAM method, normalisation and group size: one per margin,
// before the family correction (p_family and the verdict come after every method is done).
struct Evidence {
  Specification spec;
  bool enough = false;
  LowHighDifferences differences;
};

std::vector<Evidence> evaluate(const RobustnessInputs& in, const quality::ScoreColumn& column,
                               const std::vector<float>& maps, const Upsampler& up, const std::string& cam,
                               Normalization normalization, double percent, const std::vector<double>& margins,
                               const std::vector<cv::Mat>& masks, double confidence) {
  auto rule = in.group;
  rule.kind = stats::GroupRule::Kind::Extremes;
  rule.percent = percent;
  const auto groups = stats::make_groups(column.values, rule);
  const auto& low = groups.front();
  const auto& high = groups.back();
  std::vector<Evidence> out(margins.size());
  for (std::size_t k = 0; k < margins.size(); ++k) {
    auto& s = out[k].spec;
    s.method = column.name;
    s.cam = cam;
    s.normalization = normalization;
    s.group_percent = percent;
    s.margin = margins[k];
    s.low = low.rows.size();
    s.high = high.rows.size();
    s.log_ratio = s.outside_difference = {kUndefined, kUndefined, kUndefined};
    s.p = s.p_family = kUndefined;
  }
  if (low.rows.size() < 2 || high.rows.size() < 2) return out;
  const auto d = static_cast<std::size_t>(up.low_pixels());
  const auto low_maps = gather(maps, low.rows, d);
  const auto high_maps = gather(maps, high.rows, d);
  const auto low_units = units_of(in, low.rows);
  const auto high_units = units_of(in, high.rows);
  // The analysis' own streams: every specification draws what the analysis draws.
  const auto low_region =
      region_statistics(low_maps, low.rows.size(), up, masks, in.bootstrap,
                        stats::stream_seed(in.bootstrap.seed, column.name + "/" + low.name), low_units);
  const auto high_region =
      region_statistics(high_maps, high.rows.size(), up, masks, in.bootstrap,
                        stats::stream_seed(in.bootstrap.seed, column.name + "/" + high.name), high_units);
  const PooledGroups pooled{low_maps, low.rows.size(), high_maps, high.rows.size(), low_units, high_units};
  std::vector<OutsideTest> tests;
  try {
    tests = outside_tests(pooled, up, masks, in.permutations,
                          stats::stream_seed(in.bootstrap.seed, column.name + "/permutations"));
  } catch (const Error& e) {
    // A few faces of fewer people (top:25 of a handful) cannot be dealt into two groups of two:
    // that specification has not enough images, and the rest of the grid goes on.
    if (e.code() != ErrorCode::InvalidArgument) throw;
    return out;
  }
  for (std::size_t k = 0; k < margins.size(); ++k) {
    auto& e = out[k];
    e.enough = true;
    e.differences = low_high_differences(low_region[k], high_region[k], confidence);
    e.spec.log_ratio = e.differences.log_ratio;
    e.spec.outside_difference = e.differences.outside_amv;
    e.spec.outside_difference.value = tests[k].difference;
    e.spec.p = tests[k].p;
  }
  return out;
}

// The verdicts of one specification across the methods (the family), as decide_verdicts
// judges the analysis' own.
void decide(const RobustnessInputs& in, std::vector<Evidence*>& family) {
  const double alpha = 1 - in.bootstrap.confidence;
  std::vector<double> p;
  for (const auto* e : family) p.push_back(e->enough ? e->spec.p : kUndefined);
  const auto adjusted = in.family_correction ? stats::holm(p) : p;
  for (std::size_t i = 0; i < family.size(); ++i) {
    auto& e = *family[i];
    if (!e.enough) {
      e.spec.verdict = "not enough images";
      continue;
    }
    RegionEvidence r;
    r.enough_images = true;
    r.outside_difference = e.spec.outside_difference.value;
    r.outside_interval = e.differences.outside_amv;
    r.p_family = adjusted[i];
    r.alpha = alpha;
    r.log_ratio = e.differences.log_ratio;
    r.smallest_effect = in.smallest_effect;
    r.inside_difference = e.differences.inside_amv;
    r.outside_minus_inside = e.differences.outside_minus_inside;
    e.spec.p_family = adjusted[i];
    e.spec.verdict = decide_finding(r);
  }
}

std::string value_of(const Specification& s, const std::string& dimension) {
  if (dimension == "cam") return s.cam;
  if (dimension == "normalization") return to_string(s.normalization);
  if (dimension == "group") return group_label(s.group_percent);
  return margin_label(s.margin);
}

std::string dimension_words(const std::string& dimension) {
  if (dimension == "cam") return "the CAM method";
  if (dimension == "normalization") return "the normalisation";
  if (dimension == "group") return "the group size";
  return "the central face's margin";
}

}  // namespace

std::string margin_label(double margin) {
  return fmt::format("{:g} d", margin);
}

MethodRobustness summarize_robustness(const std::string& method, const std::vector<Specification>& specifications) {
  MethodRobustness m;
  m.method = method;
  std::map<std::string, std::size_t> verdicts;
  for (const auto& s : specifications) {
    if (s.method != method) continue;
    ++m.specifications;
    m.reproduced += s.verdict == kReproduced ? 1 : 0;
    ++verdicts[s.verdict];
  }
  if (m.specifications == 0) return m;
  if (m.reproduced == 0 || m.reproduced == m.specifications) {
    // One verdict about the finding everywhere; the other words still say why it is not reproduced.
    std::vector<std::string> parts;
    for (const auto& [word, count] : verdicts) parts.push_back(fmt::format("{} in {}", word, count));
    m.sentence = m.reproduced == m.specifications ? fmt::format("reproduced in all {} specifications", m.specifications)
                                                  : fmt::format("reproduced in none of {} specifications ({})",
                                                                m.specifications, fmt::join(parts, ", "));
    return m;
  }
  // The choice that moves the verdict most: the dimension whose values differ most in their
  // share of reproduced specifications (the first in the grid's order on a tie).
  for (const std::string dimension : {"cam", "normalization", "group", "margin"}) {
    VerdictTurn turn;
    turn.dimension = dimension;
    for (const auto& s : specifications) {
      if (s.method != method) continue;
      const auto value = value_of(s, dimension);
      auto it = std::find_if(turn.values.begin(), turn.values.end(), [&](const auto& v) { return v.value == value; });
      if (it == turn.values.end()) it = turn.values.insert(turn.values.end(), VerdictTurn::Value{value, 0, 0});
      ++it->specifications;
      it->reproduced += s.verdict == kReproduced ? 1 : 0;
    }
    if (turn.values.size() < 2) continue;
    double lo = 1, hi = 0;
    for (const auto& v : turn.values) {
      const double share = static_cast<double>(v.reproduced) / static_cast<double>(v.specifications);
      lo = std::min(lo, share);
      hi = std::max(hi, share);
    }
    turn.spread = hi - lo;
    if (!m.turns_on || turn.spread > m.turns_on->spread) m.turns_on = turn;
  }
  m.sentence = fmt::format("reproduced in {} of {} specifications", m.reproduced, m.specifications);
  if (m.turns_on) {
    std::vector<std::string> with, partly, without;
    for (const auto& v : m.turns_on->values) {
      const auto text = fmt::format("{} ({} of {})", v.value, v.reproduced, v.specifications);
      if (v.reproduced == v.specifications) {
        with.push_back(text);
      } else if (v.reproduced == 0) {
        without.push_back(text);
      } else {
        partly.push_back(text);
      }
    }
    std::vector<std::string> parts;
    if (!with.empty()) parts.push_back(fmt::format("reproduced with {}", fmt::join(with, ", ")));
    if (!partly.empty()) parts.push_back(fmt::format("partly with {}", fmt::join(partly, ", ")));
    if (!without.empty()) parts.push_back(fmt::format("not with {}", fmt::join(without, ", ")));
    m.sentence +=
        fmt::format("; the verdict turns on {}: {}", dimension_words(m.turns_on->dimension), fmt::join(parts, "; "));
  }
  return m;
}

Robustness robustness_grid(const RobustnessInputs& in, const RobustnessGrid& grid_asked) {
  const auto started = std::chrono::steady_clock::now();
  if (!in.columns) throw Error(ErrorCode::InvalidArgument, "the robustness grid needs score columns");
  const auto& columns = *in.columns;
  Robustness result;
  result.grid = grid_asked;
  auto& grid = result.grid;
  const auto stored = store::cams(in.store);
  if (grid.cams.empty()) grid.cams = stored;
  for (const auto& cam : grid.cams) {
    if (std::find(stored.begin(), stored.end(), cam) == stored.end()) {
      throw Error(ErrorCode::NotFound, fmt::format("{}: no {} maps for the robustness grid (it has: {})",
                                                   in.store.string(), cam, fmt::join(stored, ", ")));
    }
  }
  if (grid.cams.empty() || grid.normalizations.empty() || grid.group_percents.empty() || grid.margins.empty()) {
    throw Error(ErrorCode::InvalidArgument, "the robustness grid needs at least one value of every choice");
  }
  std::vector<cv::Mat> masks;
  for (const double m : grid.margins) masks.push_back(central_face_mask(m));
  const double confidence = in.family_correction && columns.size() > 1
                                ? 1 - (1 - in.bootstrap.confidence) / static_cast<double>(columns.size())
                                : in.bootstrap.confidence;
  // evidence[method][spec within the method], in the grid's order.
  std::vector<std::vector<Evidence>> evidence(columns.size());
  for (const auto& cam : grid.cams) {
    int h = 0, w = 0;
    const auto stored_maps = read_all_maps(in.store, cam, in.rows, h, w);
    const Upsampler up(h, w);
    for (const auto normalization : grid.normalizations) {
      report(in, fmt::format("robustness: {} maps, {} normalisation", cam, to_string(normalization)));
      auto maps = stored_maps;
      normalize_maps(maps.data(), in.rows, normalization, up);
      // Every method and group size at once: each is a choice of rows of the same maps.
      const std::size_t tasks = grid.group_percents.size() * columns.size();
      std::vector<std::vector<Evidence>> done(tasks);
      tbb::parallel_for(std::size_t{0}, tasks, [&](std::size_t t) {
        const double percent = grid.group_percents[t / columns.size()];
        done[t] = evaluate(in, columns[t % columns.size()], maps, up, cam, normalization, percent, grid.margins, masks,
                           confidence);
      });
      for (std::size_t t = 0; t < tasks; ++t) {
        for (auto& e : done[t]) evidence[t % columns.size()].push_back(std::move(e));
      }
    }
  }
  // The family of a specification: the same choices under every method.
  const std::size_t per_method = evidence.empty() ? 0 : evidence.front().size();
  for (std::size_t k = 0; k < per_method; ++k) {
    std::vector<Evidence*> family;
    for (auto& method : evidence) family.push_back(&method[k]);
    decide(in, family);
  }
  for (std::size_t c = 0; c < columns.size(); ++c) {
    for (auto& e : evidence[c]) result.specifications.push_back(std::move(e.spec));
  }
  for (const auto& column : columns) result.methods.push_back(summarize_robustness(column.name, result.specifications));
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace amva::analysis
