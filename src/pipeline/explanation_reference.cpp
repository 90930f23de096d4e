#include "amva/pipeline/explanation_reference.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "amva/analysis/amva_analysis.hpp"
#include "amva/analysis/analysis_folder.hpp"
#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/image_list.hpp"
#include "amva/quality/quality_measure.hpp"
#include "amva/store/store.hpp"

namespace amva::pipeline {
namespace fs = std::filesystem;

fs::path build_explanation_reference(const ExplanationReferenceOptions& o) {
  const auto& method = o.method.name;
  if (!quality::QualityRegistry::instance().contains(method)) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("an explanation reference with other maps needs a built-in FIQA method, not '{}'", method));
  }
  const auto& groups = o.method.groups;
  if (groups.size() < 2) throw Error(ErrorCode::InvalidArgument, fmt::format("{} has fewer than two groups", method));
  const auto index = store::read_index_entries(o.store);
  std::set<std::string> images;
  for (const auto* g : {&groups.front(), &groups.back()}) {
    for (const auto row : g->rows) {
      if (row < 0 || static_cast<std::size_t>(row) >= index.size()) {
        throw Error(ErrorCode::Mismatch, fmt::format("{}: the analysis names row {} of a store with {} rows",
                                                     o.store.string(), row, index.size()));
      }
      images.insert(io::resolve_key(o.images, index[static_cast<std::size_t>(row)].path).lexically_normal().string());
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
  e.quality = {method};
  extract(e, [&](const ExtractProgress& p) {
    if (o.progress) o.progress(p.done, p.total);
  });

  analysis::AnalysisOptions a;
  a.store = e.out;
  a.out = o.dir / "analysis";
  a.scores.methods = {method};
  a.cam = o.cam;
  a.group = stats::GroupRule::parse("top:50");
  a.bootstrap.replicates = 0;  // only the reference and its deviations are used
  a.figures = false;
  a.force = true;  // a folder of this function's own
  analysis::analyze(a);
  return analysis::AnalysisFolder{a.out}.reference(method);
}

}  // namespace amva::pipeline
