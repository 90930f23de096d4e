// amva analyze's output folder: the only code that knows its file names (through
// AnalysisFolder), its CSV columns and summary.json's keys.
#include "amva/analysis/analysis_folder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "amva/analysis/regions.hpp"
#include "amva/analysis/verdicts.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/json_values.hpp"
#include "amva/io/npy.hpp"
#include "amva/stats/distributions.hpp"
#include "amva/store/settings.hpp"
#include "amva/version.hpp"
#include "amva/viz/figures.hpp"
#include "analysis_parts.hpp"

namespace amva::analysis {
namespace fs = std::filesystem;
namespace {

using stats::kNaN;

nlohmann::json interval_json(const Interval& i) {
  return io::json_interval(i.lo, i.hi);
}

void write_map(const fs::path& file, const cv::Mat& map) {
  cv::Mat f;
  map.convertTo(f, CV_32F);
  io::write_npy(file, {f.rows, f.cols}, f.ptr<float>());
}

std::string fmt_num(double v) {
  return std::isfinite(v) ? fmt::format("{:.6g}", v) : "nan";
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

// A map's mean over its rows (rows = true: one value per row) or over its columns.
std::vector<double> profile(const cv::Mat& mat, bool rows) {
  const cv::Mat p = rows ? row_profile(mat) : column_profile(mat);
  return std::vector<double>(p.begin<double>(), p.end<double>());
}

std::vector<double> iota_vector(int n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

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

nlohmann::json cam_settings_json(const ComputedAnalysis& a) {
  return reference_cam_json(a.store_meta, a.result.cam, a.map_rows, a.map_cols);
}

nlohmann::json words_json(const std::vector<VerdictWord>& words) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& w : words) j[w.word] = w.definition;
  return j;
}

nlohmann::json variance_test_settings(const ComputedAnalysis& a) {
  const auto& opt = a.options;
  const bool permutation = a.result.cell_test == "permutation";
  return {{"test", permutation ? "block permutation test of the Brown-Forsythe F of the low against the high group, "
                                 "per cell of the map's native grid, on the normalised maps (the verdicts' "
                                 "permutation unit)"
                               : "parametric Brown-Forsythe test (Levene's test centred on the median) of the low "
                                 "group against the high group, per cell of the map's native grid, on the "
                                 "normalised maps"},
          {"correction", permutation ? "max-T (Westfall-Young): a cell's q is the share of permutations whose "
                                       "largest F over the cells reaches its F; family-wise error control over the "
                                       "cells, and so false discovery rate control too"
                                     : "Benjamini-Hochberg false discovery rate; undefined tests (no spread) count "
                                       "as p = 1"},
          {"assumption", permutation ? "exchangeability of whole blocks (people, or images when identities are "
                                       "unknown) between the groups under the null"
                                     : "images are independent samples; with several images per person the tests are "
                                       "anti-conservative (identity-clustered random scores get significant cells)"},
          {"fdr", opt.fdr},
          {"cell_inside",
           "a cell is inside the central face when its centre, in 112x112 pixel coordinates, lies in the central "
           "face region"},
          {"display",
           "significance.npy holds -log10 q at 112x112, each cell's value repeated over its pixels (nearest), for "
           "display only; the tests are per cell"}};
}

// summary.json's settings: every choice that made the numbers, with its definition.
nlohmann::json settings_json(const ComputedAnalysis& a, const nlohmann::json& cam_settings) {
  const auto& opt = a.options;
  const bool by_identity = a.result.bootstrap_unit == "identity";
  const auto& inside = central_face_mask();
  const auto box = central_face_box();
  return {
      {"cam", cam_settings},
      {"model_sha256", a.store_meta.settings.model_sha256},
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
        {"confidence", opt.bootstrap.confidence},
        {"unit", a.result.bootstrap_unit},
        {"identities", by_identity ? nlohmann::json(a.result.bootstrap_identities) : nlohmann::json(nullptr)},
        {"identity_count", a.identity_count},
        {"identities_from_evident_folders", a.result.identities_from_evident_folders},
        {"constant_maps_dropped",
         opt.drop_constant_maps ? nlohmann::json(a.result.constant_maps_dropped) : nlohmann::json(nullptr)},
        {"method",
         by_identity ? "percentile intervals; per group, its identities resampled with replacement, then each drawn "
                       "identity's images with replacement (images without an identity are their own identity); each "
                       "group draws from its own random stream (seed, method and group), so group differences pair "
                       "independent replicates"
                     : "percentile intervals; each group's images resampled with replacement, each group from its own "
                       "random stream (seed, method and group), so group differences pair independent replicates"}}},
      {"variance_test", variance_test_settings(a)},
      {"verdicts",
       {{"alpha", a.result.alpha},
        {"family", a.result.family},
        {"family_size", a.result.family_size},
        {"family_definition",
         a.result.family == "holm"
             ? "Holm's step-down correction of the outside permutation p-values across the run's FIQA methods (the "
               "null controls are not in the family); the low - high intervals at 1 - alpha / methods (Bonferroni)"
             : "none: every method's verdict at level alpha alone"},
        {"permutations", a.result.permutations},
        {"permutation_unit",
         by_identity ? "people: the faces of the low and the high group pooled, each person's faces one block, "
                       "whole blocks dealt to low and high in a random order up to the low group's size"
                     : "images: identities unknown, so images are treated as independent; give --labels, --pairs "
                       "or --labels-from-folders to move whole people"},
        {"smallest_effect", a.result.smallest_effect},
        {"smallest_effect_definition", "|log(outside AM-V low / high)| below which a difference counts as negligible"},
        {"finding_words", words_json(finding_words())},
        {"specificity_words", words_json(specificity_words())}}},
      {"central_face_region",
       {{"box", box},
        {"pixels", cv::countNonZero(inside)},
        {"definition",
         "rectangle spanning the ArcFace 5-point template widened by a quarter of the inter-eye distance on every "
         "side (pixel centres, inclusive); outside = the other pixels of the 112x112 face"}}},
      {"differences",
       "D-AM-V = |AM-V(high) - AM-V(low)|, D-MAM = |MAM(high) - MAM(low)|; d_amv_signed = AM-V(low) - "
       "AM-V(high), d_mam_signed = MAM(low) - MAM(high); high = the last group, low = the first"}};
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

// groups.csv: every grouped face of every method.
std::string groups_csv(const ComputedAnalysis& a) {
  std::string csv = io::csv_line({"id", "path", "method", "group", "score"}) + "\n";
  for (const auto& m : a.methods) {
    for (const auto& g : m.groups) {
      for (const auto row : g.group.rows) {
        const auto r = static_cast<std::size_t>(row);
        csv += io::csv_line({std::to_string(row), a.index[r].path, m.scores.name, g.group.name,
                             fmt::format("{}", m.scores.values[r])}) +
               "\n";
      }
    }
  }
  return csv;
}

// regions.csv: each group's region statistics with their intervals (nan without them).
std::string regions_csv(const ComputedAnalysis& a) {
  std::string csv = io::csv_line({"method",
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
  for (const auto& m : a.methods) {
    for (const auto& gr : m.groups) {
      const auto& g = gr.group;
      std::vector<std::string> fields = {m.scores.name, g.name, std::to_string(g.rows.size()), fmt_num(g.score_min),
                                         fmt_num(g.score_max)};
      if (gr.region) {
        const auto& r = *gr.region;
        for (const auto* i : {&r.inside_am, &r.outside_am, &r.inside_amv, &r.outside_amv, &r.ratio_am, &r.ratio_amv}) {
          for (double v : {i->value, i->lo, i->hi}) fields.push_back(fmt_num(v));
        }
      }
      fields.resize(23, "nan");
      csv += io::csv_line(fields) + "\n";
    }
  }
  return csv;
}

nlohmann::json variance_test_json(const CellSignificance& sig, double fdr) {
  const auto share = [](std::size_t k, std::size_t of) {
    return of ? static_cast<double>(k) / static_cast<double>(of) : kNaN;
  };
  return {{"cells", sig.minus_log10_q.rows * sig.minus_log10_q.cols},
          {"cells_inside", sig.cells_inside},
          {"cells_outside", sig.cells_outside},
          {"significant_inside", sig.significant_inside},
          {"significant_outside", sig.significant_outside},
          {"share_significant_inside", io::json_number(share(sig.significant_inside, sig.cells_inside))},
          {"share_significant_outside", io::json_number(share(sig.significant_outside, sig.cells_outside))},
          {"undefined", sig.undefined},
          {"test", sig.test},
          {"fdr", fdr}};
}

// summary.json's methods.<name>.comparison: the low group against the high one.
nlohmann::json comparison_json(const MethodResult& m, double fdr) {
  nlohmann::json c = {{"low_group", m.groups.front().group.name},
                      {"high_group", m.groups.back().group.name},
                      {"d_amv_mean_inside", m.d_amv_mean_inside},
                      {"d_amv_mean_outside", m.d_amv_mean_outside}};
  if (const auto& d = m.low_minus_high) {
    c["outside_amv_low_minus_high"] = io::json_number(d->outside_amv.value);
    c["outside_amv_low_minus_high_ci"] = interval_json(d->outside_amv);
    c["inside_amv_low_minus_high"] = io::json_number(d->inside_amv.value);
    c["inside_amv_low_minus_high_ci"] = interval_json(d->inside_amv);
    c["ratio_amv_low_minus_high"] = io::json_number(d->ratio_amv.value);
    c["ratio_amv_low_minus_high_ci"] = interval_json(d->ratio_amv);
    c["log_ratio_outside_amv"] = io::json_number(d->log_ratio.value);
    c["log_ratio_outside_amv_ci"] = interval_json(d->log_ratio);
    c["outside_minus_inside_difference"] = io::json_number(d->outside_minus_inside.value);
    c["outside_minus_inside_difference_ci"] = interval_json(d->outside_minus_inside);
  }
  const auto& f = m.finding;
  c["finding"] = f.finding;
  c["finding_definition"] = definition_of(f.finding);
  c["specificity"] = f.specificity;
  c["specificity_definition"] = definition_of(f.specificity);
  if (const auto& t = m.permutation) {
    c["permutation"] = {{"p_outside", t->p_outside},
                        {"p_outside_family", io::json_number(f.p_outside_family)},
                        {"p_inside", t->p_inside},
                        {"outside_difference", t->outside_difference},
                        {"inside_difference", t->inside_difference},
                        {"detectable_difference", io::json_number(f.detectable_difference)},
                        {"detectable_log_ratio", io::json_number(f.detectable_log_ratio)},
                        {"permutations", t->permutations},
                        {"blocks", t->blocks},
                        {"largest_block", t->largest_block},
                        {"low_size_range", {t->low_size_min, t->low_size_max}}};
  }
  if (const auto& g = m.typed.degenerate) {
    c["degenerate_maps"] = {{"low", g->low},
                            {"high", g->high},
                            {"definition", "maps with one value everywhere (all zero after the ReLU, or flat)"}};
  }
  if (m.significance) c["variance_test"] = variance_test_json(*m.significance, fdr);
  c["distances"] = {{"amv", {{"wasserstein1", m.amv_density.wasserstein1}, {"ks", m.amv_density.ks}}},
                    {"median", {{"wasserstein1", m.median_density.wasserstein1}, {"ks", m.median_density.ks}}}};
  return c;
}

// summary.json's methods.<name>.
nlohmann::json method_json(const MethodResult& m, const AnalysisFolder& folder, double fdr) {
  nlohmann::json groups = nlohmann::json::object();
  nlohmann::json order = nlohmann::json::array();
  for (const auto& g : m.groups) {
    groups[g.group.name] = group_json(g);
    order.push_back(g.group.name);
  }
  return {{"source", m.scores.source},
          {"negated", m.scores.negated},
          {"scored", m.scored},
          {"ties", ties_json(m.ties)},
          {"group_order", order},
          {"groups", groups},
          {"comparison", comparison_json(m, fdr)},
          {"reference", folder.reference(m.scores.name).filename().string()}};
}

// A method's folder: every group's maps, the differences, the variance test and the curves.
void write_method_files(const MethodResult& m, const AnalysisFolder& folder, double alpha) {
  const auto& name = m.scores.name;
  fs::create_directories(folder.method(name));
  for (const auto& g : m.groups) {
    for (const auto& [stat, mat] : {std::pair{"mam", &g.stats.mam},
                                    {"amv", &g.stats.amv},
                                    {"median", &g.stats.median},
                                    {"mad", &g.stats.mad},
                                    {"std_sq_dev_lower_median", &g.stats.std_sq_dev_lower_median}}) {
      write_map(folder.group_map(name, stat, g.group.name), *mat);
    }
  }
  write_map(folder.method_map(name, "d_amv"), m.d_amv);
  write_map(folder.method_map(name, "d_mam"), m.d_mam);
  write_map(folder.method_map(name, "d_amv_symmetric"), m.d_amv_symmetric);
  write_map(folder.method_map(name, "d_amv_signed"), m.d_amv_signed);
  write_map(folder.method_map(name, "d_mam_signed"), m.d_mam_signed);
  if (const auto& t = m.permutation; t && !t->pixel_p.empty()) {
    write_map(folder.method_map(name, "d_amv_null_sd"), t->pixel_null_sd);
    write_map(folder.method_map(name, "d_amv_p"), t->pixel_p);
    cv::Mat beyond = cv::Mat::zeros(t->pixel_p.size(), CV_64F);
    beyond.setTo(1.0, t->pixel_p <= alpha);
    write_map(folder.method_map(name, "d_amv_beyond_null"), beyond);
  }
  if (const auto& sig = m.significance) {
    write_map(folder.method_map(name, "significance"), cells_for_display(sig->minus_log10_q));
    write_map(folder.method_map(name, "significance_native"), sig->minus_log10_q);
    write_map(folder.method_map(name, "significant_cells"), cells_for_display(sig->significant) / 255);
  }
  const auto& amv = m.amv_density;
  const auto& median = m.median_density;
  io::write_text_atomically(
      folder.densities_csv(name),
      csv_table({"amv_value", "amv_high", "amv_low", "median_value", "median_high", "median_low"},
                {amv.grid, amv.high.values, amv.low.values, median.grid, median.high.values, median.low.values}));
  const auto& high = m.groups.back().stats;
  const auto& low = m.groups.front().stats;
  io::write_text_atomically(folder.profiles_csv(name),
                            csv_table({"index", "row_mam_high", "row_mam_low", "row_amv_high", "row_amv_low",
                                       "column_mam_high", "column_mam_low", "column_amv_high", "column_amv_low"},
                                      {iota_vector(high.mam.rows), profile(high.mam, true), profile(low.mam, true),
                                       profile(high.amv, true), profile(low.amv, true), profile(high.mam, false),
                                       profile(low.mam, false), profile(high.amv, false), profile(low.amv, false)}));
}

// reference_<method>/: the high group's MAM and AM-V for amva explain, and how far every scored
// face lies from it.
void write_reference(const ComputedAnalysis& a, const MethodResult& m, const AnalysisFolder& folder,
                     const nlohmann::json& store_path, const nlohmann::json& cam_settings) {
  const auto& high = m.groups.back();
  std::vector<std::string> group_of(a.index.size());
  for (const auto& g : m.groups) {
    for (const auto r : g.group.rows) group_of[static_cast<std::size_t>(r)] = g.group.name;
  }
  std::vector<FaceDeviation> deviations;
  deviations.reserve(m.deviation_rows.size());
  for (std::size_t k = 0; k < m.deviation_rows.size(); ++k) {
    const auto row = static_cast<std::size_t>(m.deviation_rows[k]);
    deviations.push_back(
        {m.deviation_rows[k], a.index[row].path, m.scores.values[row], group_of[row], m.deviations[k]});
  }
  save_reference(
      folder.reference(m.scores.name),
      ReferenceToSave{m.scores.name, m.scores.source, high.group.name, a.options.group.to_string(),
                      high.group.rows.size(), high.group.score_min, high.group.score_max, a.options.normalization,
                      cam_settings, store_path, a.store_meta.settings.json, high.stats.mam, m.reference_amv,
                      high.stats.median, m.reference_eps, std::move(deviations)});
}

// summary.json's agreement and agreement.csv.
nlohmann::json write_agreement(const ComputedAnalysis& a, const AnalysisFolder& folder) {
  nlohmann::json agreement = {{"spearman", nlohmann::json::object()}, {"low_overlap", nlohmann::json::object()}};
  std::string csv = io::csv_line({"method_a", "method_b", "pairs", "spearman", "low_overlap", "low_jaccard"}) + "\n";
  for (const auto& p : a.agreement) {
    agreement["spearman"][p.a][p.b] = io::json_number(p.spearman);
    agreement["low_overlap"][p.a][p.b] = io::json_number(p.low_overlap);
    csv += io::csv_line({p.a, p.b, std::to_string(p.pairs), fmt_num(p.spearman), fmt_num(p.low_overlap),
                         fmt_num(p.low_jaccard)}) +
           "\n";
  }
  agreement["low_overlap_definition"] = "share of method a's low group that is also in method b's low group";
  io::write_text_atomically(folder.agreement_csv(), csv);
  return agreement;
}

// The method's figures: intra (maps of both groups and their differences), significance,
// densities and profiles.
void add_method_figures(const ComputedAnalysis& a, const MethodResult& m, const AnalysisFolder& folder,
                        viz::FigureBatch& figures) {
  const auto& opt = a.options;
  const auto& name = m.scores.name;
  const auto box = central_face_box();
  const auto& low = m.groups.front();
  const auto& high = m.groups.back();
  const auto hn = high.group.name;
  const auto ln = low.group.name;
  const auto maps_of = [&](const std::string& group) {
    std::vector<fs::path> cells;
    for (const char* stat : {"mam", "amv", "median", "mad"}) cells.push_back(folder.group_map(name, stat, group));
    return cells;
  };
  const auto map = [&](const std::string& stem) { return folder.method_map(name, stem); };
  figures.add(
      viz::HeatmapGrid{folder.method_figure(name, "intra"),
                       fmt::format("{}: {} maps, {} ({} = {} faces, {} = {} faces)", name, a.result.cam,
                                   opt.group.to_string(), hn, high.group.rows.size(), ln, low.group.rows.size()),
                       {hn, ln, "differences"},
                       {"MAM / D-MAM", "AM-V / D-AM-V", "median / symmetrised D-AM-V", "MAD"},
                       {maps_of(hn), maps_of(ln), {map("d_mam"), map("d_amv"), map("d_amv_symmetric"), ""}},
                       false,
                       "",
                       box,
                       {},
                       {},
                       {},
                       {{"MAM " + hn, "AM-V " + hn, "median " + hn, "MAD " + hn},
                        {"MAM " + ln, "AM-V " + ln, "median " + ln, "MAD " + ln},
                        {"D-MAM", "D-AM-V", "symmetrised D-AM-V", ""}}});
  if (m.permutation) {
    viz::HeatmapGrid signed_maps;
    signed_maps.file = folder.method_figure(name, "signed");
    signed_maps.title = fmt::format(
        "{}: {} - {} (signed; red: the low group higher)\nhatched: AM-V difference beyond the permutation null "
        "(pointwise p <= {:g}, {} permutations)",
        name, ln, hn, 1 - opt.bootstrap.confidence, m.permutation->permutations);
    signed_maps.column_titles = {"AM-V low - high", "null band (sd)", "MAM low - high", "|D-AM-V|"};
    signed_maps.cells = {{map("d_amv_signed"), map("d_amv_null_sd"), map("d_mam_signed"), map("d_amv")}};
    signed_maps.outlines = {{map("d_amv_beyond_null"), "", "", ""}};
    signed_maps.shared_scale = false;
    signed_maps.diverging = true;
    signed_maps.box = box;
    figures.add(signed_maps);
  }
  if (m.significance) {
    viz::HeatmapGrid sig;
    sig.file = folder.method_figure(name, "significance");
    sig.title =
        fmt::format("{}: {} vs {} variation per map cell\n({}; hatched: significant)", name, ln, hn,
                    m.significance->test == "permutation" ? fmt::format("block permutation, max-T level {:g}", opt.fdr)
                                                          : fmt::format("Brown-Forsythe, BH FDR {:g}", opt.fdr));
    sig.column_titles = {"D-AM-V", "-log10 q per cell"};
    sig.cells = {{map("d_amv"), map("significance")}};
    sig.outlines = {{map("significant_cells"), map("significant_cells")}};
    sig.shared_scale = false;
    sig.box = box;
    figures.add(sig);
  }
  const auto density_panel = [&](const DensityPair& d, const std::string& what) {
    return viz::Panel{fmt::format("{} map values: W1 = {:.4f}, KS = {:.3f}", what, d.wasserstein1, d.ks),
                      "per-pixel value",
                      "density",
                      {{hn, d.grid, d.high.values, {}, {}, "-"}, {ln, d.grid, d.low.values, {}, {}, "--"}}};
  };
  figures.add(viz::LinePanels{folder.method_figure(name, "density"),
                              fmt::format("{}: per-pixel values of the group maps ({} vs {})", name, hn, ln),
                              {density_panel(m.amv_density, "AM-V (std)"), density_panel(m.median_density, "median")}});
  const auto x = iota_vector(high.stats.mam.rows);
  const auto profile_panel = [&](bool rows) {
    return viz::Panel{rows ? "row profile (mean over columns)" : "column profile (mean over rows)",
                      rows ? "row (top to bottom)" : "column (left to right)",
                      "mean value",
                      {{"AM-V " + hn, x, profile(high.stats.amv, rows), {}, {}, "-"},
                       {"AM-V " + ln, x, profile(low.stats.amv, rows), {}, {}, "--"},
                       {"MAM " + hn, x, profile(high.stats.mam, rows), {}, {}, ":"},
                       {"MAM " + ln, x, profile(low.stats.mam, rows), {}, {}, "-."}}};
  };
  figures.add(viz::LinePanels{folder.method_figure(name, "profiles"),
                              fmt::format("{}: profiles of the group maps", name),
                              {profile_panel(true), profile_panel(false)}});
}

// The inter-FIQA grid: every method's maps side by side, one colour scale per column kind.
viz::HeatmapGrid grid_figure(const ComputedAnalysis& a, const AnalysisFolder& folder) {
  viz::HeatmapGrid grid;
  grid.file = folder.grid_figure();
  grid.title = fmt::format("{} maps, {} normalisation, groups {}", a.result.cam, to_string(a.options.normalization),
                           a.options.group.to_string());
  const auto& g0 = a.methods.front().groups;
  const auto hn = g0.back().group.name;
  const auto ln = g0.front().group.name;
  // A difference map is an order of magnitude smaller than the maps it compares: each column
  // kind gets its own colour scale, shared down the column so that methods compare.
  grid.column_titles = {"MAM " + hn, "MAM " + ln, "AM-V " + hn, "AM-V " + ln, "D-AM-V"};
  for (const auto& m : a.methods) {
    const auto& name = m.scores.name;
    grid.row_titles.push_back(name);
    grid.cells.push_back({folder.group_map(name, "mam", hn), folder.group_map(name, "mam", ln),
                          folder.group_map(name, "amv", hn), folder.group_map(name, "amv", ln),
                          folder.method_map(name, "d_amv")});
  }
  grid.column_scale = {0, 0, 1, 1, 2};
  grid.scale_labels = {"MAM (mean activation)", "AM-V (per-pixel std)", "D-AM-V"};
  grid.box = central_face_box();
  return grid;
}

// The null controls: their counts and binomial tests in summary.json, one row each in a CSV.
nlohmann::json write_null_controls(const NullControls& n, const AnalysisFolder& folder) {
  std::string csv =
      io::csv_line({"control", "icc", "finding", "outside_difference", "p_outside", "significant_cells"}) + "\n";
  for (const auto& c : n.controls) {
    csv += io::csv_line({c.name, fmt::format("{}", c.icc), c.finding, fmt::format("{}", c.outside_difference),
                         fmt::format("{}", c.p_outside), fmt::format("{}", c.significant_cells)}) +
           "\n";
  }
  io::write_text_atomically(folder.null_controls_csv(), csv);
  return {{"count", n.controls.size()},
          {"false_verdicts", n.false_verdicts},
          {"with_significant_cell", n.with_significant_cell},
          {"alpha", n.alpha},
          {"cell_level", n.cell_level},
          {"p_false_verdicts", n.p_false_verdicts},
          {"p_significant_cell", n.p_significant_cell},
          {"warns", n.warns_verdicts() || n.warns_cells()},
          {"identities", n.identities},
          {"definition",
           "score columns that carry no information about the maps: sqrt(icc) x a person effect + sqrt(1 - icc) x "
           "a face effect (standard normal), icc estimated from each real method's scores over the known "
           "identities (one-way ANOVA; 0 without identities); grouped by the run's rule and judged alone at level "
           "alpha by the same permutation tests and verdict table; a false verdict is reproduced or reversed; "
           "p_false_verdicts and p_significant_cell are binomial upper tails at the nominal level, and the run warns "
           "below 0.05"},
          {"file", folder.null_controls_csv().filename().string()}};
}

// The robustness grid: one row per specification in a CSV, the grid, its cost and each
// method's line in summary.json.
nlohmann::json write_robustness(const Robustness& r, const AnalysisFolder& folder) {
  std::string csv = io::csv_line({"method", "cam", "normalize", "group", "margin", "low", "high", "effect", "lo", "hi",
                                  "outside_difference", "p", "p_family", "verdict"}) +
                    "\n";
  for (const auto& s : r.specifications) {
    csv += io::csv_line({s.method, s.cam, to_string(s.normalization), fmt::format("top:{:g}", s.group_percent),
                         fmt::format("{:g}", s.margin), std::to_string(s.low), std::to_string(s.high),
                         fmt::format("{}", s.log_ratio.value), fmt::format("{}", s.log_ratio.lo),
                         fmt::format("{}", s.log_ratio.hi), fmt::format("{}", s.outside_difference.value),
                         fmt::format("{}", s.p), fmt::format("{}", s.p_family), s.verdict}) +
           "\n";
  }
  io::write_text_atomically(folder.robustness_csv(), csv);
  nlohmann::json normalizations = nlohmann::json::array();
  for (const auto n : r.grid.normalizations) normalizations.push_back(to_string(n));
  nlohmann::json methods = nlohmann::json::object();
  for (const auto& m : r.methods) {
    nlohmann::json j = {{"reproduced", m.reproduced}, {"specifications", m.specifications}, {"sentence", m.sentence}};
    if (const auto& t = m.turns_on) {
      nlohmann::json values = nlohmann::json::array();
      for (const auto& v : t->values) {
        values.push_back({{"value", v.value}, {"reproduced", v.reproduced}, {"specifications", v.specifications}});
      }
      j["turns_on"] = {{"dimension", t->dimension}, {"spread", t->spread}, {"values", values}};
    }
    if (const auto& t = m.joint) {
      j["joint_test"] = {{"draws", t->draws},
                         {"observed", t->observed},
                         {"null_mean", t->null_mean},
                         {"null_95", t->null_95},
                         {"p", t->p}};
    }
    methods[m.method] = j;
  }
  return {{"grid",
           {{"cams", r.grid.cams},
            {"normalizations", normalizations},
            {"group_percents", r.grid.group_percents},
            {"margins", r.grid.margins}}},
          {"specifications_per_method", r.methods.empty() ? 0 : r.methods.front().specifications},
          {"seconds", r.seconds},
          {"joint_test_seconds", r.joint_seconds},
          {"joint_test_definition",
           "the count of specifications whose outside difference is positive and reaches the threshold of its own "
           "block permutation test at alpha / methods, against the same count over draws of null scores (drawn as "
           "the null controls are: a person effect with the method's intra-class correlation plus a face effect) "
           "with every specification's threshold kept; p = (1 + draws reaching the observed count) / (1 + draws)"},
          {"effect", "log(mean outside AM-V of the low group / of the high group)"},
          {"margin_unit", "the central face region's margin around the template points, in inter-eye distances"},
          {"methods", methods},
          {"file", folder.robustness_csv().filename().string()}};
}

}  // namespace

WrittenAnalysis write_analysis_folder(const ComputedAnalysis& a, const fs::path& dir) {
  const auto& opt = a.options;
  const AnalysisFolder folder{dir};
  const auto cam_settings = cam_settings_json(a);
  nlohmann::json summary = {{"amva_version", version()},
                            {"created", utc_timestamp()},
                            {"store", fs::absolute(opt.store).lexically_normal().string()},
                            {"records", a.result.records},
                            {"faces", a.result.faces},
                            {"settings", settings_json(a, cam_settings)},
                            {"score_files", score_files_json(a.result.score_reports)},
                            {"methods", nlohmann::json::object()}};
  viz::FigureBatch figures(opt.figures);
  for (const auto& m : a.methods) {
    write_method_files(m, folder, 1 - opt.bootstrap.confidence);
    write_reference(a, m, folder, summary["store"], cam_settings);
    summary["methods"][m.scores.name] = method_json(m, folder, opt.fdr);
    if (opt.figures.draw) add_method_figures(a, m, folder, figures);
  }
  summary["agreement"] = write_agreement(a, folder);
  if (const auto& n = a.result.null_controls) summary["null_controls"] = write_null_controls(*n, folder);
  if (const auto& r = a.result.robustness) summary["robustness"] = write_robustness(*r, folder);
  io::write_text_atomically(folder.groups_csv(), groups_csv(a));
  io::write_text_atomically(folder.regions_csv(), regions_csv(a));
  if (opt.figures.draw && !a.methods.empty()) {
    figures.add(grid_figure(a, folder));
    summary["figures"] = {
        {"grid", viz::png_of(folder.grid_figure()).filename().string()},
        {"per_method", {"intra.png", "signed.png", "significance.png", "density.png", "profiles.png"}}};
  }
  io::write_text_atomically(folder.summary(), io::json_text(summary, 2) + "\n");
  WrittenAnalysis written{std::move(summary), {}};
  if (opt.figures.draw) {
    opt.progress.stage("drawing figures");
    figures.render(dir / ".figures");
    for (const auto& file : figures.files()) written.figures.insert(file.lexically_relative(dir).generic_string());
  }
  return written;
}

}  // namespace amva::analysis
