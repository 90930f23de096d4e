#include "amva/analysis/robustness.hpp"

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "amva/analysis/null_controls.hpp"
#include "amva/analysis/permutation_tests.hpp"
#include "amva/analysis/regions.hpp"
#include "amva/analysis/verdicts.hpp"
#include "amva/error.hpp"
#include "amva/io/npy.hpp"
#include "amva/stats/random_streams.hpp"
#include "amva/stats/variance_tests.hpp"
#include "amva/store/store.hpp"
#include "analysis_parts.hpp"
#include "region_evaluator.hpp"

namespace amva::analysis {
namespace fs = std::filesystem;

namespace {

constexpr const char* kReproduced = "reproduced";

void report(const RobustnessInputs& in, const std::string& message) {
  in.progress.stage(message);
}

std::string group_label(double percent) {
  return fmt::format("top:{:g}", percent);
}

// Every row's map of one CAM method, as stored (rows x low_pixels).
std::vector<float> read_all_maps(const fs::path& store, const std::string& cam, std::size_t rows, int& h, int& w) {
  io::NpyRowReader reader(store::StoreFolder{store}.maps(cam));
  if (reader.rows() != static_cast<std::int64_t>(rows) || reader.shape().size() != 3) {
    throw Error(ErrorCode::Mismatch,
                fmt::format("{}: {} rows of shape {} but index.csv has {} rows", store::StoreFolder{store}.maps(cam).string(),
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
  double threshold = kUndefined;  // the outside difference whose permutation p is alpha / methods
};

std::vector<Evidence> evaluate(const RobustnessInputs& in, const quality::ScoreColumn& column,
                               const std::vector<float>& maps, const Upsampler& up, const std::string& cam,
                               Normalization normalization, double percent, const std::vector<double>& margins,
                               const std::vector<cv::Mat>& masks, double confidence, double level) {
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
    e.threshold = detectable_difference(tests[k].null_outside, level);
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

// The joint test's counts (JointTest): for each method, the specifications beyond their
// threshold on the real scores, and on each draw of null scores. Filled one CAM method and
// normalisation at a time, as the grid computes them.
class JointCounts {
 public:
  JointCounts(const RobustnessInputs& in, const RobustnessGrid& grid) : in_(in), grid_(grid) {
    const auto& columns = *in.columns;
    identity_.resize(in.units.empty() ? 0 : in.rows);
    for (std::size_t r = 0; r < identity_.size(); ++r) identity_[r] = in.units[r] >= 0 ? in.units[r] : -1;
    for (const auto& column : columns) {
      std::vector<std::int64_t> rows;
      for (std::size_t r = 0; r < column.values.size(); ++r) {
        if (!std::isnan(column.values[r])) rows.push_back(static_cast<std::int64_t>(r));
      }
      scored_.push_back(std::move(rows));
      iccs_.push_back(identity_.empty() ? 0.0 : intraclass_correlation(column.values, identity_));
    }
    observed_.assign(columns.size(), 0);
    null_.assign(columns.size(), std::vector<std::size_t>(static_cast<std::size_t>(grid.null_draws), 0));
  }

  // One CAM method and normalisation: `done` holds its specifications, task t = group size
  // t / methods and method t % methods, one Evidence per margin.
  void add(const std::vector<float>& maps, const Upsampler& up, const std::vector<cv::Mat>& masks,
           const std::vector<std::vector<Evidence>>& done) {
    const auto& columns = *in_.columns;
    const std::size_t methods = columns.size();
    for (std::size_t t = 0; t < done.size(); ++t) {
      for (const auto& e : done[t]) observed_[t % methods] += beyond(e.spec.outside_difference.value, e.threshold);
    }
    // Every row's features once, centred on the scored rows' mean; a group's are their sums.
    const RegionEvaluator eval(up, masks.front());
    const auto d = static_cast<std::size_t>(up.low_pixels());
    const auto F = static_cast<std::size_t>(eval.features());
    const auto P = static_cast<std::size_t>(up.pixels());
    std::vector<char> used(in_.rows, 0);
    for (const auto& rows : scored_) {
      for (const auto r : rows) used[static_cast<std::size_t>(r)] = 1;
    }
    Eigen::VectorXd centre = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(d));
    double count = 0;
    for (std::size_t r = 0; r < in_.rows; ++r) {
      if (!used[r]) continue;
      for (std::size_t k = 0; k < d; ++k) centre[static_cast<Eigen::Index>(k)] += maps[r * d + k];
      count += 1;
    }
    if (count > 0) centre /= count;
    std::vector<double> features(in_.rows * F, 0.0);
    tbb::parallel_for(std::size_t{0}, in_.rows, [&](std::size_t r) {
      if (used[r]) eval.features(maps.data() + r * d, centre, features.data() + r * F);
    });
    std::vector<std::vector<std::size_t>> outside(masks.size());
    for (std::size_t m = 0; m < masks.size(); ++m) {
      const auto* mask = masks[m].ptr<std::uint8_t>();
      for (std::size_t q = 0; q < P; ++q) {
        if (mask[q] == 0) outside[m].push_back(q);
      }
    }
    const auto outside_amv = [&](const std::vector<std::int64_t>& rows, std::vector<double>& sums,
                                 std::vector<double>& pixels, std::vector<double>& out) {
      std::fill(sums.begin(), sums.end(), 0.0);
      for (const auto r : rows) {
        const double* f = features.data() + static_cast<std::size_t>(r) * F;
        for (std::size_t j = 0; j < F; ++j) sums[j] += f[j];
      }
      (void)eval.evaluate(sums.data(), static_cast<double>(rows.size()), centre, pixels.data());
      for (std::size_t m = 0; m < outside.size(); ++m) {
        double sum = 0;
        for (const auto q : outside[m]) sum += pixels[q];
        out[m] = sum / static_cast<double>(outside[m].size());
      }
    };
    tbb::parallel_for(std::size_t{0}, static_cast<std::size_t>(grid_.null_draws), [&](std::size_t draw) {
      std::vector<double> sums(F), pixels(P), low(masks.size()), high(masks.size());
      for (std::size_t c = 0; c < methods; ++c) {
        const auto name = fmt::format("{}/joint/{}", columns[c].name, draw);
        const auto scores =
            null_scores(scored_[c], in_.rows, identity_, iccs_[c], stats::stream_seed(in_.bootstrap.seed, name));
        for (std::size_t g = 0; g < grid_.group_percents.size(); ++g) {
          const auto& evidence = done[g * methods + c];
          auto rule = in_.group;
          rule.kind = stats::GroupRule::Kind::Extremes;
          rule.percent = grid_.group_percents[g];
          rule.tie_seed = stats::stream_seed(in_.bootstrap.seed, name + "/ties");
          const auto groups = stats::make_groups(scores, rule);
          if (groups.front().rows.size() < 2 || groups.back().rows.size() < 2) continue;
          outside_amv(groups.front().rows, sums, pixels, low);
          outside_amv(groups.back().rows, sums, pixels, high);
          for (std::size_t m = 0; m < masks.size(); ++m)
            null_[c][draw] += beyond(low[m] - high[m], evidence[m].threshold);
        }
      }
    });
  }

  [[nodiscard]] JointTest test(std::size_t method) const {
    JointTest t;
    t.draws = grid_.null_draws;
    t.observed = observed_[method];
    auto counts = null_[method];
    std::size_t reaching = 0;
    double sum = 0;
    for (const auto n : counts) {
      reaching += n >= t.observed ? 1 : 0;
      sum += static_cast<double>(n);
    }
    t.null_mean = sum / static_cast<double>(counts.size());
    std::sort(counts.begin(), counts.end());
    t.null_95 = static_cast<double>(counts[static_cast<std::size_t>(0.95 * static_cast<double>(counts.size() - 1))]);
    t.p = static_cast<double>(1 + reaching) / static_cast<double>(1 + counts.size());
    return t;
  }

 private:
  // A positive outside difference that reaches its specification's threshold.
  static std::size_t beyond(double difference, double threshold) {
    return std::isfinite(threshold) && difference > 0 && difference >= threshold ? 1 : 0;
  }

  const RobustnessInputs& in_;
  const RobustnessGrid& grid_;
  std::vector<std::int64_t> identity_;  // one per row, -1 unknown; empty without identities
  std::vector<std::vector<std::int64_t>> scored_;
  std::vector<double> iccs_;
  std::vector<std::size_t> observed_;
  std::vector<std::vector<std::size_t>> null_;  // [method][draw]
};

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
  // The level of each specification's threshold in the joint test: the strictest Holm step.
  const double alpha = 1 - in.bootstrap.confidence;
  const double level = in.family_correction ? alpha / static_cast<double>(columns.size()) : alpha;
  std::optional<JointCounts> joint;
  double joint_seconds = 0;
  if (grid.null_draws > 0) joint.emplace(in, grid);
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
                           confidence, level);
      });
      if (joint) {
        const auto joint_started = std::chrono::steady_clock::now();
        joint->add(maps, up, masks, done);
        joint_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - joint_started).count();
      }
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
  for (std::size_t c = 0; c < columns.size(); ++c) {
    result.methods.push_back(summarize_robustness(columns[c].name, result.specifications));
    if (joint) {
      auto& m = result.methods.back();
      m.joint = joint->test(c);
      m.sentence += fmt::format(
          "; joint test: {} specifications beyond their permutation threshold, {:.1f} on average under null scores "
          "(p = {:.3g}, {} draws)",
          m.joint->observed, m.joint->null_mean, m.joint->p, m.joint->draws);
    }
  }
  result.joint_seconds = joint_seconds;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace amva::analysis
