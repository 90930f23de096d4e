#include "amva/pipeline/extract.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <mutex>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <thread>

#include "amva/error.hpp"
#include "amva/face/alignment.hpp"
#include "amva/io/hash.hpp"
#include "amva/io/hex.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/image_list.hpp"
#include "amva/io/list_part.hpp"
#include "amva/model/face_recognizer.hpp"
#include "amva/pipeline/quality.hpp"
#include "amva/pipeline/workers.hpp"
#include "amva/quality/quality_measure.hpp"
#include "amva/store/settings.hpp"
#include "amva/version.hpp"

namespace amva::pipeline {
namespace {

using store::Record;
using store::Table;

// What one worker owns: its own networks, never shared between threads.
struct Worker {
  std::unique_ptr<face::FaceDetector> detector;  // null with --aligned
  std::unique_ptr<model::FaceRecognizer> recognizer;
};

// The CAM methods and quality measures of a run, shared read-only by the workers.
struct CamPlan {
  std::vector<std::unique_ptr<cam::CamMethod>> methods;
  std::vector<std::unique_ptr<cam::Target>> targets;  // one per method (null for eigencam)
  std::vector<std::unique_ptr<quality::QualityMeasure>> measures;
  std::shared_ptr<const model::AffineHead> head;  // when a method or measure needs it
  model::HeadShape shape;
  std::string layer;  // empty: no activations are needed
};

// A batch's rows, the quality scores of its ok faces (measure order of the plan) and their
// aligned faces (kept only by in-memory extraction; a store re-makes them from landmarks).
struct BatchResult {
  Table table;
  std::vector<std::pair<std::size_t, std::vector<double>>> scores;  // (record, scores)
  std::vector<std::pair<std::size_t, cv::Mat>> faces;               // (record, aligned face)
};

// An image's faces ready for the network, with their records.
struct Prepared {
  std::vector<Record> records;
  std::vector<cv::Mat> faces;        // aligned, one per ok record
  std::vector<std::size_t> face_of;  // record index of each aligned face
};

Record failure(const std::string& path, int face, const std::string& reason, const std::string& message) {
  Record r;
  r.path = path;
  r.face = face;
  r.ok = false;
  r.reason = reason;
  r.error = message;
  return r;
}

// Pre-aligned crops keep their pixels; the template points, scaled to the crop, stand in for
// landmarks so that later stages (region masks, face size) see consistent geometry.
face::Face whole_crop(const cv::Mat& image) {
  face::Face f;
  f.box = cv::Rect2f(0, 0, static_cast<float>(image.cols), static_cast<float>(image.rows));
  f.score = 1.f;
  const float sx = static_cast<float>(image.cols) / face::kAlignedSize;
  const float sy = static_cast<float>(image.rows) / face::kAlignedSize;
  for (int k = 0; k < 5; ++k) {
    f.landmarks[k] = cv::Point2f(face::arcface_template()[k].x * sx, face::arcface_template()[k].y * sy);
  }
  return f;
}

void prepare_image(const io::ImageEntry& entry, const ExtractOptions& opt, Worker& w, Prepared& out) {
  cv::Mat image;
  try {
    image = io::load_bgr(entry.file, opt.max_pixels);
  } catch (const Error& e) {
    out.records.push_back(failure(entry.key, -1, e.reason(), e.what()));
    return;
  }
  std::vector<face::Face> found;
  if (opt.aligned) {
    found.push_back(whole_crop(image));
  } else {
    found = w.detector->detect(image);
    if (found.empty()) {
      Record r = failure(entry.key, -1, "no_face", fmt::format("{}: no face found", entry.key));
      r.image_width = image.cols;
      r.image_height = image.rows;
      out.records.push_back(r);
      return;
    }
    // Face 0 is the one the rule picks; with --all-faces the others follow, largest first.
    const std::size_t primary = face::primary_face(found, image.size(), opt.face_rule);
    std::rotate(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(primary),
                found.begin() + static_cast<std::ptrdiff_t>(primary) + 1);
    if (!opt.all_faces) found.resize(1);
  }
  for (std::size_t k = 0; k < found.size(); ++k) {
    Record r;
    r.path = entry.key;
    r.face = static_cast<int>(k);
    r.ok = true;
    r.detection = found[k];
    r.image_width = image.cols;
    r.image_height = image.rows;
    cv::Mat aligned;
    if (opt.aligned) {
      cv::resize(image, aligned, cv::Size(face::kAlignedSize, face::kAlignedSize), 0, 0, cv::INTER_AREA);
    } else {
      aligned = face::align_face(image, found[k].landmarks);
    }
    out.face_of.push_back(out.records.size());
    out.records.push_back(r);
    out.faces.push_back(aligned);
  }
}

store::RowArray& nan_array(Table& t, const std::string& name, std::vector<std::int64_t> row_shape) {
  auto& a = t.arrays[name];
  a.row_shape = std::move(row_shape);
  a.data.assign(t.records.size() * a.row_size(), std::numeric_limits<float>::quiet_NaN());
  return a;
}

BatchResult process_prepared(Prepared p, const CamPlan& plan, Worker& w, bool before_relu) {
  const int dim = w.recognizer->embedding_size();
  BatchResult out;
  Table& t = out.table;
  t.records = std::move(p.records);
  auto& emb = nan_array(t, store::kEmbeddings, {dim});
  for (const auto& m : plan.methods) {
    const cv::Size size = m->map_size(plan.shape);
    nan_array(t, store::maps_array(m->name()), {size.height, size.width});
  }
  if (p.faces.empty()) return out;
  for (std::size_t i = 0; i < p.faces.size(); ++i) out.faces.emplace_back(p.face_of[i], p.faces[i]);

  const cv::Mat blob = w.recognizer->preprocess(p.faces);
  const auto result = w.recognizer->forward_blob(
      blob, plan.layer.empty() ? std::vector<std::string>{} : std::vector<std::string>{plan.layer});
  const int n = static_cast<int>(p.faces.size());
  const std::size_t k = plan.layer.empty() ? 0 : static_cast<std::size_t>(plan.shape.inputs());
  for (int i = 0; i < n; ++i) {
    const float* row = result.embeddings.ptr<float>(i);
    std::copy(row, row + dim, emb.data.begin() + static_cast<std::ptrdiff_t>(p.face_of[i] * dim));
  }
  // Quality from what this pass already holds: the aligned face, its embedding and activations.
  for (int i = 0; i < n && !plan.measures.empty(); ++i) {
    quality::QualityInput in;
    in.aligned = &p.faces[static_cast<std::size_t>(i)];
    in.detection = &t.records[p.face_of[i]].detection;
    in.embedding = result.embeddings.ptr<float>(i);
    in.embedding_size = dim;
    in.activations = k ? result.activations.front().ptr<float>() + static_cast<std::size_t>(i) * k : nullptr;
    in.head = plan.head.get();
    std::vector<double> scores;
    for (const auto& m : plan.measures) scores.push_back(m->score(in));
    out.scores.emplace_back(p.face_of[i], std::move(scores));
  }
  if (plan.methods.empty()) return out;

  std::vector<const cam::Target*> targets;
  for (std::size_t m = 0; m < plan.methods.size(); ++m) {
    if (plan.methods[m]->uses_gradients()) targets.push_back(plan.targets[m].get());
  }
  const auto gradients = targets.empty() ? std::map<std::string, std::vector<float>>()
                                         : cam::batch_gradients(targets, result.embeddings, *plan.head);

  for (int i = 0; i < n; ++i) {
    // The face's own input (for Score-CAM's masks) is a view into the batch blob.
    const cv::Mat input(std::vector<int>{1, 3, blob.size[2], blob.size[3]}, CV_32F,
                        const_cast<float*>(blob.ptr<float>(i)));
    cam::CamInput in;
    in.activations = result.activations.front().ptr<float>() + static_cast<std::size_t>(i) * k;
    in.embedding = result.embeddings.ptr<float>(i);
    in.shape = plan.shape;
    in.head = plan.head.get();
    in.input = &input;
    in.embed = [&w](const cv::Mat& batch) { return w.recognizer->forward_blob(batch).embeddings; };
    in.before_relu = before_relu;
    for (std::size_t m = 0; m < plan.methods.size(); ++m) {
      in.target = plan.targets[m].get();
      in.gradients = plan.methods[m]->uses_gradients()
                         ? gradients.at(in.target->name()).data() + static_cast<std::size_t>(i) * k
                         : nullptr;
      const cv::Mat map = plan.methods[m]->compute(in);
      auto& maps = t.arrays[store::maps_array(plan.methods[m]->name())];
      std::copy_n(map.ptr<float>(), map.total(),
                  maps.data.begin() + static_cast<std::ptrdiff_t>(p.face_of[i] * map.total()));
    }
  }
  return out;
}

// Images done across the workers, each step reported to the caller one at a time.
class ImageCounter {
 public:
  ImageCounter(std::size_t total, const Progress& progress) : total_(total), progress_(progress) {}
  void add(std::size_t n) {
    const std::size_t d = done_ += n;
    if (progress_.on_count) {
      const std::lock_guard lock(mutex_);
      progress_.count("extract", d + others_, total_);
    }
  }
  /// Images the other ranks of a team have finished: the progress counts the whole run.
  void set_others(std::size_t n) { others_ = n; }
  /// Images this process has read.
  [[nodiscard]] std::size_t count() const { return done_; }

 private:
  std::size_t total_;
  const Progress& progress_;
  std::atomic<std::size_t> done_{0};
  std::atomic<std::size_t> others_{0};
  std::mutex mutex_;
};

// Batches are cut at fixed positions in the list, so results do not depend on thread count.
// Batches of `count` items over the workers; `prepare(first, last, worker, p)` readies items
// [first, last) for the network.
using PrepareBatch = std::function<void(std::size_t first, std::size_t last, Worker& w, Prepared& p)>;
std::vector<BatchResult> run_prepared_batches(std::size_t count, const ExtractOptions& opt,
                                              std::vector<Worker>& workers, const CamPlan& plan, ImageCounter& done,
                                              const PrepareBatch& prepare) {
  const std::size_t batch = static_cast<std::size_t>(opt.batch);
  const std::size_t n_batches = (count + batch - 1) / batch;
  std::vector<BatchResult> results(n_batches);
  std::atomic<std::size_t> next{0};
  run_workers(static_cast<int>(workers.size()), [&](int worker, const std::function<bool()>& stop) {
    for (std::size_t b; !stop() && (b = next++) < n_batches;) {
      const std::size_t first = b * batch, last = std::min(count, (b + 1) * batch);
      Worker& w = workers[static_cast<std::size_t>(worker)];
      Prepared p;
      prepare(first, last, w, p);
      results[b] = process_prepared(std::move(p), plan, w, opt.maps_before_relu);
      done.add(last - first);
    }
  });
  return results;
}

std::vector<BatchResult> run_batches(const std::vector<io::ImageEntry>& entries, const ExtractOptions& opt,
                                     std::vector<Worker>& workers, const CamPlan& plan, ImageCounter& done) {
  return run_prepared_batches(entries.size(), opt, workers, plan, done,
                              [&](std::size_t first, std::size_t last, Worker& w, Prepared& p) {
                                for (std::size_t i = first; i < last; ++i) prepare_image(entries[i], opt, w, p);
                              });
}

std::map<std::string, double> named_scores(const CamPlan& plan, const std::vector<double>& scores) {
  std::map<std::string, double> named;
  for (std::size_t m = 0; m < plan.measures.size(); ++m) named[plan.measures[m]->name()] = scores[m];
  return named;
}

Table process_chunk(const std::vector<io::ImageEntry>& chunk, const ExtractOptions& opt, std::vector<Worker>& workers,
                    const CamPlan& plan, ImageCounter& done, ScoredFaces& scored) {
  Table chunk_table;
  for (const auto& r : run_batches(chunk, opt, workers, plan, done)) {
    chunk_table.append(r.table);
    for (const auto& [row, scores] : r.scores) {
      const auto& rec = r.table.records[row];
      scored[{rec.path, rec.face}] = named_scores(plan, scores);
    }
  }
  return chunk_table;
}

// Score-CAM and occlusion forward many masked inputs per face: small face batches spread that
// long per-image work over the workers.
ExtractOptions with_default_batch(const ExtractOptions& options) {
  if (options.threads < 1 || options.batch < 0 || options.shard_size < 1) {
    throw Error(ErrorCode::InvalidArgument, "threads and shard size must be at least 1, batch at least 0");
  }
  ExtractOptions opt = options;
  if (opt.batch == 0) {
    const bool forwards = std::any_of(opt.cams.begin(), opt.cams.end(), [](const std::string& name) {
      return cam::CamMethod::create(name)->needs_forward();
    });
    opt.batch = forwards ? 2 : 32;
  }
  return opt;
}

std::vector<Worker> make_workers(const ExtractOptions& opt) {
  std::vector<Worker> workers(static_cast<std::size_t>(opt.threads));
  for (auto& w : workers) {
    w.recognizer = model::FaceRecognizer::create(opt.card);
    if (!opt.aligned) w.detector = face::FaceDetector::create(opt.detector);
  }
  return workers;
}

CamPlan make_cam_plan(const ExtractOptions& opt, model::FaceRecognizer& recognizer) {
  CamPlan plan;
  bool needs_head = false;
  for (const auto& name : opt.quality) {
    plan.measures.push_back(quality::QualityRegistry::instance().create(name, opt.measures));
    needs_head = needs_head || plan.measures.back()->needs_activations();
  }
  if (opt.cams.empty() && !needs_head) return plan;
  const auto target = model::probe_target_layer(recognizer);
  plan.layer = target.name;
  plan.shape = target.shape;
  for (const auto& name : opt.cams) {
    auto m = cam::CamMethod::create(name, opt.cam_options);
    const std::string target = opt.target.empty() || m->fixed_target() ? m->default_target() : opt.target;
    plan.targets.push_back(target == "none" ? nullptr : cam::Target::create(target));
    needs_head = needs_head || m->needs_head();
    plan.methods.push_back(std::move(m));
  }
  if (needs_head) {
    plan.head = model::AffineHead::extract(opt.card, recognizer.model_sha256(), plan.layer, plan.shape, opt.cache_dir);
  }
  return plan;
}

nlohmann::json cam_settings(const CamPlan& plan) {
  if (plan.methods.empty()) return nullptr;  // (a layer read only for quality measures is no map setting)
  nlohmann::json methods = nlohmann::json::object();
  for (std::size_t m = 0; m < plan.methods.size(); ++m) {
    nlohmann::json j = plan.methods[m]->settings(plan.shape);
    j["target"] = plan.targets[m] ? plan.targets[m]->name() : "none";
    methods[plan.methods[m]->name()] = j;
  }
  return {{"layer", plan.layer},
          {"map_shape", {plan.shape.height, plan.shape.width}},
          {"channels", plan.shape.channels},
          {"methods", methods}};
}

// The batches of an in-memory pass as one table, in order, with their faces and scores.
ExtractedFaces in_memory(std::vector<BatchResult> results, const CamPlan& plan, nlohmann::json settings) {
  ExtractedFaces out;
  out.settings = std::move(settings);
  out.settings["cam"] = cam_settings(plan);
  for (auto& r : results) {
    const std::size_t base = out.table.records.size();
    out.table.append(r.table);
    out.aligned.resize(out.table.records.size());
    out.quality.resize(out.table.records.size());
    for (auto& [row, face] : r.faces) out.aligned[base + row] = std::move(face);
    for (const auto& [row, scores] : r.scores) out.quality[base + row] = named_scores(plan, scores);
  }
  return out;
}

}  // namespace

cv::Mat aligned_face_of(const nlohmann::json& meta, const store::Record& r) {
  if (!meta.contains("images")) {
    throw Error(ErrorCode::NotFound,
                "the store's meta.json names no image source (images), so its faces cannot be "
                "read again");
  }
  const cv::Mat image = io::load_bgr(io::resolve_key(meta["images"].get<std::string>(), r.path));
  if (!store::StoreSettings::of_meta(meta).detected) {
    cv::Mat face;
    cv::resize(image, face, cv::Size(face::kAlignedSize, face::kAlignedSize), 0, 0, cv::INTER_AREA);
    return face;
  }
  return face::align_face(image, r.detection.landmarks);
}

nlohmann::json extraction_settings(const ExtractOptions& opt, const std::string& model_sha256) {
  nlohmann::json card = opt.card.to_json();
  card.erase("file");
  card.erase("sha256");
  nlohmann::json detector = nullptr;
  if (!opt.aligned) {
    detector = {{"kind", opt.detector.kind},
                {"model_sha256", io::sha256_file(opt.detector.detector_model)},
                {"score_threshold", opt.detector.score_threshold},
                {"nms_iou", opt.detector.nms_iou},
                {"face_rule", face::to_string(opt.face_rule)},
                {"all_faces", opt.all_faces}};
    if (opt.detector.kind == "default") detector["landmark_sha256"] = io::sha256_file(opt.detector.landmark_model);
  }
  return {{"model_sha256", model_sha256},
          {"preprocessing", card},
          {"alignment", opt.aligned ? "pre-aligned input, resized to 112x112" : "arcface 5-point similarity, 112x112"},
          {"detector", detector}};
}

namespace {

// A rank's share of the run, sent to the root at the end: whether it stopped early, how many
// images it read, and the quality scores of its faces (JSON has no NaN: null stands for it).
// Image keys travel as hex: a file name need not be UTF-8, which JSON text must be.
std::string rank_result_text(bool finished, std::size_t processed, const ScoredFaces& scored) {
  nlohmann::json faces = nlohmann::json::array();
  for (const auto& [key, scores] : scored) {
    nlohmann::json values = nlohmann::json::object();
    for (const auto& [name, v] : scores) values[name] = std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
    faces.push_back({io::to_hex(key.first), key.second, values});
  }
  return nlohmann::json{{"finished", finished}, {"processed", processed}, {"scored", faces}}.dump();
}

void add_rank_result(const std::string& text, ExtractSummary& summary, ScoredFaces& scored) {
  const auto j = nlohmann::json::parse(text);
  summary.finished = summary.finished && j["finished"].get<bool>();
  summary.processed += j["processed"].get<std::size_t>();
  for (const auto& face : j["scored"]) {
    auto& scores = scored[{io::from_hex(face[0].get<std::string>()), face[1].get<int>()}];
    for (const auto& [name, v] : face[2].items()) {
      scores[name] = v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
    }
  }
}

nlohmann::json store_meta(const ExtractOptions& opt, const std::vector<Worker>& workers, const CamPlan& plan) {
  const auto& recognizer = *workers.front().recognizer;
  nlohmann::json meta = {{"amva_version", version()},
                         {"created", utc_timestamp()},
                         {"images", std::filesystem::absolute(opt.images).string()},
                         {"model", {{"name", opt.card.name}, {"file", opt.card.file.filename().string()}}},
                         {"detector", workers.front().detector ? workers.front().detector->describe() : "none"},
                         {"embedding_size", recognizer.embedding_size()},
                         {"settings", extraction_settings(opt, recognizer.model_sha256())}};
  meta["settings"]["cam"] = cam_settings(plan);
  // A part's store resumes only as the same part; merge_stores drops it.
  if (!opt.part.whole()) meta["settings"]["part"] = opt.part.to_string();
  if (plan.head && !plan.methods.empty()) meta["head_affinity_error"] = plan.head->affinity_error();
  return meta;
}

// Fills in the whole store's counts and writes quality.csv, once every shard is in.
void finish_store(const ExtractOptions& opt, store::StoreWriter& writer, const ScoredFaces& scored,
                  ExtractSummary& summary) {
  const auto commit_start = std::chrono::steady_clock::now();
  const auto content = writer.finalize();
  summary.commit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - commit_start).count();
  summary.records = content.table.records.size();
  for (const auto& r : content.table.records) {
    if (r.ok) {
      ++summary.faces;
    } else {
      ++summary.failures[r.reason];
    }
  }
  if (opt.quality.empty()) return;
  QualityOptions q;
  q.store = opt.out;
  q.methods = opt.quality;
  q.card = opt.card;
  q.cache_dir = opt.cache_dir;
  q.threads = opt.threads;
  q.measures = opt.measures;
  ScoredFaces all = scored;
  add_stored_scores(opt.out, opt.quality, all);
  summary.quality = update_quality(q, all);
}

}  // namespace

ExtractSummary extract(const ExtractOptions& options, const Progress& progress,
                       Team* team_or_null) {
  const auto start = std::chrono::steady_clock::now();
  const auto solo = team_or_null ? nullptr : solo_team();
  Team& team = team_or_null ? *team_or_null : *solo;
  const ExtractOptions opt = with_default_batch(options);
  std::vector<std::string> skipped;
  const auto entries =
      io::select_part(opt.entries.empty() ? io::list_images(opt.images, &skipped) : opt.entries, opt.part);
  auto workers = make_workers(opt);
  const CamPlan plan = make_cam_plan(opt, *workers.front().recognizer);

  // Only the root opens the store (it holds the lock and commits); it tells the others the
  // listing positions still to do and the first free shard number, under which they write.
  std::optional<store::StoreWriter> writer;
  const auto run = nlohmann::json::parse(decided_by_root(team, [&] {
    writer.emplace(store::StoreWriter::open(opt.out, store_meta(opt, workers, plan)));
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (!writer->done_paths().count(entries[i].key)) todo.push_back(i);
    }
    return nlohmann::json{{"todo", todo}, {"first_shard", writer->next_shard()}}.dump();
  }));
  const auto todo = run["todo"].get<std::vector<std::size_t>>();
  const int first_shard = run["first_shard"].get<int>();
  ExtractSummary summary;
  summary.skipped = std::move(skipped);
  summary.listed = entries.size();
  summary.resumed = entries.size() - todo.size();

  // A block is a shard: the unit a rank claims and the unit a resumed run skips.
  const std::size_t shard = static_cast<std::size_t>(opt.shard_size);
  ImageCounter done(todo.size(), progress);
  ScoredFaces scored;
  bool finished = true;
  int own_shards = 0;
  std::size_t own_finished = 0;
  share_blocks(
      team, todo.size(), shard,
      [&](std::size_t first, std::size_t last) {
        if (opt.stop_after_shards && own_shards >= *opt.stop_after_shards) {
          finished = false;
          return false;
        }
        std::vector<io::ImageEntry> chunk;
        for (std::size_t i = first; i < last; ++i) chunk.push_back(entries[todo[i]]);
        store::write_shard(opt.out, first_shard + static_cast<int>(first / shard),
                           process_chunk(chunk, opt, workers, plan, done, scored));
        ++own_shards;
        own_finished += chunk.size();
        return true;
      },
      [&](std::size_t all_finished) { done.set_others(all_finished - own_finished); });

  const auto results = team.gather(rank_result_text(finished, done.count(), scored));
  if (team.is_root()) {
    summary.finished = true;
    ScoredFaces all;
    for (const auto& text : results) add_rank_result(text, summary, all);
    if (summary.finished) finish_store(opt, *writer, all, summary);
  } else {
    summary.finished = finished;
    summary.processed = done.count();
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

ExtractedFaces extract_faces(const std::vector<std::filesystem::path>& images, const ExtractOptions& options,
                             const Progress& progress) {
  const ExtractOptions opt = with_default_batch(options);
  auto workers = make_workers(opt);
  const CamPlan plan = make_cam_plan(opt, *workers.front().recognizer);
  std::vector<io::ImageEntry> entries;
  for (const auto& image : images) entries.push_back({image, image.string()});

  ImageCounter done(entries.size(), progress);
  auto out = in_memory(run_batches(entries, opt, workers, plan, done), plan,
                       extraction_settings(opt, workers.front().recognizer->model_sha256()));
  for (std::size_t i = 0; i < out.table.records.size(); ++i) out.table.records[i].id = static_cast<std::int64_t>(i);
  return out;
}

ExtractedFaces extract_aligned_faces(const std::vector<cv::Mat>& faces, const std::vector<store::Record>& records,
                                     const ExtractOptions& options,
                                     const Progress& progress) {
  if (faces.size() != records.size()) throw Error(ErrorCode::InvalidArgument, "one record per aligned face");
  ExtractOptions opt = with_default_batch(options);
  opt.aligned = true;  // no detector: the faces are given
  auto workers = make_workers(opt);
  const CamPlan plan = make_cam_plan(opt, *workers.front().recognizer);
  ImageCounter done(faces.size(), progress);
  auto results = run_prepared_batches(faces.size(), opt, workers, plan, done,
                                      [&](std::size_t first, std::size_t last, Worker&, Prepared& p) {
                                        for (std::size_t i = first; i < last; ++i) {
                                          p.face_of.push_back(p.records.size());
                                          p.records.push_back(records[i]);
                                          p.faces.push_back(faces[i]);
                                        }
                                      });
  return in_memory(std::move(results), plan, extraction_settings(opt, workers.front().recognizer->model_sha256()));
}

}  // namespace amva::pipeline
