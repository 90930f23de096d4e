#include "amva/pipeline/explanation_reference.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "amva/analysis/analyze.hpp"
#include "amva/analysis/analysis_folder.hpp"
#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/hex.hpp"
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
  // The images go to extraction in memory, under the study store's own keys: a list file
  // could not hold every file name, and its relative paths would resolve against the list's
  // folder instead of the working directory the study's images are named from.
  std::set<std::string> keys;
  for (const auto* g : {&groups.front(), &groups.back()}) {
    for (const auto row : g->rows) {
      if (row < 0 || static_cast<std::size_t>(row) >= index.size()) {
        throw Error(ErrorCode::Mismatch, fmt::format("{}: the analysis names row {} of a store with {} rows",
                                                     o.store.string(), row, index.size()));
      }
      keys.insert(index[static_cast<std::size_t>(row)].path);
    }
  }
  ExtractOptions e = o.extract;
  e.images = o.images;
  e.entries.clear();
  std::string listed;  // the keys, hex-encoded one per line: any name round-trips
  for (const auto& key : keys) {
    e.entries.push_back({fs::absolute(io::resolve_key(o.images, key)).lexically_normal(), key});
    listed += io::to_hex(key) + '\n';
  }
  // Other groups (the study gained images): a store of the old ones would mix into the new.
  const fs::path list_file = o.dir / "images.hex";
  // An older amva's images.txt: its store is keyed by the listed paths, not the study's keys.
  if ((fs::exists(list_file) && io::read_text(list_file) != listed) || fs::exists(o.dir / "images.txt")) {
    fs::remove_all(o.dir / "store");
    fs::remove_all(o.dir / "analysis");
  }
  fs::create_directories(o.dir);
  io::write_text_atomically(list_file, listed);
  fs::remove(o.dir / "images.txt");

  e.out = o.dir / "store";
  e.cams = {o.cam};
  e.quality = {method};
  extract(e, o.progress);

  analysis::AnalysisOptions a;
  a.store = e.out;
  a.out = o.dir / "analysis";
  a.scores.methods = {method};
  a.cam = o.cam;
  a.group = stats::GroupRule::parse("top:50");
  a.bootstrap.replicates = 0;  // only the reference and its deviations are used
  a.figures.draw = false;
  a.force = true;  // a folder of this function's own
  analysis::analyze(a);
  return analysis::AnalysisFolder{a.out}.reference(method);
}

}  // namespace amva::pipeline
