#include "amva/analysis/analyze.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <opencv2/core.hpp>
#include <optional>

#include "amva/analysis/analysis_folder.hpp"
#include "amva/analysis/reference.hpp"
#include "amva/analysis/regions.hpp"
#include "amva/analysis/variance_significance.hpp"
#include "amva/analysis/verdicts.hpp"
#include "amva/error.hpp"
#include "amva/io/npy.hpp"
#include "amva/io/staged_output.hpp"
#include "amva/stats/distributions.hpp"
#include "amva/stats/random_streams.hpp"
#include "amva/stats/variance_tests.hpp"
#include "amva/store/store.hpp"
#include "analysis_parts.hpp"
#include "shared_maps.hpp"

namespace amva::analysis {
namespace fs = std::filesystem;
namespace {

using stats::kNaN;

void report(const AnalysisOptions& opt, const std::string& message) {
  opt.progress.stage(message);
}

std::vector<double> mat_values(const cv::Mat& m) {
  std::vector<double> v;
  v.reserve(m.total());
  for (auto it = m.begin<double>(); it != m.end<double>(); ++it) {
    if (std::isfinite(*it)) v.push_back(*it);
  }
  return v;
}

// Replicate i of a against replicate i of b: the groups draw from independent streams, so the
// pairs are independent draws of the difference.
std::vector<double> replicate_differences(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> diff(std::min(a.size(), b.size()));
  for (std::size_t i = 0; i < diff.size(); ++i) diff[i] = a[i] - b[i];
  return diff;
}

DensityPair densities(const cv::Mat& high, const cv::Mat& low) {
  const auto h = mat_values(high);
  const auto l = mat_values(low);
  DensityPair d;
  if (h.size() < 2 || l.size() < 2) return d;
  const auto [hmin, hmax] = std::minmax_element(h.begin(), h.end());
  const auto [lmin, lmax] = std::minmax_element(l.begin(), l.end());
  const double lo = std::min(*hmin, *lmin);
  const double hi = std::max(*hmax, *lmax);
  const double pad = 0.05 * std::max(hi - lo, 1e-9);
  d.grid = stats::linspace(lo - pad, hi + pad, 256);
  d.high = stats::gaussian_kde(h, d.grid);
  d.low = stats::gaussian_kde(l, d.grid);
  d.wasserstein1 = stats::wasserstein1(h, l);
  d.ks = stats::ks_distance(h, l);
  return d;
}

// The bootstrap cluster of each row: its identity, or a cluster of its own when unknown.
std::vector<std::int64_t> clusters_of(const std::vector<std::int64_t>& rows, const eval::Identities& ids) {
  std::vector<std::int64_t> c;
  c.reserve(rows.size());
  for (const auto r : rows) {
    c.push_back(ids.unit_of(static_cast<std::size_t>(r)));
  }
  return c;
}

// What every step of one analysis reads: the options, the store's index and maps, and the
// statistics settings they share.
struct Run {
  Run(const AnalysisOptions& options, const store::StoreMeta& store_meta, const std::vector<store::IndexEntry>& rows,
      io::NpyRowReader& map_rows, const Upsampler& upsampler, SharedMaps& shared_maps)
      : opt(options), meta(store_meta), index(rows), maps(map_rows), up(upsampler), shared(shared_maps) {}
  const AnalysisOptions& opt;
  const store::StoreMeta& meta;
  const std::vector<store::IndexEntry>& index;
  io::NpyRowReader& maps;
  const Upsampler& up;
  SharedMaps& shared;  // reads each group's maps, alone or as a team
  GroupStatisticsOptions gopt;
  eval::Identities identities;
  bool by_identity = false;
  std::string cam;
  double family_confidence = 0.95;  // of the low-against-high intervals: 1 - alpha / methods
};

// The CAM method whose maps are analysed: the one asked for, else the store's only one, else gradcam.
std::string choose_cam(const AnalysisOptions& opt) {
  std::string cam = opt.cam;
  const auto cams = store::cams(opt.store);
  if (cam.empty()) {
    if (cams.size() == 1) {
      cam = cams.front();
    } else if (std::find(cams.begin(), cams.end(), "gradcam") != cams.end()) {
      cam = "gradcam";
    } else {
      throw Error(ErrorCode::NotFound,
                  cams.empty()
                      ? fmt::format("{}: the store has no activation maps (extract with --cam)", opt.store.string())
                      : fmt::format("{}: choose --cam among: {}", opt.store.string(), fmt::join(cams, ", ")));
    }
  } else if (std::find(cams.begin(), cams.end(), cam) == cams.end()) {
    throw Error(ErrorCode::NotFound,
                fmt::format("{}: no {} maps (it has: {}; extract with --cam {})", opt.store.string(), cam,
                            cams.empty() ? "none" : fmt::format("{}", fmt::join(cams, ", ")), cam));
  }
  return cam;
}

void check_maps(const AnalysisOptions& opt, io::NpyRowReader& maps, const std::vector<store::IndexEntry>& index,
                const std::string& cam) {
  if (maps.rows() != static_cast<std::int64_t>(index.size()) || maps.shape().size() != 3) {
    throw Error(ErrorCode::Mismatch, fmt::format("{}: {} rows of shape {} but index.csv has {} rows",
                                                 store::StoreFolder{opt.store}.maps(cam).string(), maps.rows(),
                                                 fmt::join(maps.shape(), "x"), index.size()));
  }
}

// One method's quality groups: per-pixel statistics and region statistics with intervals. The
// low and high groups keep their native maps for the variance test.
MethodResult analyse_groups(const Run& run, quality::ScoreColumn& column, std::vector<std::string>& warnings) {
  const auto& opt = run.opt;
  MethodResult m;
  std::vector<stats::BoundaryTie> ties;
  const auto groups = stats::make_groups(column.values, opt.group, &ties);
  for (double v : column.values) m.scored += std::isnan(v) ? 0 : 1;
  m.typed.name = column.name;
  m.typed.source = column.source;
  m.typed.ties = ties;
  m.ties = ties;
  for (const auto& t : ties) {
    warnings.push_back(fmt::format(
        "{}: {} faces share the score {} at the boundary {} | {} ({} ranked below, {} above; ties: {})", column.name,
        t.tied, t.score, t.lower, t.upper, t.in_lower, t.in_upper, stats::GroupRule::to_string(opt.group.ties)));
  }
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    const auto& g = groups[gi];
    report(opt, fmt::format("{}: group {} ({} faces)", column.name, g.name, g.rows.size()));
    GroupRequest request;
    request.rows = g.rows;
    request.region = g.rows.size() >= 2;
    request.stream_seed = stats::stream_seed(opt.bootstrap.seed, column.name + "/" + g.name);
    if (run.by_identity) request.clusters = clusters_of(g.rows, run.identities);
    request.keep_maps = gi == 0 || gi + 1 == groups.size();  // for the variance tests
    request.statistics = run.gopt;
    request.bootstrap = opt.bootstrap;
    auto maps = run.shared.group(request);
    auto& summary =
        m.typed.groups.emplace_back(GroupSummary{g.name, g.rows.size(), g.score_min, g.score_max, {}, g.rows, {}});
    for (const auto row : g.rows) summary.scores.push_back(column.values[static_cast<std::size_t>(row)]);
    if (const auto& r = maps.region) {
      summary.region =
          RegionIntervals{r->inside_am, r->inside_amv, r->outside_am, r->outside_amv, r->ratio_am, r->ratio_amv};
    }
    m.groups.push_back({g, std::move(maps.statistics), std::move(maps.region), std::move(maps.maps)});
  }
  m.scores = std::move(column);
  return m;
}

// Low against high: the bootstrap intervals of their region differences, at the confidence of
// the run's family of methods (Bonferroni).
void add_bootstrap_comparison(MethodResult& m, const RegionStatistics& lr, const RegionStatistics& hr, double conf) {
  const auto d = low_high_differences(lr, hr, conf);
  m.finding.outside_amv_low_minus_high = d.outside_amv;
  m.finding.outside_minus_inside = d.outside_minus_inside;
  m.finding.log_ratio = d.log_ratio;
  m.low_minus_high = d;
}

// D-AM-V, D-MAM, the low-against-high intervals, the per-cell variance test on the native
// grid, and the densities of the two groups' map values.
void compare_groups(const Run& run, MethodResult& m, std::vector<std::string>& warnings) {
  const auto& inside = central_face_mask();
  auto& low = m.groups.front();
  auto& high = m.groups.back();
  m.d_amv_signed = low.stats.amv - high.stats.amv;
  m.d_mam_signed = low.stats.mam - high.stats.mam;
  m.d_amv = cv::abs(m.d_amv_signed);
  m.d_mam = cv::abs(m.d_mam_signed);
  cv::Mat flipped;
  cv::flip(m.d_amv, flipped, 1);
  m.d_amv_symmetric = 0.5 * (m.d_amv + flipped);
  m.d_amv_mean_inside = masked_mean(m.d_amv, inside);
  m.d_amv_mean_outside = masked_mean(m.d_amv, ~inside);
  if (low.region && high.region) add_bootstrap_comparison(m, *low.region, *high.region, run.family_confidence);
  if (low.group.rows.size() >= 2 && high.group.rows.size() >= 2) {
    const auto& opt = run.opt;
    report(opt, fmt::format("{}: permutation tests ({} permutations{})", m.scores.name, opt.verdicts.permutations,
                            run.by_identity ? ", whole people" : ""));
    PooledGroups pooled{low.native_maps, low.group.rows.size(), high.native_maps, high.group.rows.size(), {}, {}};
    if (run.by_identity) {
      pooled.low_identities = clusters_of(low.group.rows, run.identities);
      pooled.high_identities = clusters_of(high.group.rows, run.identities);
    }
    m.permutation = permutation_tests(
        pooled, run.up,
        {opt.verdicts.permutations, stats::stream_seed(opt.bootstrap.seed, m.scores.name + "/permutations")});
    // With few people, whole-person permutations have few distinct splits, and sizes wander.
    const auto& t = *m.permutation;
    const auto smaller = std::min(low.group.rows.size(), high.group.rows.size());
    if (run.by_identity && 4 * t.largest_block > smaller) {
      warnings.push_back(fmt::format(
          "{}: one person holds {} of the {} pooled low and high faces, more than a quarter of the smaller group "
          "({}): the permutations have few distinct splits (low group sizes {} to {}), so the tests are coarse",
          m.scores.name, t.largest_block, low.group.rows.size() + high.group.rows.size(), smaller, t.low_size_min,
          t.low_size_max));
    }
    if (opt.verdicts.cell_test == VerdictOptions::CellTest::Permutation) {
      m.significance = cell_significance(*m.permutation, opt.fdr, central_face_box());
    } else {
      m.significance = variance_significance(low.native_maps, low.group.rows.size(), high.native_maps,
                                             high.group.rows.size(), static_cast<int>(run.maps.shape()[1]),
                                             static_cast<int>(run.maps.shape()[2]), opt.fdr, central_face_box());
    }
    const auto& sig = *m.significance;
    m.typed.variance_test = VarianceTestCounts{sig.cells_inside, sig.cells_outside, sig.significant_inside,
                                               sig.significant_outside, sig.test};
    const auto d = static_cast<std::size_t>(run.up.low_pixels());
    m.typed.degenerate = DegenerateMaps{constant_maps(low.native_maps, low.group.rows.size(), d),
                                        constant_maps(high.native_maps, high.group.rows.size(), d)};
  }
  // The native maps were kept for the test only; with many methods they would add up.
  for (auto& g : m.groups) std::vector<float>().swap(g.native_maps);
  m.amv_density = densities(high.stats.amv, low.stats.amv);
  m.median_density = densities(high.stats.median, low.stats.median);
  m.typed.amv = {m.amv_density.wasserstein1, m.amv_density.ks};
  m.typed.median = {m.median_density.wasserstein1, m.median_density.ks};
}

// The high group as amva explain's reference, and how far every scored face lies from it.
void measure_deviations(const Run& run, MethodResult& m) {
  const auto& high = m.groups.back();
  report(run.opt,
         fmt::format("{}: reference from group {} ({} faces{})", m.scores.name, high.group.name, high.group.rows.size(),
                     high.group.rows.size() < 2 ? "; amva explain needs at least 2, for their variation" : ""));
  // A one-face group has no AM-V (NaN): the reference stores it as 0.
  m.reference_amv = high.stats.amv.clone();
  for (auto it = m.reference_amv.begin<double>(); it != m.reference_amv.end<double>(); ++it) {
    *it = std::isnan(*it) ? 0.0 : *it;
  }
  m.reference_eps = reference_eps(high.stats.mam, m.reference_amv);
  for (std::size_t i = 0; i < m.scores.values.size(); ++i) {
    if (!std::isnan(m.scores.values[i])) m.deviation_rows.push_back(static_cast<std::int64_t>(i));
  }
  m.deviations = run.shared.deviations(m.deviation_rows, high.stats.mam, m.reference_amv, m.reference_eps);
}

// Inter-FIQA: agreement of every ordered pair of methods' scores and of their low groups.
std::vector<AgreementPair> agreement_of(const std::vector<MethodResult>& results, std::size_t records,
                                        MethodAgreement& typed) {
  // The typed matrices list the methods by name.
  for (const auto& m : results) typed.methods.push_back(m.scores.name);
  std::sort(typed.methods.begin(), typed.methods.end());
  const auto position = [&](const std::string& name) {
    return static_cast<std::size_t>(std::lower_bound(typed.methods.begin(), typed.methods.end(), name) -
                                    typed.methods.begin());
  };
  const auto n = typed.methods.size();
  typed.spearman.assign(n, std::vector<double>(n, kNaN));
  typed.low_overlap.assign(n, std::vector<double>(n, kNaN));
  std::vector<AgreementPair> pairs;
  for (const auto& a : results) {
    for (const auto& b : results) {
      std::vector<double> va, vb;
      for (std::size_t i = 0; i < records; ++i) {
        if (!std::isnan(a.scores.values[i]) && !std::isnan(b.scores.values[i])) {
          va.push_back(a.scores.values[i]);
          vb.push_back(b.scores.values[i]);
        }
      }
      auto& p = pairs.emplace_back(AgreementPair{a.scores.name, b.scores.name, va.size()});
      p.spearman = stats::spearman(va, vb);
      const auto& la = a.groups.front().group.rows;
      const auto& lb = b.groups.front().group.rows;
      std::vector<std::int64_t> common;
      std::set_intersection(la.begin(), la.end(), lb.begin(), lb.end(), std::back_inserter(common));
      p.low_overlap = la.empty() ? kNaN : static_cast<double>(common.size()) / static_cast<double>(la.size());
      p.low_jaccard = static_cast<double>(common.size()) / static_cast<double>(la.size() + lb.size() - common.size());
      typed.spearman[position(a.scores.name)][position(b.scores.name)] = p.spearman;
      typed.low_overlap[position(a.scores.name)][position(b.scores.name)] = p.low_overlap;
    }
  }
  return pairs;
}

// The store as the ranks of a team open it: the root reads and checks it (an error it meets
// stops every rank), and every rank opens the maps file for its own reads.
struct OpenedStore {
  store::StoreMeta meta;
  std::vector<store::IndexEntry> index;  // the root's only
  std::string cam;
  std::optional<io::NpyRowReader> maps;
};
OpenedStore open_store(const AnalysisOptions& opt, Team& team) {
  OpenedStore s;
  s.cam = decided_by_root(team, [&] {
    s.meta = store::read_meta(opt.store);
    report(opt, "reading the store index");
    s.index = store::read_index_entries(opt.store);
    const auto chosen = choose_cam(opt);
    io::NpyRowReader rows(store::StoreFolder{opt.store}.maps(chosen));
    check_maps(opt, rows, s.index, chosen);
    return chosen;
  });
  try {
    s.maps.emplace(store::StoreFolder{opt.store}.maps(s.cam));
  } catch (const std::exception& e) {
    if (team.size() == 1) throw;
    team.abort(fmt::format("rank {} of {} cannot read the store: {}", team.rank(), team.size(), e.what()));
  }
  return s;
}

// Leaves out the faces whose map holds one value everywhere from every method's scores.
std::size_t drop_constant_maps(const Run& run, std::vector<quality::ScoreColumn>& columns) {
  std::vector<std::int64_t> rows;
  for (std::size_t r = 0; r < run.index.size(); ++r) {
    if (run.index[r].ok) rows.push_back(static_cast<std::int64_t>(r));
  }
  report(run.opt, "finding the maps with one value everywhere");
  const auto maps = run.shared.maps(rows);
  const auto d = static_cast<std::size_t>(run.up.low_pixels());
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!is_constant_map(maps.data() + i * d, d)) continue;
    ++dropped;
    for (auto& c : columns) c.values[static_cast<std::size_t>(rows[i])] = kNaN;
  }
  return dropped;
}

// The verdicts of the run's methods: permutation p-values, Holm across the methods (the
// family), and the decision table of verdicts.hpp.
void decide_verdicts(const AnalysisOptions& opt, std::vector<MethodResult>& results) {
  const double alpha = 1 - opt.bootstrap.confidence;
  std::vector<double> p;
  for (const auto& m : results) p.push_back(m.permutation ? m.permutation->p_outside : kNaN);
  const auto adjusted = opt.verdicts.family_correction ? stats::holm(p) : p;
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto& m = results[i];
    auto& f = m.finding;
    if (!m.low_minus_high || !m.permutation) {
      f.finding = "not enough images";
      f.specificity = "not enough images";
      continue;
    }
    const auto& d = *m.low_minus_high;
    RegionEvidence e;
    e.enough_images = true;
    e.outside_difference = m.permutation->outside_difference;
    e.outside_interval = d.outside_amv;
    e.p_family = adjusted[i];
    e.alpha = alpha;
    e.log_ratio = d.log_ratio;
    e.smallest_effect = opt.verdicts.smallest_effect;
    e.inside_difference = d.inside_amv;
    e.outside_minus_inside = d.outside_minus_inside;
    f.p_outside = m.permutation->p_outside;
    f.p_outside_family = adjusted[i];
    f.finding = decide_finding(e);
    f.specificity = decide_specificity(e, f.finding);
    // The design's reach at the family's level: p must reach alpha / methods (Bonferroni, the
    // strictest Holm step).
    const double level = opt.verdicts.family_correction ? alpha / static_cast<double>(results.size()) : alpha;
    f.detectable_difference = detectable_difference(*m.permutation, level);
    const double high_outside = m.groups.back().region->outside_amv.value;
    f.detectable_log_ratio = std::log((high_outside + f.detectable_difference) / high_outside);
  }
}

// The null controls over every face a method scored, with the real methods' clustering.
NullControls null_controls(const Run& run, const std::vector<MethodResult>& results) {
  const auto& opt = run.opt;
  std::vector<std::int64_t> rows;
  for (std::size_t r = 0; r < run.index.size(); ++r) {
    for (const auto& m : results) {
      if (!std::isnan(m.scores.values[r])) {
        rows.push_back(static_cast<std::int64_t>(r));
        break;
      }
    }
  }
  std::vector<double> iccs;
  if (run.by_identity) {
    for (const auto& m : results) iccs.push_back(intraclass_correlation(m.scores.values, run.identities.of_row));
  }
  report(opt, fmt::format("null controls: {} methods of random scores over {} faces", opt.verdicts.null_controls,
                          rows.size()));
  const auto maps = run.shared.maps(rows);
  NullControlOptions o;
  o.count = opt.verdicts.null_controls;
  o.seed = opt.bootstrap.seed;
  o.alpha = 1 - opt.bootstrap.confidence;
  o.cell_level = opt.fdr;
  o.permutations = opt.verdicts.permutations;
  return run_null_controls(maps, rows, run.index.size(),
                           run.by_identity ? run.identities.of_row : std::vector<std::int64_t>{}, iccs, opt.group,
                           run.up, o);
}

// The verdicts over the grid of choices, with this run's scores, people and test settings.
Robustness robustness(const Run& run, const std::vector<MethodResult>& results) {
  const auto& opt = run.opt;
  std::vector<quality::ScoreColumn> columns;
  for (const auto& m : results) columns.push_back(m.scores);
  RobustnessInputs in;
  in.store = opt.store;
  in.rows = run.index.size();
  in.columns = &columns;
  if (run.by_identity) {
    for (std::size_t r = 0; r < run.index.size(); ++r) in.units.push_back(run.identities.unit_of(r));
  }
  in.group = opt.group;
  in.bootstrap = opt.bootstrap;
  in.permutations = opt.verdicts.permutations;
  in.family_correction = opt.verdicts.family_correction;
  in.smallest_effect = opt.verdicts.smallest_effect;
  in.progress = opt.progress;
  return robustness_grid(in, *opt.robustness);
}

// The run's own settings in the typed result, as the report and the terminal show them.
void describe_run(const Run& run, std::size_t faces, AnalysisResult& result) {
  const auto& opt = run.opt;
  result.records = run.index.size();
  result.faces = faces;
  result.cam = run.cam;
  result.normalization = to_string(opt.normalization);
  result.group_rule = opt.group.to_string();
  result.fdr = opt.fdr;
  result.bootstrap_unit = run.by_identity ? "identity" : "image";
  result.bootstrap_identities = run.by_identity ? run.identities.description : std::string();
  result.confidence = opt.bootstrap.confidence;
  result.ties = stats::GroupRule::to_string(opt.group.ties);
  result.family = opt.verdicts.family_correction ? "holm" : "none";
  result.alpha = 1 - opt.bootstrap.confidence;
  result.cell_test = opt.verdicts.cell_test == VerdictOptions::CellTest::Permutation ? "permutation" : "brown-forsythe";
  result.permutations = opt.verdicts.permutations;
  result.smallest_effect = opt.verdicts.smallest_effect;
}

}  // namespace

LowHighDifferences low_high_differences(const RegionStatistics& lr, const RegionStatistics& hr, double conf) {
  const auto out_reps = replicate_differences(lr.replicates_outside_amv, hr.replicates_outside_amv);
  const auto in_reps = replicate_differences(lr.replicates_inside_amv, hr.replicates_inside_amv);
  LowHighDifferences d;
  d.outside_amv = percentile_interval(lr.outside_amv.value - hr.outside_amv.value, out_reps, conf);
  d.inside_amv = percentile_interval(lr.inside_amv.value - hr.inside_amv.value, in_reps, conf);
  d.ratio_amv = percentile_interval(lr.ratio_amv.value - hr.ratio_amv.value,
                                    replicate_differences(lr.replicates_ratio_amv, hr.replicates_ratio_amv), conf);
  d.outside_minus_inside =
      percentile_interval(d.outside_amv.value - d.inside_amv.value, replicate_differences(out_reps, in_reps), conf);
  std::vector<double> log_ratios(std::min(lr.replicates_outside_amv.size(), hr.replicates_outside_amv.size()));
  for (std::size_t i = 0; i < log_ratios.size(); ++i) {
    log_ratios[i] = std::log(lr.replicates_outside_amv[i] / hr.replicates_outside_amv[i]);
  }
  d.log_ratio = percentile_interval(std::log(lr.outside_amv.value / hr.outside_amv.value), log_ratios, conf);
  return d;
}

AnalysisResult analyze(const AnalysisOptions& opt, Team* team_or_alone) {
  const auto alone = team_or_alone ? nullptr : solo_team();
  Team& team = team_or_alone ? *team_or_alone : *alone;
  auto opened = open_store(opt, team);
  const auto& meta = opened.meta;
  const auto& index = opened.index;
  io::NpyRowReader& maps = *opened.maps;
  const Upsampler up(static_cast<int>(maps.shape()[1]), static_cast<int>(maps.shape()[2]));
  SharedMaps shared(team, maps, opt.normalization, up);
  if (!team.is_root()) {
    shared.serve();  // the root writes every output
    return {};
  }
  AnalysisResult result;
  Run run(opt, meta, index, maps, up, shared);
  auto source = opt.identities;
  if (source.empty() && opt.identities_from_evident_folders && opt.bootstrap_unit != eval::BootstrapUnit::Image &&
      eval::folders_name_people(index)) {
    source.from_folders = true;
    result.identities_from_evident_folders = true;
    report(opt, "identities from the images' folders: one sub-folder per person (--no-identities switches this off)");
  }
  if (!source.empty()) {
    run.identities = eval::read_identities(index, source);
    if (result.identities_from_evident_folders) {
      run.identities.description =
          "identities from parent folders (one sub-folder per person, taken without being asked)";
    }
  }
  run.by_identity = eval::resamples_identities(opt.bootstrap_unit, run.identities);
  if (!run.by_identity) run.identities = {};
  run.cam = opened.cam;
  auto score_columns = quality::load_scores(opt.store, index, opt.scores, result.score_reports);
  if (opt.drop_constant_maps) result.constant_maps_dropped = drop_constant_maps(run, score_columns);

  // Every output is written into a staging folder and moved into place at the end, so that a
  // killed run never mixes new maps with an old reference.
  io::StagedOutput staged(opt.out, opt.force, {"summary.json"});
  run.gopt.memory_budget = opt.memory_budget;
  run.gopt.median = opt.median;
  if (opt.normalization == Normalization::None) {
    report(opt, "finding the value range of the maps");
    std::vector<bool> ok(index.size());
    for (std::size_t i = 0; i < index.size(); ++i) ok[i] = index[i].ok;
    std::tie(run.gopt.value_lo, run.gopt.value_hi) = shared.value_range(ok);
  }
  result.family_size = score_columns.size();
  run.family_confidence = opt.verdicts.family_correction && score_columns.size() > 1
                              ? 1 - (1 - opt.bootstrap.confidence) / static_cast<double>(score_columns.size())
                              : opt.bootstrap.confidence;
  std::vector<MethodResult> results;
  for (auto& column : score_columns) {
    results.push_back(analyse_groups(run, column, result.warnings));
    compare_groups(run, results.back(), result.warnings);
  }
  decide_verdicts(opt, results);
  if (opt.verdicts.null_controls > 0 && !results.empty()) result.null_controls = null_controls(run, results);
  if (opt.robustness && !results.empty()) result.robustness = robustness(run, results);
  for (auto& m : results) measure_deviations(run, m);
  const auto agreement = agreement_of(results, index.size(), result.agreement);
  // By name, as summary.json lists the methods.
  std::vector<MethodResult*> by_name;
  for (auto& m : results) by_name.push_back(&m);
  std::sort(by_name.begin(), by_name.end(),
            [](const auto* a, const auto* b) { return a->scores.name < b->scores.name; });
  for (auto* m : by_name) {
    result.findings.push_back(m->finding);
    result.findings.back().method = m->scores.name;
    result.methods.push_back(std::move(m->typed));
  }
  std::size_t ok_faces = 0;
  for (const auto& e : index) ok_faces += e.ok ? 1 : 0;
  describe_run(run, ok_faces, result);
  const ComputedAnalysis computed{opt,
                                  meta,
                                  index,
                                  result,
                                  results,
                                  agreement,
                                  static_cast<int>(maps.shape()[1]),
                                  static_cast<int>(maps.shape()[2]),
                                  run.identities.count()};
  auto written = write_analysis_folder(computed, staged.dir());
  result.summary = std::move(written.summary);
  result.figures = std::move(written.figures);
  staged.publish(AnalysisFolder{}.summary().filename().string());
  result.out = opt.out;
  return result;
}

bool AnalysisResult::drew(const std::string& method, const std::string& kind) const {
  return figures.contains(AnalysisFolder{}.method_figure(method, kind).generic_string());
}

}  // namespace amva::analysis
