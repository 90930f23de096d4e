#include "amva/pipeline/quality.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <sstream>

#include "amva/error.hpp"
#include "amva/face/alignment.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/image_list.hpp"
#include "amva/io/numbers.hpp"
#include "amva/model/face_recognizer.hpp"
#include "amva/pipeline/extract.hpp"
#include "amva/pipeline/workers.hpp"
#include "amva/quality/quality_measure.hpp"
#include "amva/store/store.hpp"

namespace amva::pipeline {
namespace fs = std::filesystem;

namespace {
// Existing quality.csv columns, keyed by id, so that a run adds to them.
std::map<std::string, std::vector<std::string>> existing_columns(const fs::path& file, std::size_t rows) {
  std::map<std::string, std::vector<std::string>> columns;
  if (!fs::exists(file)) return columns;
  const auto csv = io::read_csv(file, ',');
  if (csv.rows.size() != rows) return columns;  // from an older extraction: start afresh
  for (std::size_t c = 2; c < csv.header.size(); ++c) {
    auto& col = columns[csv.header[c]];
    for (const auto& row : csv.rows) col.push_back(row[c]);
  }
  return columns;
}
}  // namespace

QualitySummary compute_quality(const QualityOptions& opt) {
  return update_quality(opt, {});
}

void add_stored_scores(const fs::path& store, const std::vector<std::string>& methods, ScoredFaces& scored) {
  const fs::path file = store / "quality.csv";
  if (!fs::exists(file)) return;
  const auto csv = io::read_csv(file, ',');
  if (csv.header.size() < 2 || csv.header[1] != "path") return;
  // Rows are in the store's canonical order (path, then face), so the k-th row of a path is
  // its face k; ids may have moved since, as the store grew.
  std::map<std::string, int> seen;
  for (const auto& row : csv.rows) {
    const int face = seen[row[1]]++;
    for (std::size_t c = 2; c < csv.header.size(); ++c) {
      if (std::find(methods.begin(), methods.end(), csv.header[c]) == methods.end()) continue;
      const auto v = io::to_double(row[c]);
      if (!v || std::isnan(*v)) continue;
      scored[{row[1], face}].emplace(csv.header[c], *v);
    }
  }
}

namespace {

using Measures = std::vector<std::unique_ptr<quality::QualityMeasure>>;
using Scores = std::vector<std::vector<double>>;  // per measure, per record

// Takes the scores the pass already made; returns the records whose image must be re-read.
std::vector<std::size_t> take_scored(const std::vector<store::Record>& records, const Measures& measures,
                                     const ScoredFaces& scored, Scores& scores) {
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (!records[i].ok) continue;
    const auto it = scored.find({records[i].path, records[i].face});
    bool complete = it != scored.end();
    for (std::size_t m = 0; m < measures.size() && complete; ++m) {
      const auto found = it->second.find(measures[m]->name());
      if (found == it->second.end()) {
        complete = false;
      } else {
        scores[m][i] = found->second;
      }
    }
    if (!complete) todo.push_back(i);
  }
  return todo;
}

// The target layer and affine head that measures reading activations need, from the store's model.
struct Activations {
  std::string layer;
  std::shared_ptr<const model::AffineHead> head;
};

Activations activations_for(const QualityOptions& opt, const nlohmann::json& meta) {
  const auto probe = model::FaceRecognizer::create(opt.card);
  if (probe->model_sha256() != meta["settings"]["model_sha256"]) {
    throw Error(ErrorCode::Mismatch, fmt::format("{}: the store was made with another model than {}",
                                                 opt.store.string(), opt.card.file.string()));
  }
  Activations a;
  a.layer = probe->target_layer();
  const cv::Mat probe_out =
      probe->forward({cv::Mat(opt.card.input_height, opt.card.input_width, CV_8UC3, cv::Scalar(0))}, {a.layer})
          .activations.front();
  a.head = model::AffineHead::extract(
      opt.card, probe->model_sha256(), a.layer,
      {probe_out.size[1], probe_out.size[2], probe_out.size[3], probe->embedding_size()}, opt.cache_dir);
  return a;
}

// Re-reads, re-aligns and scores the faces of `todo`, on opt.threads workers.
void rescore(const QualityOptions& opt, const store::StoreContent& store, const std::vector<std::size_t>& todo,
             const Measures& measures, const std::optional<Activations>& act, Scores& scores) {
  const auto& records = store.table.records;
  const auto& emb = store.table.array("embeddings");
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::mutex progress_mutex;
  run_workers(opt.threads, [&](int, const std::function<bool()>& stop) {
    std::unique_ptr<model::FaceRecognizer> rec;
    if (act) rec = model::FaceRecognizer::create(opt.card);
    for (std::size_t t; !stop() && (t = next++) < todo.size();) {
      const std::size_t i = todo[t];
      const auto& r = records[i];
      const cv::Mat face = aligned_face_of(store.meta, r);
      quality::QualityInput in;
      in.aligned = &face;
      in.detection = &r.detection;
      in.embedding = emb.row(i);
      in.embedding_size = static_cast<int>(emb.row_size());
      cv::Mat activations;
      if (act) {
        in.head = act->head.get();
        activations = rec->forward({face}, {act->layer}).activations.front();
        in.activations = activations.ptr<float>();
      }
      for (std::size_t m = 0; m < measures.size(); ++m) scores[m][i] = measures[m]->score(in);
      const std::size_t d = ++done;
      if (opt.progress) {
        const std::lock_guard guard(progress_mutex);
        opt.progress(d, todo.size());
      }
    }
  });
}

// quality.csv: id, path, then every column, these measures' replaced and the others kept.
void write_quality_csv(const fs::path& dir, const std::vector<store::Record>& records, const Measures& measures,
                       const Scores& scores, QualitySummary& summary) {
  auto columns = existing_columns(dir / "quality.csv", records.size());
  for (std::size_t m = 0; m < measures.size(); ++m) {
    auto& col = columns[measures[m]->name()];
    col.clear();
    for (double v : scores[m]) col.push_back(std::isnan(v) ? "nan" : fmt::format("{}", v));
  }
  std::vector<std::string> header{"id", "path"};
  for (const auto& [name, col] : columns) header.push_back(name);
  std::ostringstream out;
  out << io::csv_line(header) << '\n';
  for (std::size_t i = 0; i < records.size(); ++i) {
    std::vector<std::string> row{std::to_string(records[i].id), records[i].path};
    for (const auto& [name, col] : columns) row.push_back(col[i]);
    out << io::csv_line(row) << '\n';
    records[i].ok ? ++summary.scored : ++summary.skipped;
  }
  io::write_text_atomically(dir / "quality.csv", out.str());
  summary.columns = header;
}

}  // namespace

QualitySummary update_quality(const QualityOptions& opt, const ScoredFaces& scored) {
  const auto store = store::read_store(opt.store);  // completes an interrupted commit first
  const store::StoreLock lock(opt.store);           // quality.csv is the store's: one writer at a time
  Measures measures;
  for (const auto& name : opt.methods) measures.push_back(quality::QualityRegistry::instance().create(name));
  const auto& records = store.table.records;
  Scores scores(measures.size(), std::vector<double>(records.size(), std::numeric_limits<double>::quiet_NaN()));
  const auto todo = take_scored(records, measures, scored, scores);
  bool needs_activations = false;
  for (const auto& m : measures) needs_activations = needs_activations || (m->needs_activations() && !todo.empty());
  std::optional<Activations> act;
  if (needs_activations) act = activations_for(opt, store.meta);
  rescore(opt, store, todo, measures, act, scores);

  QualitySummary summary;
  summary.rescored = todo.size();
  for (std::size_t m = 0; m < measures.size(); ++m) {
    std::size_t undefined = 0;
    for (std::size_t i = 0; i < records.size(); ++i) undefined += records[i].ok && std::isnan(scores[m][i]) ? 1 : 0;
    if (undefined) summary.undefined[measures[m]->name()] = undefined;
  }
  write_quality_csv(opt.store, records, measures, scores, summary);
  return summary;
}

}  // namespace amva::pipeline
