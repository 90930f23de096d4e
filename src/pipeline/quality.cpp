#include "amva/pipeline/quality.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <numeric>
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
#include "amva/io/list_part.hpp"
#include "amva/io/numbers.hpp"
#include "amva/model/face_recognizer.hpp"
#include "amva/model/layer_probe.hpp"
#include "amva/pipeline/extract.hpp"
#include "amva/pipeline/workers.hpp"
#include "amva/quality/quality_measure.hpp"
#include "amva/store/quality_table.hpp"
#include "amva/store/settings.hpp"
#include "amva/store/store.hpp"

namespace amva::pipeline {
namespace fs = std::filesystem;

QualitySummary compute_quality(const QualityOptions& opt, Team* team) {
  return update_quality(opt, {}, team);
}

void add_stored_scores(const fs::path& store, const std::vector<std::string>& methods, ScoredFaces& scored) {
  const auto table = store::QualityTable::read(store);
  if (!table) return;
  // Rows are in the store's canonical order (path, then face), so the k-th row of a path is
  // its face k; ids may have moved since, as the store grew.
  std::map<std::string, int> seen;
  const auto& names = table->methods();
  for (const auto& row : table->rows()) {
    const int face = seen[row.path]++;
    for (std::size_t c = 0; c < names.size(); ++c) {
      if (std::find(methods.begin(), methods.end(), names[c]) == methods.end()) continue;
      const auto v = io::to_double(row.cells[c]);
      if (!v || std::isnan(*v)) continue;
      scored[{row.path, face}].emplace(names[c], *v);
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
model::LayerHead activations_for(const QualityOptions& opt, const store::StoreMeta& meta) {
  const auto probe = model::FaceRecognizer::create(opt.card);
  if (probe->model_sha256() != meta.settings.model_sha256) {
    throw Error(ErrorCode::Mismatch, fmt::format("{}: the store was made with another model than {}",
                                                 opt.store.string(), opt.card.file.string()));
  }
  return model::probe_layer_head(*probe, opt.cache_dir);
}

// Re-reads, re-aligns and scores the faces of `todo`, on opt.threads workers.
void rescore(const QualityOptions& opt, const store::StoreContent& store, const std::vector<std::size_t>& todo,
             const Measures& measures, const std::optional<model::LayerHead>& act, Scores& scores,
             const std::function<void()>& face_done) {
  const auto& records = store.table.records;
  const auto& emb = store.table.array(store::kEmbeddings);
  std::atomic<std::size_t> next{0};
  run_workers(opt.threads, [&](int, const std::function<bool()>& stop) {
    std::unique_ptr<model::FaceRecognizer> rec;
    if (act) rec = model::FaceRecognizer::create(opt.card);
    for (std::size_t t; !stop() && (t = next++) < todo.size();) {
      const std::size_t i = todo[t];
      const auto& r = records[i];
      const cv::Mat face = aligned_face_of(store.meta, r);
      face::FaceContext in;
      in.aligned = &face;
      in.detection = &r.detection;
      in.embedding = emb.row(i);
      if (act) in.shape = act->layer.shape;
      in.shape.embedding = static_cast<int>(emb.row_size());
      cv::Mat activations;
      if (act) {
        in.head = act->head.get();
        activations = rec->forward({face}, {act->layer.name}).activations.front();
        in.activations = activations.ptr<float>();
      }
      for (std::size_t m = 0; m < measures.size(); ++m) scores[m][i] = measures[m]->score(in);
      face_done();
    }
  });
}

// The file where part i of N of a job array leaves its scores until the parts are joined.
fs::path part_file(const fs::path& store, const io::ListPart& part) {
  return store / fmt::format("quality-part-{}-of-{}.csv", part.index, part.count);
}

std::vector<fs::path> part_files(const fs::path& store) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(store)) {
    const auto name = e.path().filename().string();
    if (name.rfind("quality-part-", 0) == 0 && e.path().extension() == ".csv") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A part's scores: id, path, face, then one column per measure; only the part's faces.
void write_part_file(const fs::path& file, const std::vector<store::Record>& records, const Measures& measures,
                     const Scores& scores, const std::vector<std::size_t>& rows) {
  std::vector<std::string> header{"id", "path", "face"};
  for (const auto& m : measures) header.push_back(m->name());
  std::string text = io::csv_line(header) + "\n";
  for (const std::size_t i : rows) {
    std::vector<std::string> row{std::to_string(records[i].id), records[i].path, std::to_string(records[i].face)};
    for (std::size_t m = 0; m < measures.size(); ++m) {
      row.push_back(std::isnan(scores[m][i]) ? "nan" : fmt::format("{}", scores[m][i]));
    }
    text += io::csv_line(row) + "\n";
  }
  io::write_text_atomically(file, text);
}

// What the parts of a job array scored, for the run that joins them.
void add_part_scores(const fs::path& store, const Measures& measures, ScoredFaces& scored) {
  for (const auto& file : part_files(store)) {
    const auto csv = io::read_csv(file, ',');
    const std::size_t path = csv.column("path", file.string()), face = csv.column("face", file.string());
    for (std::size_t r = 0; r < csv.rows.size(); ++r) {
      const auto face_number = io::to_integer(csv.rows[r][face]);
      if (!face_number) {
        throw Error(ErrorCode::Parse, fmt::format("{}:{}: face is not a number", file.string(), csv.line_numbers[r]));
      }
      auto& scores = scored[{csv.rows[r][path], static_cast<int>(*face_number)}];
      for (const auto& m : measures) {
        const auto c = std::find(csv.header.begin(), csv.header.end(), m->name());
        if (c == csv.header.end()) continue;
        const auto v = io::to_double(csv.rows[r][static_cast<std::size_t>(c - csv.header.begin())]);
        scores.emplace(m->name(), v ? *v : std::numeric_limits<double>::quiet_NaN());
      }
    }
  }
}

// A rank's scores for the root: record row, then one value per measure (null: NaN).
std::string rank_scores_text(const std::vector<std::size_t>& rows, const Scores& scores) {
  nlohmann::json out = nlohmann::json::array();
  for (const std::size_t i : rows) {
    nlohmann::json values = nlohmann::json::array();
    for (const auto& per_measure : scores) {
      values.push_back(std::isnan(per_measure[i]) ? nlohmann::json(nullptr) : nlohmann::json(per_measure[i]));
    }
    out.push_back({i, values});
  }
  return out.dump();
}

void add_rank_scores(const std::string& text, Scores& scores) {
  for (const auto& row : nlohmann::json::parse(text)) {
    const auto i = row[0].get<std::size_t>();
    for (std::size_t m = 0; m < scores.size(); ++m) {
      scores[m][i] = row[1][m].is_null() ? std::numeric_limits<double>::quiet_NaN() : row[1][m].get<double>();
    }
  }
}

}  // namespace

// quality.csv: id, path, then every column in name order, these methods' replaced and the
// others kept when they cover the same rows.
std::vector<std::string> write_quality_columns(const fs::path& dir, const std::vector<store::Record>& records,
                                               const std::vector<std::string>& names, const Scores& scores) {
  auto table = store::QualityTable::read(dir).value_or(store::QualityTable{});
  if (table.rows().size() != records.size()) table = {};  // from an older extraction: start afresh
  for (std::size_t m = 0; m < names.size(); ++m) {
    std::vector<std::string> cells;
    cells.reserve(scores[m].size());
    for (double v : scores[m]) cells.push_back(store::QualityTable::cell(v));
    table.set_column(names[m], cells);
  }
  table.sort_methods();
  table.write(dir, records);
  std::vector<std::string> header{"id", "path"};
  header.insert(header.end(), table.methods().begin(), table.methods().end());
  return header;
}

namespace {

void write_quality_csv(const fs::path& dir, const std::vector<store::Record>& records, const Measures& measures,
                       const Scores& scores, QualitySummary& summary) {
  std::vector<std::string> names;
  for (const auto& m : measures) names.push_back(m->name());
  summary.columns = write_quality_columns(dir, records, names, scores);
  for (const auto& r : records) r.ok ? ++summary.scored : ++summary.skipped;
}

}  // namespace

QualitySummary update_quality(const QualityOptions& opt, const ScoredFaces& scored_before, Team* team_or_null) {
  const auto solo = team_or_null ? nullptr : solo_team();
  Team& team = team_or_null ? *team_or_null : *solo;
  const auto store = store::read_store(opt.store);  // completes an interrupted commit first
  // quality.csv is the store's: one writer at a time, the team's root. The parts of a job
  // array run side by side, each writing its own file, and take no lock.
  std::optional<store::StoreLock> lock;
  decided_by_root(team, [&] {
    if (opt.part.whole()) lock.emplace(opt.store);
    return std::string();
  });
  Measures measures;
  for (const auto& name : opt.methods)
    measures.push_back(quality::QualityRegistry::instance().create(name, config_for(opt.measures, name)));
  const auto& records = store.table.records;
  ScoredFaces scored = scored_before;
  if (opt.part.whole()) add_part_scores(opt.store, measures, scored);
  Scores scores(measures.size(), std::vector<double>(records.size(), std::numeric_limits<double>::quiet_NaN()));
  auto todo = take_scored(records, measures, scored, scores);
  std::vector<std::size_t> part_rows;
  if (!opt.part.whole()) {
    for (std::size_t i = static_cast<std::size_t>(opt.part.index - 1); i < records.size();
         i += static_cast<std::size_t>(opt.part.count)) {
      if (records[i].ok) part_rows.push_back(i);
    }
    std::vector<std::size_t> mine;
    std::set_intersection(todo.begin(), todo.end(), part_rows.begin(), part_rows.end(), std::back_inserter(mine));
    todo = std::move(mine);
  }
  bool needs_activations = false;
  for (const auto& m : measures) needs_activations = needs_activations || (m->needs_activations() && !todo.empty());
  std::optional<model::LayerHead> act;
  if (needs_activations) act = activations_for(opt, store.meta);

  // Blocks of faces go to whichever rank is free; each rank reports its faces to the root.
  std::atomic<std::size_t> own{0}, others{0};
  std::mutex progress_mutex;
  std::vector<std::size_t> own_rows;
  share_blocks(
      team, todo.size(), 64,
      [&](std::size_t first, std::size_t last) {
        const std::vector<std::size_t> block(todo.begin() + static_cast<std::ptrdiff_t>(first),
                                             todo.begin() + static_cast<std::ptrdiff_t>(last));
        rescore(opt, store, block, measures, act, scores, [&] {
          const std::size_t d = ++own + others;
          if (opt.progress.on_count) {
            const std::lock_guard guard(progress_mutex);
            opt.progress.count("quality", d, todo.size());
          }
        });
        own_rows.insert(own_rows.end(), block.begin(), block.end());
        return true;
      },
      [&](std::size_t all_finished) { others = all_finished - own; });
  const auto rank_scores = team.gather(rank_scores_text(own_rows, scores));
  QualitySummary summary;
  summary.rescored = own;
  if (!team.is_root()) return summary;
  for (std::size_t r = 1; r < rank_scores.size(); ++r) add_rank_scores(rank_scores[r], scores);
  summary.rescored = todo.size();
  std::vector<std::size_t> rows = part_rows;
  if (opt.part.whole()) {
    rows.resize(records.size());
    std::iota(rows.begin(), rows.end(), std::size_t{0});
  }
  for (std::size_t m = 0; m < measures.size(); ++m) {
    std::size_t undefined = 0;
    for (const std::size_t i : rows) undefined += records[i].ok && std::isnan(scores[m][i]) ? 1 : 0;
    if (undefined) summary.undefined[measures[m]->name()] = undefined;
  }
  if (!opt.part.whole()) {
    write_part_file(part_file(opt.store, opt.part), records, measures, scores, part_rows);
    summary.scored = part_rows.size();
    summary.part_file = part_file(opt.store, opt.part);
    return summary;
  }
  write_quality_csv(opt.store, records, measures, scores, summary);
  // The parts are joined: a part file goes once quality.csv holds every measure it scored.
  for (const auto& file : part_files(opt.store)) {
    const auto header = io::read_csv(file, ',').header;
    bool joined = true;
    for (std::size_t c = 3; c < header.size(); ++c) {
      joined = joined && std::find(opt.methods.begin(), opt.methods.end(), header[c]) != opt.methods.end();
    }
    if (joined) fs::remove(file);
  }
  return summary;
}

}  // namespace amva::pipeline
