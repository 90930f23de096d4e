#include "amva/pipeline/across_models.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgproc.hpp>

#include "amva/analysis/analysis_folder.hpp"
#include "amva/analysis/regions.hpp"
#include "amva/error.hpp"
#include "amva/eval/edc_folder.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/npy.hpp"
#include "amva/io/output_dir.hpp"
#include "amva/io/safe_name.hpp"
#include "amva/quality/quality_measure.hpp"
#include "amva/stats/distributions.hpp"
#include "amva/store/store.hpp"

namespace amva::pipeline {
namespace fs = std::filesystem;
namespace {

// A map's cells as doubles, for stats::pearson.
std::vector<double> cells_of(const cv::Mat& map) {
  return std::vector<double>(map.begin<float>(), map.end<float>());
}

// A map row as a matrix of `shape`, resized to `to` when the shapes differ.
cv::Mat map_of(const store::RowArray& maps, std::size_t row, cv::Size to) {
  const cv::Mat m(static_cast<int>(maps.row_shape.at(0)), static_cast<int>(maps.row_shape.at(1)), CV_32F,
                  const_cast<float*>(maps.row(row)));
  if (m.size() == to) return m;
  cv::Mat resized;
  cv::resize(m, resized, to, 0, 0, cv::INTER_LINEAR);
  return resized;
}

// A model's maps of the study's CAM method, with the index rows they belong to: only the maps,
// not the whole store (embeddings are the larger part of a million-image store).
struct ModelMaps {
  std::string key;
  std::vector<store::IndexEntry> index;
  store::RowArray maps;
};

ModelMaps read_maps(const StudiedModel& model, const std::string& cam) {
  const store::StoreFolder folder{model.study / "store"};
  auto npy = io::read_npy(folder.maps(cam));
  ModelMaps out{model.key, store::read_index_entries(folder.dir), {}};
  out.maps.row_shape.assign(npy.shape.begin() + 1, npy.shape.end());
  out.maps.data = std::move(npy.data);
  if (out.maps.rows() != out.index.size() || out.maps.row_shape.size() != 2) {
    throw Error(ErrorCode::Mismatch, fmt::format("{}: {} maps of shape {} for {} index rows", folder.maps(cam).string(),
                                                 out.maps.rows(), out.maps.row_shape.size(), out.index.size()));
  }
  return out;
}

// Pearson's r per face between two models' maps (the second resized to the first's shape where
// they differ), and of their mean maps. One extraction pass gives every model the same index
// rows, so a face is the same row in both; a row whose image differs is left out.
report::MapAgreement agreement(const ModelMaps& a, const ModelMaps& b) {
  const cv::Size shape(static_cast<int>(a.maps.row_shape.at(1)), static_cast<int>(a.maps.row_shape.at(0)));
  std::vector<double> r;
  cv::Mat sum_a = cv::Mat::zeros(shape, CV_64F), sum_b = cv::Mat::zeros(shape, CV_64F);
  for (std::size_t i = 0; i < a.index.size() && i < b.index.size(); ++i) {
    if (!a.index[i].ok || !b.index[i].ok || a.index[i].path != b.index[i].path) continue;
    const cv::Mat x = map_of(a.maps, i, shape);
    const cv::Mat y = map_of(b.maps, i, shape);
    if (!cv::checkRange(x) || !cv::checkRange(y)) continue;
    r.push_back(stats::pearson(cells_of(x), cells_of(y)));
    cv::accumulate(x, sum_a);
    cv::accumulate(y, sum_b);
  }
  std::vector<double> finite;
  for (const double v : r) {
    if (std::isfinite(v)) finite.push_back(v);
  }
  report::MapAgreement g;
  g.a = a.key;
  g.b = b.key;
  g.faces = r.size();
  double total = 0;
  for (const double v : finite) total += v;
  g.mean = finite.empty() ? std::numeric_limits<double>::quiet_NaN() : total / static_cast<double>(finite.size());
  g.q10 = stats::quantile(finite, 0.10);
  g.median = stats::quantile(finite, 0.50);
  g.q90 = stats::quantile(finite, 0.90);
  cv::Mat fa, fb;
  sum_a.convertTo(fa, CV_32F);
  sum_b.convertTo(fb, CV_32F);
  g.mean_map_r = r.empty() ? std::numeric_limits<double>::quiet_NaN() : stats::pearson(cells_of(fa), cells_of(fb));
  return g;
}

// Every FIQA score of the study as the cross-model EDC reads it on one model's store: shared
// methods from that store, and each model's model-dependent methods from its own quality.csv
// as method@model.
quality::ScoreRequest cross_scores(const AcrossModelsOptions& opt) {
  quality::ScoreRequest request = opt.scores;
  request.methods.clear();
  for (const auto& m : opt.scores.methods) {
    if (!uses_model(m)) request.methods.push_back(m);
  }
  for (const auto& model : opt.models) {
    for (const auto& m : opt.scores.methods) {
      if (!uses_model(m)) continue;
      quality::ScoreFileSpec spec;
      spec.file = store::StoreFolder{model.study / "store"}.quality();
      spec.column = m;
      spec.name = m + "@" + model.key;
      request.files.push_back(spec);
    }
  }
  return request;
}

void cross_edc(const AcrossModelsOptions& opt, report::AcrossModels& across) {
  if (opt.pairs.empty() && opt.labels.empty() && !opt.labels_from_folders) {
    across.edc_note = "No cross-model EDC: no comparisons were given (--pairs, --labels or --labels-from-folders).";
    return;
  }
  const auto request = cross_scores(opt);
  for (const auto& judged : opt.models) {
    eval::EdcOptions c;
    c.store = judged.study / "store";
    c.out = opt.out / ("edc_on_" + judged.key);
    io::make_real_dir(c.out);
    c.force = true;  // a folder of the study's own
    c.pairs = opt.pairs;
    c.labels = opt.labels;
    c.labels_from_folders = opt.labels_from_folders;
    c.scores = request;
    c.with_random = true;
    c.discard_limits = {across.discard_limit};
    c.group = opt.group;
    c.figures = opt.figures;
    opt.progress.stage(
        fmt::format("[across models] EDC of every FIQA score on {}'s comparisons into {}", judged.key, c.out.string()));
    eval::EdcResult edc;
    try {
      edc = eval::run_edc(c);
    } catch (const Error& err) {
      if (err.code() != ErrorCode::InvalidArgument) throw;
      across.cross_edc.clear();
      across.edc_figures.clear();
      across.edc_note = fmt::format("No cross-model EDC: {}", err.what());
      return;
    }
    for (const auto& m : edc.methods) {
      if (m.name == "random") continue;
      across.cross_edc.push_back({m.name, judged.key, m.fnm.at(0), edc.random_fnm_pauc.at(0)});
    }
    across.edc_figures.push_back(eval::EdcFolder{c.out}.edc_figure());
  }
}

void write_tables(const fs::path& out, const report::AcrossModels& a) {
  std::string verdicts = "method,model,uses_model,finding,outside_amv_low_minus_high,lo,hi,p_family\n";
  for (const auto& v : a.verdicts) {
    verdicts += io::csv_line({v.method, v.model, v.uses_model ? "1" : "0", v.finding,
                              fmt::format("{:.9g}", v.outside_amv_low_minus_high.value),
                              fmt::format("{:.9g}", v.outside_amv_low_minus_high.lo),
                              fmt::format("{:.9g}", v.outside_amv_low_minus_high.hi), fmt::format("{:.9g}", v.p)}) +
                "\n";
  }
  io::write_text_atomically(out / "verdicts.csv", verdicts);
  std::string agreement = "model_a,model_b,faces,mean_r,q10_r,median_r,q90_r,mean_map_r\n";
  for (const auto& g : a.agreement) {
    agreement += io::csv_line({g.a, g.b, std::to_string(g.faces), fmt::format("{:.9g}", g.mean),
                               fmt::format("{:.9g}", g.q10), fmt::format("{:.9g}", g.median),
                               fmt::format("{:.9g}", g.q90), fmt::format("{:.9g}", g.mean_map_r)}) +
                 "\n";
  }
  io::write_text_atomically(out / "agreement.csv", agreement);
  std::string edc = "scores,judged_on,fnm_pauc,lo,hi,random\n";
  for (const auto& c : a.cross_edc) {
    edc += io::csv_line({c.method, c.judged_on, fmt::format("{:.9g}", c.fnm.value), fmt::format("{:.9g}", c.fnm.lo),
                         fmt::format("{:.9g}", c.fnm.hi), fmt::format("{:.9g}", c.random)}) +
           "\n";
  }
  io::write_text_atomically(out / "cross_edc.csv", edc);
}

// Per FIQA method, its MAM and AM-V through each model: rows models, columns as in the
// analysis's grid, each column kind on one scale shared by the models.
void draw_method_grids(const AcrossModelsOptions& opt, report::AcrossModels& across) {
  viz::FigureBatch figures(opt.figures);
  for (const auto& method : across.methods()) {
    viz::HeatmapGrid grid;
    grid.file = opt.out / ("grid_" + io::safe_name(method));
    grid.title = fmt::format("{}: {} maps per face recognition model", method, opt.cam);
    for (const auto& model : opt.models) {
      const auto& methods_of = model.analysis->methods;
      const auto it = std::find_if(methods_of.begin(), methods_of.end(),
                                   [&](const analysis::MethodAnalysis& m) { return m.name == method; });
      if (it == methods_of.end() || it->groups.size() < 2) continue;
      const auto high = it->groups.back().name, low = it->groups.front().name;
      if (grid.column_titles.empty()) {
        grid.column_titles = {"MAM " + high, "MAM " + low, "AM-V " + high, "AM-V " + low, "D-AM-V"};
      }
      const analysis::AnalysisFolder folder{model.analysis->out};
      grid.row_titles.push_back(model.key);
      grid.cells.push_back({folder.group_map(method, "mam", high), folder.group_map(method, "mam", low),
                            folder.group_map(method, "amv", high), folder.group_map(method, "amv", low),
                            folder.method_map(method, "d_amv")});
    }
    if (grid.cells.empty()) continue;
    grid.column_scale = {0, 0, 1, 1, 2};
    grid.scale_labels = {"MAM (mean activation)", "AM-V (per-pixel std)", "D-AM-V"};
    grid.box = analysis::central_face_box();
    figures.add(grid);
    across.method_grids.emplace_back(method, grid.file);
  }
  if (opt.figures.draw) figures.render(opt.out / ".figures");
}

// One line per FIQA method: on which models its verdict holds; then the maps and the EDC.
std::vector<std::string> across_findings(const report::AcrossModels& a) {
  std::vector<std::string> lines;
  for (const auto& method : a.methods()) {
    std::map<std::string, std::vector<std::string>> by_finding;
    for (const auto& v : a.verdicts) {
      if (v.method == method) by_finding[v.finding].push_back(v.model);
    }
    const std::string name = a.scored_per_model(method) ? method + "@model" : method;
    if (by_finding.size() == 1) {
      lines.push_back(fmt::format("{}: {} on every model ({})", name, by_finding.begin()->first,
                                  by_finding.begin()->second.size()));
    } else {
      std::vector<std::string> parts;
      for (const auto& [finding, models] : by_finding) {
        parts.push_back(fmt::format("{} on {}", finding, fmt::join(models, ", ")));
      }
      lines.push_back(fmt::format("{}: the models disagree: {}", name, fmt::join(parts, "; ")));
    }
  }
  std::vector<std::string> maps;
  for (const auto& g : a.agreement) maps.push_back(fmt::format("{}/{} {:.2f}", g.a, g.b, g.median));
  lines.push_back(fmt::format("{} maps of the same face across models, median r: {}", a.cam, fmt::join(maps, ", ")));
  std::vector<std::string> best;
  for (const auto& m : a.models) {
    const report::CrossEdcCell* top = nullptr;
    for (const auto& c : a.cross_edc) {
      if (c.judged_on == m.key && (!top || c.fnm.value < top->fnm.value)) top = &c;
    }
    if (top) best.push_back(fmt::format("on {}: {} {:.5f}", m.key, top->method, top->fnm.value));
  }
  if (!best.empty()) {
    lines.push_back(fmt::format("cross-model EDC, lowest FNM pAUC@{:.2f}: {}", a.discard_limit, fmt::join(best, "; ")));
  }
  return lines;
}

}  // namespace

bool uses_model(const std::string& method) {
  if (method == quality::kDeviationMethod) return true;  // made from the model's maps
  const auto& registry = quality::QualityRegistry::instance();
  return registry.contains(method) && registry.traits(method).uses_model;
}

report::AcrossModels compare_models(const AcrossModelsOptions& opt) {
  if (opt.models.size() < 2) throw Error(ErrorCode::InvalidArgument, "a comparison across models needs two or more");
  io::make_real_dir(opt.out);
  report::AcrossModels a;
  a.cam = opt.cam;
  for (const auto& m : opt.models) {
    report::ModelColumn shown;
    shown.key = m.key;
    shown.name = m.name;
    shown.faces = m.faces;
    shown.report = fs::path("models") / m.key / "report.html";
    a.models.push_back(shown);
    const auto& analysis = *m.analysis;
    for (std::size_t i = 0; i < analysis.methods.size() && i < analysis.findings.size(); ++i) {
      const auto& f = analysis.findings[i];
      a.verdicts.push_back({analysis.methods[i].name, m.key, uses_model(analysis.methods[i].name), f.finding,
                            f.outside_amv_low_minus_high, f.p_outside_family});
    }
  }
  opt.progress.stage("[across models] each method's maps per model, and their agreement");
  draw_method_grids(opt, a);
  std::vector<ModelMaps> maps;
  for (const auto& m : opt.models) maps.push_back(read_maps(m, opt.cam));
  for (std::size_t i = 0; i < maps.size(); ++i) {
    for (std::size_t j = i + 1; j < maps.size(); ++j) a.agreement.push_back(agreement(maps[i], maps[j]));
  }
  cross_edc(opt, a);
  a.findings = across_findings(a);
  write_tables(opt.out, a);
  return a;
}

}  // namespace amva::pipeline
