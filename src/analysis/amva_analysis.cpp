#include "amva/analysis/amva_analysis.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <opencv2/core.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "amva/analysis/reference.hpp"
#include "amva/analysis/regions.hpp"
#include "amva/analysis/variance_significance.hpp"
#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/json_values.hpp"
#include "amva/io/npy.hpp"
#include "amva/io/staged_output.hpp"
#include "amva/stats/distributions.hpp"
#include "amva/stats/random_streams.hpp"
#include "amva/store/settings.hpp"
#include "amva/version.hpp"
#include "amva/viz/figures.hpp"
#include "shared_maps.hpp"

namespace amva::analysis {
namespace fs = std::filesystem;
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void report(const AnalysisOptions& opt, const std::string& message) {
  if (opt.progress) opt.progress(message);
}

nlohmann::json interval_json(const Interval& i) {
  return {io::json_number(i.lo), io::json_number(i.hi)};
}

void write_map(const fs::path& file, const cv::Mat& map) {
  cv::Mat f;
  map.convertTo(f, CV_32F);
  io::write_npy(file, {f.rows, f.cols}, f.ptr<float>());
}

std::string fmt_num(double v) {
  return std::isfinite(v) ? fmt::format("{:.6g}", v) : "nan";
}

std::vector<double> mat_values(const cv::Mat& m) {
  std::vector<double> v;
  v.reserve(m.total());
  for (auto it = m.begin<double>(); it != m.end<double>(); ++it) {
    if (std::isfinite(*it)) v.push_back(*it);
  }
  return v;
}

struct GroupResult {
  stats::Group group;
  GroupStatistics stats;
  std::optional<RegionStatistics> region;
  std::vector<float> low_maps;  // normalised, native resolution; kept for the low and high groups only
};

nlohmann::json group_json(const GroupResult& g) {
  nlohmann::json j = {{"count", g.group.rows.size()},
                      {"score_min", io::json_number(g.group.score_min)},
                      {"score_max", io::json_number(g.group.score_max)},
                      {"median_exact", g.stats.order_exact},
                      {"median_error_bound", g.stats.median_error_bound},
                      {"mad_error_bound", g.stats.mad_error_bound}};
  if (g.region) {
    const auto& r = *g.region;
    j["region"] = {{"inside",
                    {{"mean_am", io::json_number(r.inside_am.value)},
                     {"mean_am_ci", interval_json(r.inside_am)},
                     {"mean_amv", io::json_number(r.inside_amv.value)},
                     {"mean_amv_ci", interval_json(r.inside_amv)}}},
                   {"outside",
                    {{"mean_am", io::json_number(r.outside_am.value)},
                     {"mean_am_ci", interval_json(r.outside_am)},
                     {"mean_amv", io::json_number(r.outside_amv.value)},
                     {"mean_amv_ci", interval_json(r.outside_amv)}}},
                   {"ratio_am", io::json_number(r.ratio_am.value)},
                   {"ratio_am_ci", interval_json(r.ratio_am)},
                   {"ratio_amv", io::json_number(r.ratio_amv.value)},
                   {"ratio_amv_ci", interval_json(r.ratio_amv)},
                   {"bootstrap_identities", r.clusters}};
  }
  return j;
}

nlohmann::json ties_json(const std::vector<stats::BoundaryTie>& ties) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& t : ties) {
    j.push_back({{"lower", t.lower},
                 {"upper", t.upper},
                 {"score", io::json_number(t.score)},
                 {"tied", t.tied},
                 {"ranked_below", t.in_lower},
                 {"ranked_above", t.in_upper}});
  }
  return j;
}

// Whether the low group's extra variation is specific to the region outside the face.
std::string specificity(const Interval& outside_low_minus_high, const Interval& difference_of_differences) {
  if (!std::isfinite(outside_low_minus_high.lo) || !std::isfinite(difference_of_differences.lo)) {
    return "not enough images";
  }
  if (!(outside_low_minus_high.lo > 0)) return "absent";
  return difference_of_differences.lo > 0 ? "specific to outside" : "general";
}

// Replicate i of a against replicate i of b: the groups draw from independent streams, so the
// pairs are independent draws of the difference.
std::vector<double> replicate_differences(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> diff(std::min(a.size(), b.size()));
  for (std::size_t i = 0; i < diff.size(); ++i) diff[i] = a[i] - b[i];
  return diff;
}

std::string finding(const Interval& outside_low_minus_high) {
  if (!std::isfinite(outside_low_minus_high.lo)) return "not enough images";
  if (outside_low_minus_high.lo > 0) return "reproduced";
  if (outside_low_minus_high.hi < 0) return "reversed";
  return "inconclusive";
}

cv::Mat row_profile(const cv::Mat& m) {
  cv::Mat p;
  cv::reduce(m, p, 1, cv::REDUCE_AVG, CV_64F);
  return p;
}

cv::Mat column_profile(const cv::Mat& m) {
  cv::Mat p;
  cv::reduce(m, p, 0, cv::REDUCE_AVG, CV_64F);
  return p.t();
}

std::vector<double> column_of(const cv::Mat& m) {
  return std::vector<double>(m.begin<double>(), m.end<double>());
}

std::vector<double> iota_vector(int n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

// Densities of the per-pixel values of a high and a low map, on one grid.
struct DensityPair {
  std::vector<double> grid;
  stats::Density high, low;
  double wasserstein1 = 0;
  double ks = 0;
};

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

std::string csv_table(const std::vector<std::string>& header, const std::vector<std::vector<double>>& columns) {
  std::string out = io::csv_line(header) + "\n";
  const std::size_t rows = columns.empty() ? 0 : columns.front().size();
  for (std::size_t r = 0; r < rows; ++r) {
    std::vector<std::string> f;
    for (const auto& c : columns) f.push_back(r < c.size() ? fmt_num(c[r]) : "");
    out += io::csv_line(f) + "\n";
  }
  return out;
}

struct MethodResult {
  quality::ScoreColumn scores;
  MethodFinding finding;
  MethodAnalysis typed;
  std::vector<GroupResult> groups;  // low-quality first
  cv::Mat d_amv, d_mam, d_amv_symmetric;
  nlohmann::json json;
};

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
  Run(const AnalysisOptions& options, const nlohmann::json& store_meta, const std::vector<store::IndexEntry>& rows,
      io::NpyRowReader& map_rows, const Upsampler& upsampler, SharedMaps& shared_maps)
      : opt(options), meta(store_meta), index(rows), maps(map_rows), up(upsampler), shared(shared_maps) {}
  const AnalysisOptions& opt;
  const nlohmann::json& meta;
  const std::vector<store::IndexEntry>& index;
  io::NpyRowReader& maps;
  const Upsampler& up;
  SharedMaps& shared;  // reads each group's maps, alone or as a team
  GroupStatisticsOptions gopt;
  eval::Identities identities;
  bool by_identity = false;
  std::string cam;
  nlohmann::json cam_settings;
  fs::path out;
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
                                                 store::maps_file(opt.store, cam).string(), maps.rows(),
                                                 fmt::join(maps.shape(), "x"), index.size()));
  }
}

nlohmann::json cam_settings_of(const nlohmann::json& meta, const std::string& cam, io::NpyRowReader& maps) {
  nlohmann::json cam_settings = {{"method", cam}, {"map_shape", {maps.shape()[1], maps.shape()[2]}}};
  if (const auto s = store::StoreSettings::of_meta(meta); s.cam) {
    if (s.cam->layer) cam_settings["layer"] = *s.cam->layer;
    if (s.cam->has(cam)) cam_settings["options"] = s.cam->options(cam);
  }
  return cam_settings;
}

// summary.json's settings: every choice that made the numbers, with its definition.
nlohmann::json settings_json(const Run& run) {
  const auto& opt = run.opt;
  const auto& meta = run.meta;
  const auto& cam_settings = run.cam_settings;
  const auto& identities = run.identities;
  const bool by_identity = run.by_identity;
  const double conf = opt.bootstrap.confidence;
  const auto& inside = central_face_mask();
  const auto box = central_face_box();
  return {
      {"cam", cam_settings},
      {"model_sha256", store::StoreSettings::of_meta(meta).model_sha256},
      {"normalization", to_string(opt.normalization)},
      {"normalization_definition", describe(opt.normalization)},
      {"group_rule", opt.group.to_string()},
      {"group_definition", opt.group.describe()},
      {"ties", stats::GroupRule::to_string(opt.group.ties)},
      {"median_convention", stats::to_string(opt.median)},
      {"statistics",
       fmt::format("per pixel over a group's maps: mean (MAM), unbiased standard deviation (AM-V), median ({}), "
                   "MAD = median |x - median| (same convention), std_sq_dev_lower_median = unbiased std of (x - "
                   "lower median)^2 (the seed paper code's std_mad)",
                   opt.median == stats::MedianConvention::Lower
                       ? "lower middle value for even counts, as torch.median and the seed paper's code"
                       : "mean of the two middle values for even counts, as NumPy")},
      {"memory_budget_mib", opt.memory_budget >> 20},
      {"bootstrap",
       {{"replicates", opt.bootstrap.replicates},
        {"seed", opt.bootstrap.seed},
        {"confidence", conf},
        {"unit", by_identity ? "identity" : "image"},
        {"identities", by_identity ? nlohmann::json(identities.description) : nlohmann::json(nullptr)},
        {"identity_count", identities.count()},
        {"method",
         by_identity ? "percentile intervals; per group, its identities resampled with replacement, then each drawn "
                       "identity's images with replacement (images without an identity are their own identity); each "
                       "group draws from its own random stream (seed, method and group), so group differences pair "
                       "independent replicates"
                     : "percentile intervals; each group's images resampled with replacement, each group from its own "
                       "random stream (seed, method and group), so group differences pair independent replicates"}}},
      {"variance_test",
       {{"test",
         "Brown-Forsythe (Levene's test centred on the median) of the low group against the high group, per "
         "cell of the map's native grid, on the normalised maps"},
        {"correction", "Benjamini-Hochberg false discovery rate; undefined tests (no spread) count as p = 1"},
        {"assumption",
         "images are independent samples; with several images per person the tests are anti-conservative (the "
         "identity bootstrap of the region statistics is not)"},
        {"fdr", opt.fdr},
        {"cell_inside",
         "a cell is inside the central face when its centre, in 112x112 pixel coordinates, lies in the central "
         "face region"},
        {"display",
         "significance.npy holds -log10 q at 112x112, each cell's value repeated over its pixels (nearest), for "
         "display only; the tests are per cell"}}},
      {"central_face_region",
       {{"box", box},
        {"pixels", cv::countNonZero(inside)},
        {"definition",
         "rectangle spanning the ArcFace 5-point template widened by a quarter of the inter-eye distance on every "
         "side (pixel centres, inclusive); outside = the other pixels of the 112x112 face"}}},
      {"differences",
       "D-AM-V = |AM-V(high) - AM-V(low)|, D-MAM = |MAM(high) - MAM(low)|; high = the last group, "
       "low = the first"},
      {"specificity",
       "(low - high outside AM-V) - (low - high inside AM-V), interval from the same replicates; verdict "
       "'specific to outside' when the outside difference and this interval both lie above 0, 'general' when "
       "only the outside difference does, 'absent' when the outside difference's interval does not lie above 0"}};
}

nlohmann::json score_files_json(const std::vector<quality::ScoreMatchReport>& reports) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& r : reports) {
    files.push_back({{"file", r.file},
                     {"format", r.format},
                     {"score_column", r.score_column},
                     {"rows", r.rows},
                     {"matched_by_path", r.matched_by_path},
                     {"matched_by_name", r.matched_by_name},
                     {"unmatched", r.unmatched},
                     {"ambiguous", r.ambiguous},
                     {"duplicates", r.duplicates},
                     {"invalid", r.invalid},
                     {"scored_faces", r.scored_faces},
                     {"faces", r.store_faces}});
  }

  return files;
}

std::string regions_csv_header() {
  return io::csv_line({"method",
                       "group",
                       "count",
                       "score_min",
                       "score_max",
                       "inside_mean_am",
                       "inside_mean_am_lo",
                       "inside_mean_am_hi",
                       "outside_mean_am",
                       "outside_mean_am_lo",
                       "outside_mean_am_hi",
                       "inside_mean_amv",
                       "inside_mean_amv_lo",
                       "inside_mean_amv_hi",
                       "outside_mean_amv",
                       "outside_mean_amv_lo",
                       "outside_mean_amv_hi",
                       "ratio_am",
                       "ratio_am_lo",
                       "ratio_am_hi",
                       "ratio_amv",
                       "ratio_amv_lo",
                       "ratio_amv_hi"}) +
         "\n";
}

// One method's quality groups: per-pixel statistics, region statistics with intervals, the
// maps on disk and the rows of groups.csv and regions.csv. Only the first (low) and last (high)
// groups are kept.
MethodResult analyse_groups(const Run& run, quality::ScoreColumn& column, std::string& groups_csv,
                            std::string& regions_csv, std::vector<std::string>& warnings) {
  const auto& opt = run.opt;
  const auto& index = run.index;
  const fs::path dir = run.out / column.name;
  fs::create_directories(dir);
  MethodResult m;
  std::vector<stats::BoundaryTie> ties;
  const auto groups = stats::make_groups(column.values, opt.group, &ties);
  std::size_t scored = 0;
  for (double v : column.values) scored += std::isnan(v) ? 0 : 1;
  m.json = {{"source", column.source}, {"negated", column.negated}, {"scored", scored}, {"ties", ties_json(ties)}};
  m.typed.name = column.name;
  m.typed.source = column.source;
  m.typed.ties = ties;
  for (const auto& t : ties) {
    warnings.push_back(fmt::format(
        "{}: {} faces share the score {} at the boundary {} | {} ({} ranked below, {} above; ties: {})", column.name,
        t.tied, t.score, t.lower, t.upper, t.in_lower, t.in_upper, stats::GroupRule::to_string(opt.group.ties)));
  }
  nlohmann::json groups_json = nlohmann::json::object();
  nlohmann::json order = nlohmann::json::array();
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
    GroupResult gr{g, std::move(maps.statistics), std::move(maps.region), std::move(maps.maps)};
    for (const auto& [stat, mat] : {std::pair{"mam", &gr.stats.mam},
                                    {"amv", &gr.stats.amv},
                                    {"median", &gr.stats.median},
                                    {"mad", &gr.stats.mad},
                                    {"std_sq_dev_lower_median", &gr.stats.std_sq_dev_lower_median}}) {
      write_map(dir / fmt::format("{}_{}.npy", stat, g.name), *mat);
    }
    for (const auto row : g.rows) {
      groups_csv += io::csv_line({std::to_string(row), index[static_cast<std::size_t>(row)].path, column.name, g.name,
                                  fmt::format("{}", column.values[static_cast<std::size_t>(row)])}) +
                    "\n";
    }
    std::vector<std::string> fields = {column.name, g.name, std::to_string(g.rows.size()), fmt_num(g.score_min),
                                       fmt_num(g.score_max)};
    if (gr.region) {
      const auto& r = *gr.region;
      for (const auto* i : {&r.inside_am, &r.outside_am, &r.inside_amv, &r.outside_amv, &r.ratio_am, &r.ratio_amv}) {
        for (double v : {i->value, i->lo, i->hi}) fields.push_back(fmt_num(v));
      }
    }
    fields.resize(23, "nan");
    regions_csv += io::csv_line(fields) + "\n";
    groups_json[g.name] = group_json(gr);
    auto& summary = m.typed.groups.emplace_back(GroupSummary{g.name, g.rows.size(), g.score_min, g.score_max, {}});
    if (const auto& r = gr.region) {
      summary.region =
          RegionIntervals{r->inside_am, r->inside_amv, r->outside_am, r->outside_amv, r->ratio_am, r->ratio_amv};
    }
    order.push_back(g.name);
    // Only the first and last groups' maps are needed later; the rest are on disk.
    if (gi == 0 || gi + 1 == groups.size()) m.groups.push_back(std::move(gr));
  }
  m.json["group_order"] = order;
  m.json["groups"] = groups_json;
  return m;
}

// Low against high: the bootstrap intervals of their region differences and the verdicts.
void add_bootstrap_comparison(nlohmann::json& comparison, MethodFinding& found, const RegionStatistics& lr,
                              const RegionStatistics& hr, double conf) {
  const auto out_reps = replicate_differences(lr.replicates_outside_amv, hr.replicates_outside_amv);
  const auto in_reps = replicate_differences(lr.replicates_inside_amv, hr.replicates_inside_amv);
  const auto out_diff = percentile_interval(lr.outside_amv.value - hr.outside_amv.value, out_reps, conf);
  const auto in_diff = percentile_interval(lr.inside_amv.value - hr.inside_amv.value, in_reps, conf);
  const auto ratio_diff =
      percentile_interval(lr.ratio_amv.value - hr.ratio_amv.value,
                          replicate_differences(lr.replicates_ratio_amv, hr.replicates_ratio_amv), conf);
  const auto spec = percentile_interval(out_diff.value - in_diff.value, replicate_differences(out_reps, in_reps), conf);
  comparison["outside_amv_low_minus_high"] = io::json_number(out_diff.value);
  comparison["outside_amv_low_minus_high_ci"] = interval_json(out_diff);
  comparison["inside_amv_low_minus_high"] = io::json_number(in_diff.value);
  comparison["inside_amv_low_minus_high_ci"] = interval_json(in_diff);
  comparison["ratio_amv_low_minus_high"] = io::json_number(ratio_diff.value);
  comparison["ratio_amv_low_minus_high_ci"] = interval_json(ratio_diff);
  comparison["finding"] = finding(out_diff);
  comparison["finding_definition"] =
      "reproduced: the interval of outside AM-V (low - high) lies above 0; reversed: below 0; else inconclusive";
  comparison["outside_minus_inside_difference"] = io::json_number(spec.value);
  comparison["outside_minus_inside_difference_ci"] = interval_json(spec);
  comparison["specificity"] = specificity(out_diff, spec);
  found.finding = finding(out_diff);
  found.outside_amv_low_minus_high = out_diff;
  found.specificity = specificity(out_diff, spec);
  found.outside_minus_inside = spec;
}

// The per-cell variance test of low against high, on the native grid.
nlohmann::json variance_test(const Run& run, const GroupResult& low, const GroupResult& high, const fs::path& dir,
                             std::optional<VarianceTestCounts>& counts) {
  const auto& opt = run.opt;
  const auto& maps = run.maps;
  const auto box = central_face_box();
  const int h = static_cast<int>(maps.shape()[1]);
  const int w = static_cast<int>(maps.shape()[2]);
  const auto sig = variance_significance(low.low_maps, low.group.rows.size(), high.low_maps, high.group.rows.size(), h,
                                         w, opt.fdr, box);
  write_map(dir / "significance.npy", cells_for_display(sig.minus_log10_q));
  write_map(dir / "significance_native.npy", sig.minus_log10_q);
  write_map(dir / "significant_cells.npy", cells_for_display(sig.significant) / 255);
  counts = VarianceTestCounts{sig.cells_inside, sig.cells_outside, sig.significant_inside, sig.significant_outside};
  const auto share = [](std::size_t k, std::size_t of) {
    return of ? static_cast<double>(k) / static_cast<double>(of) : kNaN;
  };
  return {{"cells", h * w},
          {"cells_inside", sig.cells_inside},
          {"cells_outside", sig.cells_outside},
          {"significant_inside", sig.significant_inside},
          {"significant_outside", sig.significant_outside},
          {"share_significant_inside", io::json_number(share(sig.significant_inside, sig.cells_inside))},
          {"share_significant_outside", io::json_number(share(sig.significant_outside, sig.cells_outside))},
          {"undefined", sig.undefined},
          {"fdr", opt.fdr}};
}

// D-AM-V, D-MAM and the low-against-high comparison of one method, written to its folder.
nlohmann::json compare_groups(const Run& run, MethodResult& m, const fs::path& dir) {
  const auto& inside = central_face_mask();
  const auto& low = m.groups.front();
  const auto& high = m.groups.back();
  m.d_amv = cv::abs(high.stats.amv - low.stats.amv);
  m.d_mam = cv::abs(high.stats.mam - low.stats.mam);
  cv::Mat flipped;
  cv::flip(m.d_amv, flipped, 1);
  m.d_amv_symmetric = 0.5 * (m.d_amv + flipped);
  write_map(dir / "d_amv.npy", m.d_amv);
  write_map(dir / "d_mam.npy", m.d_mam);
  write_map(dir / "d_amv_symmetric.npy", m.d_amv_symmetric);
  nlohmann::json comparison = {{"low_group", low.group.name},
                               {"high_group", high.group.name},
                               {"d_amv_mean_inside", masked_mean(m.d_amv, inside)},
                               {"d_amv_mean_outside", masked_mean(m.d_amv, ~inside)}};
  if (low.region && high.region) {
    add_bootstrap_comparison(comparison, m.finding, *low.region, *high.region, run.opt.bootstrap.confidence);
  }
  if (low.group.rows.size() >= 2 && high.group.rows.size() >= 2) {
    comparison["variance_test"] = variance_test(run, low, high, dir, m.typed.variance_test);
  }
  // The native maps were kept for the tests only; with many methods they would add up.
  for (auto& g : m.groups) std::vector<float>().swap(g.low_maps);
  return comparison;
}

cv::Mat profile_of(const cv::Mat& mat, bool rows) {
  return rows ? row_profile(mat) : column_profile(mat);
}

// Densities and profiles of the high and low group maps (densities.csv, profiles.csv).
void write_curves(MethodResult& m, const fs::path& dir, nlohmann::json& comparison) {
  const auto& low = m.groups.front();
  const auto& high = m.groups.back();
  const auto amv_density = densities(high.stats.amv, low.stats.amv);
  const auto median_density = densities(high.stats.median, low.stats.median);
  m.typed.amv = {amv_density.wasserstein1, amv_density.ks};
  m.typed.median = {median_density.wasserstein1, median_density.ks};
  comparison["distances"] = {{"amv", {{"wasserstein1", amv_density.wasserstein1}, {"ks", amv_density.ks}}},
                             {"median", {{"wasserstein1", median_density.wasserstein1}, {"ks", median_density.ks}}}};
  io::write_text_atomically(dir / "densities.csv",
                            csv_table({"amv_value", "amv_high", "amv_low", "median_value", "median_high", "median_low"},
                                      {amv_density.grid, amv_density.high.values, amv_density.low.values,
                                       median_density.grid, median_density.high.values, median_density.low.values}));
  const auto prof = [](const cv::Mat& mat, bool rows) { return column_of(profile_of(mat, rows)); };
  const int size = high.stats.mam.rows;
  io::write_text_atomically(
      dir / "profiles.csv",
      csv_table({"index", "row_mam_high", "row_mam_low", "row_amv_high", "row_amv_low", "column_mam_high",
                 "column_mam_low", "column_amv_high", "column_amv_low"},
                {iota_vector(size), prof(high.stats.mam, true), prof(low.stats.mam, true), prof(high.stats.amv, true),
                 prof(low.stats.amv, true), prof(high.stats.mam, false), prof(low.stats.mam, false),
                 prof(high.stats.amv, false), prof(low.stats.amv, false)}));
}

// The method's figures: intra (maps of both groups and their differences), significance,
// densities and profiles.
void add_method_figures(const Run& run, const MethodResult& m, const fs::path& dir, viz::FigureBatch& figures) {
  const auto& opt = run.opt;
  const auto& column = m.scores;
  const auto& cam = run.cam;
  const auto box = central_face_box();
  const auto& low = m.groups.front();
  const auto& high = m.groups.back();
  const bool tested = m.json["comparison"].contains("variance_test");
  const auto prof = [](const cv::Mat& mat, bool rows) { return column_of(profile_of(mat, rows)); };
  const auto amv_density = densities(high.stats.amv, low.stats.amv);
  const auto median_density = densities(high.stats.median, low.stats.median);
  const int size = high.stats.mam.rows;
  const auto hn = high.group.name;
  const auto ln = low.group.name;
  figures.add(
      viz::HeatmapGrid{dir / "intra",
                       fmt::format("{}: {} maps, {} ({} = {} faces, {} = {} faces)", column.name, cam,
                                   opt.group.to_string(), hn, high.group.rows.size(), ln, low.group.rows.size()),
                       {hn, ln, "differences"},
                       {"MAM / D-MAM", "AM-V / D-AM-V", "median / symmetrised D-AM-V", "MAD"},
                       {{dir / ("mam_" + hn + ".npy"), dir / ("amv_" + hn + ".npy"), dir / ("median_" + hn + ".npy"),
                         dir / ("mad_" + hn + ".npy")},
                        {dir / ("mam_" + ln + ".npy"), dir / ("amv_" + ln + ".npy"), dir / ("median_" + ln + ".npy"),
                         dir / ("mad_" + ln + ".npy")},
                        {dir / "d_mam.npy", dir / "d_amv.npy", dir / "d_amv_symmetric.npy", ""}},
                       false,
                       "",
                       box,
                       {},
                       {},
                       {},
                       {{"MAM " + hn, "AM-V " + hn, "median " + hn, "MAD " + hn},
                        {"MAM " + ln, "AM-V " + ln, "median " + ln, "MAD " + ln},
                        {"D-MAM", "D-AM-V", "symmetrised D-AM-V", ""}}});
  const auto density_panel = [&](const DensityPair& d, const std::string& what) {
    return viz::Panel{fmt::format("{} map values: W1 = {:.4f}, KS = {:.3f}", what, d.wasserstein1, d.ks),
                      "per-pixel value",
                      "density",
                      {{hn, d.grid, d.high.values, {}, {}, "-"}, {ln, d.grid, d.low.values, {}, {}, "--"}}};
  };
  if (tested) {
    viz::HeatmapGrid sig;
    sig.file = dir / "significance";
    sig.title = fmt::format("{}: {} vs {} variation per map cell\n(Brown-Forsythe, BH FDR {:g}; hatched: significant)",
                            column.name, ln, hn, opt.fdr);
    sig.column_titles = {"D-AM-V", "-log10 q per cell"};
    sig.cells = {{dir / "d_amv.npy", dir / "significance.npy"}};
    sig.outlines = {{dir / "significant_cells.npy", dir / "significant_cells.npy"}};
    sig.shared_scale = false;
    sig.box = box;
    figures.add(sig);
  }
  figures.add(viz::LinePanels{dir / "density",
                              fmt::format("{}: per-pixel values of the group maps ({} vs {})", column.name, hn, ln),
                              {density_panel(amv_density, "AM-V (std)"), density_panel(median_density, "median")}});
  const auto x = iota_vector(size);
  const auto profile_panel = [&](bool rows) {
    return viz::Panel{rows ? "row profile (mean over columns)" : "column profile (mean over rows)",
                      rows ? "row (top to bottom)" : "column (left to right)",
                      "mean value",
                      {{"AM-V " + hn, x, prof(high.stats.amv, rows), {}, {}, "-"},
                       {"AM-V " + ln, x, prof(low.stats.amv, rows), {}, {}, "--"},
                       {"MAM " + hn, x, prof(high.stats.mam, rows), {}, {}, ":"},
                       {"MAM " + ln, x, prof(low.stats.mam, rows), {}, {}, "-."}}};
  };
  figures.add(viz::LinePanels{dir / "profiles",
                              fmt::format("{}: profiles of the group maps", column.name),
                              {profile_panel(true), profile_panel(false)}});
}

// reference_<method>/: the high group's MAM and AM-V for amva explain, and how far every scored
// face lies from it (deviations.csv).
void write_reference(const Run& run, MethodResult& m, const nlohmann::json& store_path) {
  const auto& opt = run.opt;
  const auto& index = run.index;
  const auto& high = m.groups.back();
  const fs::path dir = run.out / ("reference_" + m.scores.name);
  report(opt,
         fmt::format("{}: reference from group {} ({} faces{})", m.scores.name, high.group.name, high.group.rows.size(),
                     high.group.rows.size() < 2 ? "; amva explain needs at least 2, for their variation" : ""));
  ReferenceToSave ref{m.scores.name,
                      m.scores.source,
                      high.group.name,
                      opt.group.to_string(),
                      high.group.rows.size(),
                      high.group.score_min,
                      high.group.score_max,
                      opt.normalization,
                      run.cam_settings,
                      store_path,
                      run.meta.value("settings", nlohmann::json::object()),
                      high.stats.mam,
                      high.stats.amv.clone(),
                      high.stats.median,
                      0,
                      {}};
  // A one-face group has no AM-V (NaN): the reference stores it as 0.
  for (auto it = ref.amv.begin<double>(); it != ref.amv.end<double>(); ++it) *it = std::isnan(*it) ? 0.0 : *it;
  ref.eps = reference_eps(ref.mam, ref.amv);
  std::vector<std::int64_t> scored_rows;
  for (std::size_t i = 0; i < m.scores.values.size(); ++i) {
    if (!std::isnan(m.scores.values[i])) scored_rows.push_back(static_cast<std::int64_t>(i));
  }
  std::vector<std::string> group_of(index.size());
  for (const auto& g : m.groups) {
    for (const auto r : g.group.rows) group_of[static_cast<std::size_t>(r)] = g.group.name;
  }
  const auto dev = run.shared.deviations(scored_rows, ref.mam, ref.amv, ref.eps);
  for (std::size_t k = 0; k < scored_rows.size(); ++k) {
    const auto row = static_cast<std::size_t>(scored_rows[k]);
    ref.deviations.push_back({scored_rows[k], index[row].path, m.scores.values[row], group_of[row], dev[k]});
  }
  save_reference(dir, ref);
  m.json["reference"] = dir.filename().string();
}

// Inter-FIQA: agreement of the methods' scores and of their low groups (and agreement.csv's rows).
nlohmann::json agreement_of(const std::vector<MethodResult>& results, std::size_t records, std::string& agreement_csv,
                            MethodAgreement& typed) {
  nlohmann::json agreement = {{"spearman", nlohmann::json::object()}, {"low_overlap", nlohmann::json::object()}};
  agreement_csv = io::csv_line({"method_a", "method_b", "pairs", "spearman", "low_overlap", "low_jaccard"}) + "\n";
  // The typed matrices list the methods by name, as the JSON objects do.
  for (const auto& m : results) typed.methods.push_back(m.scores.name);
  std::sort(typed.methods.begin(), typed.methods.end());
  const auto position = [&](const std::string& name) {
    return static_cast<std::size_t>(std::lower_bound(typed.methods.begin(), typed.methods.end(), name) -
                                    typed.methods.begin());
  };
  const auto n = typed.methods.size();
  typed.spearman.assign(n, std::vector<double>(n, kNaN));
  typed.low_overlap.assign(n, std::vector<double>(n, kNaN));
  for (const auto& a : results) {
    for (const auto& b : results) {
      std::vector<double> va, vb;
      for (std::size_t i = 0; i < records; ++i) {
        if (!std::isnan(a.scores.values[i]) && !std::isnan(b.scores.values[i])) {
          va.push_back(a.scores.values[i]);
          vb.push_back(b.scores.values[i]);
        }
      }
      const double rho = stats::spearman(va, vb);
      const auto& la = a.groups.front().group.rows;
      const auto& lb = b.groups.front().group.rows;
      std::vector<std::int64_t> common;
      std::set_intersection(la.begin(), la.end(), lb.begin(), lb.end(), std::back_inserter(common));
      const double overlap = la.empty() ? kNaN : static_cast<double>(common.size()) / static_cast<double>(la.size());
      const double jaccard =
          static_cast<double>(common.size()) / static_cast<double>(la.size() + lb.size() - common.size());
      agreement["spearman"][a.scores.name][b.scores.name] = io::json_number(rho);
      agreement["low_overlap"][a.scores.name][b.scores.name] = io::json_number(overlap);
      typed.spearman[position(a.scores.name)][position(b.scores.name)] = rho;
      typed.low_overlap[position(a.scores.name)][position(b.scores.name)] = overlap;
      agreement_csv += io::csv_line({a.scores.name, b.scores.name, std::to_string(va.size()), fmt_num(rho),
                                     fmt_num(overlap), fmt_num(jaccard)}) +
                       "\n";
    }
  }
  agreement["low_overlap_definition"] = "share of method a's low group that is also in method b's low group";
  return agreement;
}

// The inter-FIQA grid: every method's maps side by side, one colour scale per column kind.
viz::HeatmapGrid grid_figure(const Run& run, const std::vector<MethodResult>& results) {
  const auto& opt = run.opt;
  const auto& cam = run.cam;
  const fs::path& out = run.out;
  viz::HeatmapGrid grid;
  grid.file = out / "grid";
  grid.title =
      fmt::format("{} maps, {} normalisation, groups {}", cam, to_string(opt.normalization), opt.group.to_string());
  const auto& g0 = results.front().groups;
  const auto hn = g0.back().group.name;
  const auto ln = g0.front().group.name;
  // A difference map is an order of magnitude smaller than the maps it compares: each column
  // kind gets its own colour scale, shared down the column so that methods compare.
  grid.column_titles = {"MAM " + hn, "MAM " + ln, "AM-V " + hn, "AM-V " + ln, "D-AM-V"};
  for (const auto& m : results) {
    const fs::path dir = out / m.scores.name;
    grid.row_titles.push_back(m.scores.name);
    grid.cells.push_back({dir / ("mam_" + hn + ".npy"), dir / ("mam_" + ln + ".npy"), dir / ("amv_" + hn + ".npy"),
                          dir / ("amv_" + ln + ".npy"), dir / "d_amv.npy"});
  }
  grid.column_scale = {0, 0, 1, 1, 2};
  grid.scale_labels = {"MAM (mean activation)", "AM-V (per-pixel std)", "D-AM-V"};
  grid.box = central_face_box();
  return grid;
}

// The store as the ranks of a team open it: the root reads and checks it (an error it meets
// stops every rank), and every rank opens the maps file for its own reads.
struct OpenedStore {
  nlohmann::json meta;
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
    io::NpyRowReader rows(store::maps_file(opt.store, chosen));
    check_maps(opt, rows, s.index, chosen);
    return chosen;
  });
  try {
    s.maps.emplace(store::maps_file(opt.store, s.cam));
  } catch (const std::exception& e) {
    if (team.size() == 1) throw;
    team.abort(fmt::format("rank {} of {} cannot read the store: {}", team.rank(), team.size(), e.what()));
  }
  return s;
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
}

}  // namespace

AnalysisResult analyze(const AnalysisOptions& opt, Team* team_or_alone) {
  const auto alone = team_or_alone ? nullptr : solo_team();
  Team& team = team_or_alone ? *team_or_alone : *alone;
  auto opened = open_store(opt, team);
  const auto& meta = opened.meta;
  const auto& index = opened.index;
  const auto& cam = opened.cam;
  io::NpyRowReader& maps = *opened.maps;
  const Upsampler up(static_cast<int>(maps.shape()[1]), static_cast<int>(maps.shape()[2]));
  SharedMaps shared(team, maps, opt.normalization, up);
  if (!team.is_root()) {
    shared.serve();  // the root writes every output
    return {};
  }
  AnalysisResult result;
  Run run(opt, meta, index, maps, up, shared);
  if (!opt.identities.empty()) run.identities = eval::read_identities(index, opt.identities);
  run.by_identity = eval::resamples_identities(opt.bootstrap_unit, run.identities);
  if (!run.by_identity) run.identities = {};
  run.cam = cam;
  auto score_columns = quality::load_scores(opt.store, index, opt.scores, result.score_reports);

  // Every output is written into a staging folder and moved into place at the end, so that a
  // killed run never mixes new maps with an old reference.
  io::StagedOutput staged(opt.out, opt.force, {"summary.json"});
  run.out = staged.dir();
  run.gopt.memory_budget = opt.memory_budget;
  run.gopt.median = opt.median;
  if (opt.normalization == Normalization::None) {
    report(opt, "finding the value range of the maps");
    std::vector<bool> ok(index.size());
    for (std::size_t i = 0; i < index.size(); ++i) ok[i] = index[i].ok;
    std::tie(run.gopt.value_lo, run.gopt.value_hi) = shared.value_range(ok);
  }
  run.cam_settings = cam_settings_of(meta, cam, maps);
  std::size_t ok_faces = 0;
  for (const auto& e : index) ok_faces += e.ok ? 1 : 0;
  nlohmann::json summary = {{"amva_version", version()},
                            {"created", utc_timestamp()},
                            {"store", fs::absolute(opt.store).lexically_normal().string()},
                            {"records", index.size()},
                            {"faces", ok_faces},
                            {"settings", settings_json(run)}};
  summary["score_files"] = score_files_json(result.score_reports);

  viz::FigureBatch figures;
  figures.set_colormap(viz::to_string(opt.colormap));
  std::vector<MethodResult> results;
  std::string groups_csv = io::csv_line({"id", "path", "method", "group", "score"}) + "\n";
  std::string regions_csv = regions_csv_header();
  for (auto& column : score_columns) {
    MethodResult m = analyse_groups(run, column, groups_csv, regions_csv, result.warnings);
    const fs::path dir = run.out / column.name;
    auto comparison = compare_groups(run, m, dir);
    write_curves(m, dir, comparison);
    m.json["comparison"] = comparison;
    m.scores = std::move(column);
    if (opt.figures) add_method_figures(run, m, dir, figures);
    results.push_back(std::move(m));
  }
  for (auto& m : results) write_reference(run, m, summary["store"]);

  std::string agreement_csv;
  summary["agreement"] = agreement_of(results, index.size(), agreement_csv, result.agreement);
  summary["methods"] = nlohmann::json::object();
  for (const auto& m : results) summary["methods"][m.scores.name] = m.json;
  // In summary.json's order (methods by name), so that both list them alike.
  for (const auto& [name, json] : summary["methods"].items()) {
    for (const auto& m : results) {
      if (m.scores.name != name) continue;
      result.findings.push_back(m.finding);
      result.findings.back().method = name;
      result.methods.push_back(m.typed);
    }
  }
  describe_run(run, ok_faces, result);
  io::write_text_atomically(run.out / "groups.csv", groups_csv);
  io::write_text_atomically(run.out / "regions.csv", regions_csv);
  io::write_text_atomically(run.out / "agreement.csv", agreement_csv);
  if (opt.figures && !results.empty()) {
    figures.add(grid_figure(run, results));
    summary["figures"] = {{"grid", "grid.png"},
                          {"per_method", {"intra.png", "significance.png", "density.png", "profiles.png"}}};
  }
  io::write_text_atomically(run.out / "summary.json", io::json_text(summary, 2) + "\n");
  if (opt.figures) {
    report(opt, "drawing figures");
    figures.render(run.out / ".figures");
  }
  staged.publish("summary.json");
  result.summary = std::move(summary);
  return result;
}

}  // namespace amva::analysis
