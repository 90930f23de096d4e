#include "amva/pipeline/extract.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <mutex>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <set>
#include <thread>

#include "amva/error.hpp"
#include "amva/face/alignment.hpp"
#include "amva/io/hash.hpp"
#include "amva/io/hex.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/image_list.hpp"
#include "amva/io/list_part.hpp"
#include "amva/model/face_recognizer.hpp"
#include "amva/model/layer_probe.hpp"
#include "amva/pipeline/quality.hpp"
#include "amva/pipeline/workers.hpp"
#include "amva/quality/quality_measure.hpp"
#include "amva/store/settings.hpp"
#include "amva/version.hpp"

namespace amva::pipeline {
namespace {

using store::Record;
using store::Table;

// What one worker owns: its own networks, never shared between threads; one recognizer per
// face recognition model of the pass.
struct Worker {
  std::unique_ptr<face::FaceDetector> detector;  // null with --aligned
  std::vector<std::unique_ptr<model::FaceRecognizer>> recognizers;
};

// The CAM methods and quality measures of a run, shared read-only by the workers.
struct CamPlan {
  std::vector<std::unique_ptr<cam::CamMethod>> methods;
  std::vector<std::unique_ptr<cam::Target>> targets;  // one per method (null for eigencam)
  std::vector<std::unique_ptr<quality::QualityMeasure>> measures;
  std::shared_ptr<const model::AffineHead> head;  // when a method or measure needs it
  model::TargetLayer layer;                       // name empty: no activations are needed
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

BatchResult process_prepared(Prepared p, const CamPlan& plan, model::FaceRecognizer& recognizer, bool before_relu) {
  const int dim = recognizer.embedding_size();
  BatchResult out;
  Table& t = out.table;
  t.records = std::move(p.records);
  auto& emb = nan_array(t, store::kEmbeddings, {dim});
  for (const auto& m : plan.methods) {
    const cv::Size size = m->map_size(plan.layer.shape);
    nan_array(t, store::maps_array(m->name()), {size.height, size.width});
  }
  if (p.faces.empty()) return out;
  for (std::size_t i = 0; i < p.faces.size(); ++i) out.faces.emplace_back(p.face_of[i], p.faces[i]);

  const cv::Mat blob = recognizer.preprocess(p.faces);
  const auto result = recognizer.forward_blob(
      blob, plan.layer.name.empty() ? std::vector<std::string>{} : std::vector<std::string>{plan.layer.name});
  const int n = static_cast<int>(p.faces.size());
  const std::size_t k = plan.layer.name.empty() ? 0 : static_cast<std::size_t>(plan.layer.shape.inputs());
  for (int i = 0; i < n; ++i) {
    const float* row = result.embeddings.ptr<float>(i);
    std::copy(row, row + dim, emb.data.begin() + static_cast<std::ptrdiff_t>(p.face_of[i] * dim));
  }
  std::vector<std::pair<const cam::Target*, cam::GradientForm>> wanted;
  for (std::size_t m = 0; m < plan.methods.size(); ++m) {
    if (plan.methods[m]->uses_gradients()) wanted.emplace_back(plan.targets[m].get(), plan.methods[m]->gradient_form());
  }
  const auto gradients = wanted.empty() ? std::optional<cam::BatchGradients>()
                                        : cam::BatchGradients(wanted, result.embeddings, *plan.head);

  // Each face's context, built once from what this pass holds, for its scores and its maps.
  face::FaceContext context;
  context.shape = plan.layer.shape;
  context.shape.embedding = dim;
  context.head = plan.head.get();
  context.embed = [&recognizer](const cv::Mat& batch) { return recognizer.forward_blob(batch).embeddings; };
  for (int i = 0; i < n; ++i) {
    // The face's own input (for Score-CAM's masks) is a view into the batch blob.
    const cv::Mat input(std::vector<int>{1, 3, blob.size[2], blob.size[3]}, CV_32F,
                        const_cast<float*>(blob.ptr<float>(i)));
    context.aligned = &p.faces[static_cast<std::size_t>(i)];
    context.detection = &t.records[p.face_of[i]].detection;
    context.embedding = result.embeddings.ptr<float>(i);
    context.activations = k ? result.activations.front().ptr<float>() + static_cast<std::size_t>(i) * k : nullptr;
    context.input = &input;
    if (!plan.measures.empty()) {
      std::vector<double> scores;
      for (const auto& m : plan.measures) scores.push_back(m->score(context));
      out.scores.emplace_back(p.face_of[i], std::move(scores));
    }
    cam::CamInput in(context);
    in.before_relu = before_relu;
    for (std::size_t m = 0; m < plan.methods.size(); ++m) {
      in.target = plan.targets[m].get();
      in.gradients =
          plan.methods[m]->uses_gradients() ? gradients->of(*in.target, plan.methods[m]->gradient_form(), i) : nullptr;
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
// [first, last) for the networks, once: each model's plan then runs on the same faces.
// Results per model (plan order), then per batch. A model that `needed(model, first, last)`
// says has the items already is not run on them (an empty result), but for the first model
// while another runs: its scores of the image measures are the other models' too.
using PrepareBatch = std::function<void(std::size_t first, std::size_t last, Worker& w, Prepared& p)>;
using NeededBy = std::function<bool(std::size_t model, std::size_t first, std::size_t last)>;
std::vector<std::vector<BatchResult>> run_prepared_batches(std::size_t count, const ExtractOptions& opt,
                                                           std::vector<Worker>& workers,
                                                           const std::vector<const CamPlan*>& plans, ImageCounter& done,
                                                           const PrepareBatch& prepare, const NeededBy& needed = {}) {
  const std::size_t batch = static_cast<std::size_t>(opt.batch);
  const std::size_t n_batches = (count + batch - 1) / batch;
  std::vector<std::vector<BatchResult>> results(plans.size(), std::vector<BatchResult>(n_batches));
  std::atomic<std::size_t> next{0};
  run_workers(static_cast<int>(workers.size()), [&](int worker, const std::function<bool()>& stop) {
    for (std::size_t b; !stop() && (b = next++) < n_batches;) {
      const std::size_t first = b * batch, last = std::min(count, (b + 1) * batch);
      Worker& w = workers[static_cast<std::size_t>(worker)];
      Prepared p;
      prepare(first, last, w, p);
      std::vector<bool> runs(plans.size(), true);
      if (needed) {
        for (std::size_t m = 0; m < plans.size(); ++m) runs[m] = needed(m, first, last);
        runs[0] = std::find(runs.begin(), runs.end(), true) != runs.end();
      }
      for (std::size_t m = 0; m < plans.size(); ++m) {
        if (!runs[m]) continue;
        Prepared faces = m + 1 < plans.size() ? Prepared(p) : std::move(p);  // (the last model takes them)
        results[m][b] = process_prepared(std::move(faces), *plans[m], *w.recognizers[m], opt.maps_before_relu);
      }
      done.add(last - first);
    }
  });
  return results;
}

std::vector<std::vector<BatchResult>> run_batches(const std::vector<io::ImageEntry>& entries, const ExtractOptions& opt,
                                                  std::vector<Worker>& workers,
                                                  const std::vector<const CamPlan*>& plans, ImageCounter& done,
                                                  const NeededBy& needed = {}) {
  return run_prepared_batches(
      entries.size(), opt, workers, plans, done,
      [&](std::size_t first, std::size_t last, Worker& w, Prepared& p) {
        for (std::size_t i = first; i < last; ++i) prepare_image(entries[i], opt, w, p);
      },
      needed);
}

std::map<std::string, double> named_scores(const CamPlan& plan, const std::vector<double>& scores) {
  std::map<std::string, double> named;
  for (std::size_t m = 0; m < plan.measures.size(); ++m) named[plan.measures[m]->name()] = scores[m];
  return named;
}

// The rows of `table` whose image `keep` accepts, with their arrays.
Table rows_of_images(const Table& table, const std::function<bool(const std::string&)>& keep) {
  Table out;
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < table.records.size(); ++i) {
    if (keep(table.records[i].path)) rows.push_back(i);
  }
  if (rows.size() == table.records.size()) return table;
  for (const auto& [name, a] : table.arrays) {
    auto& o = out.arrays[name];
    o.row_shape = a.row_shape;
    const std::size_t k = a.row_size();
    for (const auto i : rows) o.data.insert(o.data.end(), a.row(i), a.row(i) + k);
  }
  for (const auto i : rows) out.records.push_back(table.records[i]);
  return out;
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

// The first model's options decide what the models share: images, detector, threads.
std::vector<Worker> make_workers(const std::vector<ExtractOptions>& models) {
  const auto& opt = models.front();
  std::vector<Worker> workers(static_cast<std::size_t>(opt.threads));
  for (auto& w : workers) {
    for (const auto& m : models) w.recognizers.push_back(model::FaceRecognizer::create(m.card));
    if (!opt.aligned) w.detector = face::FaceDetector::create(opt.detector);
  }
  return workers;
}

CamPlan make_cam_plan(const ExtractOptions& opt, model::FaceRecognizer& recognizer) {
  CamPlan plan;
  bool needs_head = false;
  for (const auto& name : opt.quality) {
    plan.measures.push_back(quality::QualityRegistry::instance().create(name, config_for(opt.measures, name)));
    needs_head = needs_head || plan.measures.back()->needs_activations();
  }
  if (opt.cams.empty() && !needs_head) return plan;
  plan.layer = model::probe_target_layer(recognizer);
  for (const auto& name : opt.cams) {
    auto m = cam::CamMethod::create(name, config_for(opt.cam_config, name));
    const std::string target = opt.target.empty() || m->fixed_target() ? m->default_target() : opt.target;
    plan.targets.push_back(target == "none" ? nullptr : cam::Target::create(target));
    needs_head = needs_head || m->needs_head();
    plan.methods.push_back(std::move(m));
  }
  if (needs_head) {
    plan.head = model::head_after(recognizer, plan.layer, opt.cache_dir);
  }
  return plan;
}

nlohmann::json cam_settings(const CamPlan& plan) {
  if (plan.methods.empty()) return nullptr;  // (a layer read only for quality measures is no map setting)
  nlohmann::json methods = nlohmann::json::object();
  for (std::size_t m = 0; m < plan.methods.size(); ++m) {
    methods[plan.methods[m]->name()] =
        cam::method_record(*plan.methods[m], plan.layer.shape, plan.targets[m] ? plan.targets[m]->name() : "none");
  }
  return {{"layer", plan.layer.name},
          {"map_shape", {plan.layer.shape.height, plan.layer.shape.width}},
          {"channels", plan.layer.shape.channels},
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

cv::Mat aligned_face_of(const store::StoreMeta& meta, const store::Record& r) {
  if (!meta.images) {
    throw Error(ErrorCode::NotFound,
                "the store's meta.json names no image source (images), so its faces cannot be "
                "read again");
  }
  const cv::Mat image = io::load_bgr(io::resolve_key(*meta.images, r.path));
  if (!meta.settings.detected) {
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
// images it read, and per model the quality scores of its faces (JSON has no NaN: null stands
// for it). Image keys travel as hex: a file name need not be UTF-8, which JSON text must be.
std::string rank_result_text(bool finished, std::size_t processed, const std::vector<ScoredFaces>& scored) {
  nlohmann::json models = nlohmann::json::array();
  for (const auto& model : scored) {
    nlohmann::json faces = nlohmann::json::array();
    for (const auto& [key, scores] : model) {
      nlohmann::json values = nlohmann::json::object();
      for (const auto& [name, v] : scores) values[name] = std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
      faces.push_back({io::to_hex(key.first), key.second, values});
    }
    models.push_back(std::move(faces));
  }
  return nlohmann::json{{"finished", finished}, {"processed", processed}, {"scored", models}}.dump();
}

void add_rank_result(const std::string& text, bool& finished, std::size_t& processed,
                     std::vector<ScoredFaces>& scored) {
  const auto j = nlohmann::json::parse(text);
  finished = finished && j["finished"].get<bool>();
  processed += j["processed"].get<std::size_t>();
  for (std::size_t m = 0; m < scored.size(); ++m) {
    for (const auto& face : j["scored"][m]) {
      auto& scores = scored[m][{io::from_hex(face[0].get<std::string>()), face[1].get<int>()}];
      for (const auto& [name, v] : face[2].items()) {
        scores[name] = v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
      }
    }
  }
}

store::StoreMeta store_meta(const ExtractOptions& opt, const model::FaceRecognizer& recognizer,
                            const face::FaceDetector* detector, const CamPlan& plan) {
  store::StoreMeta meta;
  meta.amva_version = version();
  meta.created = utc_timestamp();
  meta.images = std::filesystem::absolute(opt.images).string();
  meta.model = store::StoreModel{opt.card.name, opt.card.file.filename().string()};
  meta.detector = detector ? detector->describe() : "none";
  meta.embedding_size = recognizer.embedding_size();
  auto settings = extraction_settings(opt, recognizer.model_sha256());
  settings["cam"] = cam_settings(plan);
  // A part's store resumes only as the same part; merge_stores drops it.
  if (!opt.part.whole()) settings["part"] = opt.part.to_string();
  meta.settings = store::StoreSettings::from_json(settings);
  if (plan.head && !plan.methods.empty()) meta.head_affinity_error = plan.head->affinity_error();
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

// The settings every model of a pass must share: they decide which faces there are.
void require_shared_input(const std::vector<ExtractOptions>& models) {
  if (models.empty()) throw Error(ErrorCode::InvalidArgument, "extraction needs a face recognition model");
  const auto& first = models.front();
  for (const auto& m : models) {
    if (m.images != first.images || m.aligned != first.aligned || m.all_faces != first.all_faces ||
        m.face_rule != first.face_rule || m.part.to_string() != first.part.to_string() ||
        m.entries.size() != first.entries.size() || m.maps_before_relu != first.maps_before_relu) {
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("{} and {}: the models of one extraction pass must share its images and detection",
                              first.card.name, m.card.name));
    }
  }
}

// Model-independent measures (image measures) of the later models are copied from the first
// model's scores instead of being computed again: the models see the same aligned faces.
std::vector<ExtractOptions> with_shared_measures(std::vector<ExtractOptions> models) {
  for (std::size_t m = 1; m < models.size(); ++m) {
    auto& q = models[m].quality;
    q.erase(std::remove_if(q.begin(), q.end(),
                           [&](const std::string& name) {
                             const auto& first = models.front().quality;
                             return std::find(first.begin(), first.end(), name) != first.end() &&
                                    !quality::QualityRegistry::instance().traits(name).uses_model;
                           }),
            q.end());
  }
  return models;
}

}  // namespace

ExtractSummary extract(const ExtractOptions& options, const Progress& progress, Team* team) {
  return extract_models({options}, progress, team).front();
}

std::vector<ExtractSummary> extract_models(const std::vector<ExtractOptions>& models, const Progress& progress,
                                           Team* team_or_null) {
  const auto start = std::chrono::steady_clock::now();
  const auto solo = team_or_null ? nullptr : solo_team();
  Team& team = team_or_null ? *team_or_null : *solo;
  require_shared_input(models);
  std::vector<ExtractOptions> opts;
  for (const auto& m : models) opts.push_back(with_default_batch(m));
  const auto planned = with_shared_measures(opts);
  const ExtractOptions& opt = opts.front();  // what the models share
  std::vector<std::string> skipped;
  const auto entries =
      io::select_part(opt.entries.empty() ? io::list_images(opt.images, &skipped) : opt.entries, opt.part);
  auto workers = make_workers(opts);
  std::vector<CamPlan> plans;
  for (std::size_t m = 0; m < opts.size(); ++m)
    plans.push_back(make_cam_plan(planned[m], *workers.front().recognizers[m]));
  std::vector<const CamPlan*> plan_of;
  for (const auto& p : plans) plan_of.push_back(&p);
  const std::size_t n_models = opts.size();

  // Only the root opens the stores (it holds their locks and commits); it tells the others the
  // listing positions still to do in some store, which of them each store holds already, and
  // each store's first free shard number, under which they write.
  std::vector<std::optional<store::StoreWriter>> writers(n_models);
  const auto run = nlohmann::json::parse(decided_by_root(team, [&] {
    for (std::size_t m = 0; m < n_models; ++m) {
      writers[m].emplace(store::StoreWriter::open(
          opts[m].out, store_meta(opts[m], *workers.front().recognizers[m], workers.front().detector.get(), plans[m])));
    }
    std::vector<std::size_t> todo;
    nlohmann::json held = nlohmann::json::array(), first_shard = nlohmann::json::array();
    for (std::size_t m = 0; m < n_models; ++m) held.push_back(nlohmann::json::array());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      bool missing = false;
      for (std::size_t m = 0; m < n_models; ++m) missing = missing || !writers[m]->done_paths().count(entries[i].key);
      if (!missing) continue;
      for (std::size_t m = 0; m < n_models; ++m) {
        if (writers[m]->done_paths().count(entries[i].key)) held[m].push_back(todo.size());
      }
      todo.push_back(i);
    }
    for (const auto& w : writers) first_shard.push_back(w->next_shard());
    return nlohmann::json{{"todo", todo}, {"held", held}, {"first_shard", first_shard}}.dump();
  }));
  const auto todo = run["todo"].get<std::vector<std::size_t>>();
  std::vector<std::set<std::string>> held(n_models);  // images a store holds already, among todo's
  std::vector<int> first_shard;
  for (std::size_t m = 0; m < n_models; ++m) {
    for (const auto at : run["held"][m].get<std::vector<std::size_t>>()) held[m].insert(entries[todo[at]].key);
    first_shard.push_back(run["first_shard"][m].get<int>());
  }
  std::vector<ExtractSummary> summaries(n_models);
  for (std::size_t m = 0; m < n_models; ++m) {
    summaries[m].skipped = skipped;
    summaries[m].listed = entries.size();
    summaries[m].resumed = entries.size() - todo.size() + held[m].size();
  }

  // A block is a shard: the unit a rank claims and the unit a resumed run skips.
  const std::size_t shard = static_cast<std::size_t>(opt.shard_size);
  ImageCounter done(todo.size(), progress);
  std::vector<ScoredFaces> scored(n_models);
  ScoredFaces first_model;  // every face's scores from the first model, for the shared measures
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
        // A model whose store holds a batch's every image already is not run on it.
        const auto results =
            run_batches(chunk, opt, workers, plan_of, done, [&](std::size_t m, std::size_t from, std::size_t to) {
              for (std::size_t i = from; i < to; ++i) {
                if (!held[m].count(chunk[i].key)) return true;
              }
              return false;
            });
        for (std::size_t m = 0; m < n_models; ++m) {
          const auto wanted = [&](const std::string& path) { return !held[m].count(path); };
          Table table;
          for (const auto& r : results[m]) {
            if (r.table.records.empty()) continue;  // not run: the store has these images
            if (held[m].empty()) {
              table.append(r.table);  // (no copy of the batch's rows first: the common case)
            } else {
              table.append(rows_of_images(r.table, wanted));
            }
            for (const auto& [row, scores] : r.scores) {
              const auto& rec = r.table.records[row];
              if (m == 0 && n_models > 1) first_model[{rec.path, rec.face}] = named_scores(plans[m], scores);
              if (wanted(rec.path)) scored[m][{rec.path, rec.face}] = named_scores(plans[m], scores);
            }
          }
          if (!table.records.empty()) {
            store::write_shard(opts[m].out, first_shard[m] + static_cast<int>(first / shard), table);
          }
        }
        ++own_shards;
        own_finished += chunk.size();
        return true;
      },
      [&](std::size_t all_finished) { done.set_others(all_finished - own_finished); });
  // The later models' shared measures, as the first model scored them on the same faces.
  for (std::size_t m = 1; m < n_models; ++m) {
    const auto& q = opts[m].quality;
    for (auto& [key, scores] : scored[m]) {
      const auto it = first_model.find(key);
      if (it == first_model.end()) continue;
      for (const auto& [name, v] : it->second) {
        if (std::find(q.begin(), q.end(), name) != q.end()) scores.emplace(name, v);
      }
    }
  }

  const auto results = team.gather(rank_result_text(finished, done.count(), scored));
  if (team.is_root()) {
    bool all_finished = true;
    std::size_t processed = 0;
    std::vector<ScoredFaces> all(n_models);
    for (const auto& text : results) add_rank_result(text, all_finished, processed, all);
    for (std::size_t m = 0; m < n_models; ++m) {
      summaries[m].finished = all_finished;
      summaries[m].processed = processed;
      if (all_finished) finish_store(opts[m], *writers[m], all[m], summaries[m]);
    }
  } else {
    for (auto& s : summaries) {
      s.finished = finished;
      s.processed = done.count();
    }
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& s : summaries) s.seconds = total;
  return summaries;
}

ExtractedFaces extract_faces(const std::vector<std::filesystem::path>& images, const ExtractOptions& options,
                             const Progress& progress) {
  const ExtractOptions opt = with_default_batch(options);
  auto workers = make_workers({opt});
  const CamPlan plan = make_cam_plan(opt, *workers.front().recognizers.front());
  std::vector<io::ImageEntry> entries;
  for (const auto& image : images) entries.push_back({image, image.string()});

  ImageCounter done(entries.size(), progress);
  auto out = in_memory(std::move(run_batches(entries, opt, workers, {&plan}, done).front()), plan,
                       extraction_settings(opt, workers.front().recognizers.front()->model_sha256()));
  for (std::size_t i = 0; i < out.table.records.size(); ++i) out.table.records[i].id = static_cast<std::int64_t>(i);
  return out;
}

ExtractedFaces extract_aligned_faces(const std::vector<cv::Mat>& faces, const std::vector<store::Record>& records,
                                     const ExtractOptions& options, const Progress& progress) {
  if (faces.size() != records.size()) throw Error(ErrorCode::InvalidArgument, "one record per aligned face");
  ExtractOptions opt = with_default_batch(options);
  opt.aligned = true;  // no detector: the faces are given
  auto workers = make_workers({opt});
  const CamPlan plan = make_cam_plan(opt, *workers.front().recognizers.front());
  ImageCounter done(faces.size(), progress);
  auto results = run_prepared_batches(faces.size(), opt, workers, {&plan}, done,
                                      [&](std::size_t first, std::size_t last, Worker&, Prepared& p) {
                                        for (std::size_t i = first; i < last; ++i) {
                                          p.face_of.push_back(p.records.size());
                                          p.records.push_back(records[i]);
                                          p.faces.push_back(faces[i]);
                                        }
                                      });
  return in_memory(std::move(results.front()), plan,
                   extraction_settings(opt, workers.front().recognizers.front()->model_sha256()));
}

}  // namespace amva::pipeline
