#include "amva/pipeline/explanation_reference.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "amva/analysis/amva_analysis.hpp"
#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/image_list.hpp"
#include "amva/io/json_fields.hpp"
#include "amva/quality/quality_measure.hpp"

namespace amva::pipeline {
namespace fs = std::filesystem;

fs::path build_explanation_reference(const ExplanationReferenceOptions& o) {
  if (!quality::QualityRegistry::instance().contains(o.method)) {
    throw Error(
        ErrorCode::InvalidArgument,
        fmt::format("an explanation reference with other maps needs a built-in FIQA method, not '{}'", o.method));
  }
  const auto summary = io::parse_json_file(o.analysis_dir / "summary.json");
  const auto& order = summary.at("methods").at(o.method).at("group_order");
  if (order.size() < 2) throw Error(ErrorCode::InvalidArgument, fmt::format("{} has fewer than two groups", o.method));
  const std::set<std::string> wanted = {order.front().get<std::string>(), order.back().get<std::string>()};
  const auto groups = io::read_csv(o.analysis_dir / "groups.csv");
  const auto path_col = groups.column("path"), method_col = groups.column("method"), group_col = groups.column("group");
  std::set<std::string> images;
  for (const auto& row : groups.rows) {
    if (row[method_col] == o.method && wanted.count(row[group_col])) {
      images.insert(io::resolve_key(o.images, row[path_col]).lexically_normal().string());
    }
  }
  std::string list;
  for (const auto& image : images) list += image + '\n';
  // Other groups (the study gained images): a store of the old ones would mix into the new.
  const fs::path list_file = o.dir / "images.txt";
  if (fs::exists(list_file) && io::read_text(list_file) != list) {
    fs::remove_all(o.dir / "store");
    fs::remove_all(o.dir / "analysis");
  }
  fs::create_directories(o.dir);
  io::write_text_atomically(list_file, list);

  ExtractOptions e = o.extract;
  e.images = list_file;
  e.out = o.dir / "store";
  e.cams = {o.cam};
  e.quality = {o.method};
  extract(e, [&](const ExtractProgress& p) {
    if (o.progress) o.progress(p.done, p.total);
  });

  analysis::AnalysisOptions a;
  a.store = e.out;
  a.out = o.dir / "analysis";
  a.scores.methods = {o.method};
  a.cam = o.cam;
  a.group = stats::GroupRule::parse("top:50");
  a.bootstrap.replicates = 0;  // only the reference and its deviations are used
  a.figures = false;
  a.force = true;  // a folder of this function's own
  analysis::analyze(a);
  return a.out / ("reference_" + o.method);
}

}  // namespace amva::pipeline
