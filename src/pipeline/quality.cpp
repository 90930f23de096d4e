#include "amva/pipeline/quality.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>
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

QualitySummary update_quality(const QualityOptions& opt, const ScoredFaces& scored) {
  const auto store = store::read_store(opt.store);  // completes an interrupted commit first
  const store::StoreLock lock(opt.store);           // quality.csv is the store's: one writer at a time
  std::vector<std::unique_ptr<quality::QualityMeasure>> measures;
  for (const auto& name : opt.methods) measures.push_back(quality::QualityRegistry::instance().create(name));
  const auto& records = store.table.records;
  std::vector<std::vector<double>> scores(
      measures.size(), std::vector<double>(records.size(), std::numeric_limits<double>::quiet_NaN()));

  // Scores the pass already made; the rest are re-read.
  std::vector<std::size_t> todo;
  bool needs_activations = false;
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
  for (const auto& m : measures) needs_activations = needs_activations || (m->needs_activations() && !todo.empty());
  const auto& emb = store.table.array("embeddings");

  std::unique_ptr<model::FaceRecognizer> probe_rec;
  std::shared_ptr<const model::AffineHead> head;
  std::string layer;
  if (needs_activations) {
    probe_rec = model::FaceRecognizer::create(opt.card);
    if (probe_rec->model_sha256() != store.meta["settings"]["model_sha256"]) {
      throw Error(ErrorCode::Mismatch, fmt::format("{}: the store was made with another model than {}",
                                                   opt.store.string(), opt.card.file.string()));
    }
    layer = probe_rec->target_layer();
    const cv::Mat a =
        probe_rec->forward({cv::Mat(opt.card.input_height, opt.card.input_width, CV_8UC3, cv::Scalar(0))}, {layer})
            .activations.front();
    head = model::AffineHead::extract(opt.card, probe_rec->model_sha256(), layer,
                                      {a.size[1], a.size[2], a.size[3], probe_rec->embedding_size()}, opt.cache_dir);
  }

  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::mutex progress_mutex;
  run_workers(opt.threads, [&](int, const std::function<bool()>& stop) {
    std::unique_ptr<model::FaceRecognizer> rec;
    if (needs_activations) rec = model::FaceRecognizer::create(opt.card);
    for (std::size_t t; !stop() && (t = next++) < todo.size();) {
      const std::size_t i = todo[t];
      const auto& r = records[i];
      const cv::Mat face = aligned_face_of(store.meta, r);
      quality::QualityInput in;
      in.aligned = &face;
      in.detection = &r.detection;
      in.embedding = emb.row(i);
      in.embedding_size = static_cast<int>(emb.row_size());
      in.head = head.get();
      cv::Mat activations;
      if (needs_activations) {
        activations = rec->forward({face}, {layer}).activations.front();
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

  auto columns = existing_columns(opt.store / "quality.csv", records.size());
  for (std::size_t m = 0; m < measures.size(); ++m) {
    auto& col = columns[measures[m]->name()];
    col.clear();
    for (double v : scores[m]) col.push_back(std::isnan(v) ? "nan" : fmt::format("{}", v));
  }
  QualitySummary summary;
  summary.rescored = todo.size();
  for (std::size_t m = 0; m < measures.size(); ++m) {
    std::size_t undefined = 0;
    for (std::size_t i = 0; i < records.size(); ++i) undefined += records[i].ok && std::isnan(scores[m][i]) ? 1 : 0;
    if (undefined) summary.undefined[measures[m]->name()] = undefined;
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
  io::write_text_atomically(opt.store / "quality.csv", out.str());
  summary.columns = header;
  return summary;
}

}  // namespace amva::pipeline
