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
#include <thread>

#include "amva/error.hpp"
#include "amva/face/alignment.hpp"
#include "amva/io/hash.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/image_list.hpp"
#include "amva/model/face_recognizer.hpp"
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
    image = io::load_bgr(entry.file);
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

Table process_batch(const std::vector<io::ImageEntry>& entries, const ExtractOptions& opt, Worker& w) {
  Prepared p;
  for (const auto& e : entries) prepare_image(e, opt, w, p);
  const int dim = w.recognizer->embedding_size();
  Table t;
  t.records = std::move(p.records);
  auto& emb = t.arrays["embeddings"];
  emb.row_shape = {dim};
  emb.data.assign(t.records.size() * static_cast<std::size_t>(dim), std::numeric_limits<float>::quiet_NaN());
  if (!p.faces.empty()) {
    const auto result = w.recognizer->forward(p.faces);
    for (std::size_t i = 0; i < p.faces.size(); ++i) {
      const float* row = result.embeddings.ptr<float>(static_cast<int>(i));
      std::copy(row, row + dim, emb.data.begin() + static_cast<std::ptrdiff_t>(p.face_of[i] * dim));
    }
  }
  return t;
}

// Batches are cut at fixed positions in the chunk, so results do not depend on thread count.
Table process_chunk(const std::vector<io::ImageEntry>& chunk, const ExtractOptions& opt, std::vector<Worker>& workers,
                    const std::function<void(std::size_t)>& on_images) {
  const std::size_t batch = static_cast<std::size_t>(std::max(1, opt.batch));
  const std::size_t n_batches = (chunk.size() + batch - 1) / batch;
  std::vector<Table> results(n_batches);
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto run = [&](Worker& w) {
    for (std::size_t b; (b = next++) < n_batches;) {
      try {
        const auto first = chunk.begin() + static_cast<std::ptrdiff_t>(b * batch);
        const auto last = chunk.begin() + static_cast<std::ptrdiff_t>(std::min(chunk.size(), (b + 1) * batch));
        results[b] = process_batch({first, last}, opt, w);
        on_images(static_cast<std::size_t>(last - first));
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        next = n_batches;
      }
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < workers.size(); ++i) threads.emplace_back(run, std::ref(workers[i]));
  run(workers[0]);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  Table chunk_table;
  for (const auto& r : results) chunk_table.append(r);
  return chunk_table;
}

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// OpenCV's own thread pool and our workers would compete for the same cores.
class OpenCvThreads {
 public:
  explicit OpenCvThreads(int workers) : previous_(cv::getNumThreads()) {
    if (workers > 1) cv::setNumThreads(1);
  }
  ~OpenCvThreads() { cv::setNumThreads(previous_); }
  OpenCvThreads(const OpenCvThreads&) = delete;
  OpenCvThreads& operator=(const OpenCvThreads&) = delete;

 private:
  int previous_;
};

}  // namespace

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

ExtractSummary extract(const ExtractOptions& opt, const std::function<void(const ExtractProgress&)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  if (opt.threads < 1 || opt.batch < 1 || opt.shard_size < 1) {
    throw Error(ErrorCode::InvalidArgument, "threads, batch and shard size must be at least 1");
  }
  const auto entries = io::list_images(opt.images);
  std::vector<Worker> workers(static_cast<std::size_t>(opt.threads));
  for (auto& w : workers) {
    w.recognizer = model::FaceRecognizer::create(opt.card);
    if (!opt.aligned) w.detector = face::FaceDetector::create(opt.detector);
  }
  const std::string sha = workers.front().recognizer->model_sha256();
  nlohmann::json meta = {{"amva_version", version()},
                         {"created", now_iso8601()},
                         {"images", std::filesystem::absolute(opt.images).string()},
                         {"model", {{"name", opt.card.name}, {"file", opt.card.file.filename().string()}}},
                         {"detector", workers.front().detector ? workers.front().detector->describe() : "none"},
                         {"embedding_size", workers.front().recognizer->embedding_size()},
                         {"settings", extraction_settings(opt, sha)}};
  auto writer = store::StoreWriter::open(opt.out, meta);

  std::vector<io::ImageEntry> todo;
  for (const auto& e : entries) {
    if (!writer.done_paths().count(e.key)) todo.push_back(e);
  }
  ExtractSummary summary;
  summary.listed = entries.size();
  summary.resumed = entries.size() - todo.size();

  OpenCvThreads cv_threads(opt.threads);
  std::atomic<std::size_t> done{0};
  std::mutex progress_mutex;
  const auto on_images = [&](std::size_t n) {
    const std::size_t d = done += n;
    if (progress) {
      std::lock_guard lock(progress_mutex);
      progress({d, todo.size()});
    }
  };
  int shards = 0;
  summary.finished = true;
  for (std::size_t first = 0; first < todo.size(); first += static_cast<std::size_t>(opt.shard_size)) {
    if (opt.stop_after_shards && shards >= *opt.stop_after_shards) {
      summary.finished = false;
      break;
    }
    const auto last = std::min(todo.size(), first + static_cast<std::size_t>(opt.shard_size));
    writer.write_shard(process_chunk({todo.begin() + static_cast<std::ptrdiff_t>(first),
                                      todo.begin() + static_cast<std::ptrdiff_t>(last)},
                                     opt, workers, on_images));
    ++shards;
  }
  summary.processed = done;
  if (summary.finished) {
    const auto content = writer.finalize();
    summary.records = content.table.records.size();
    for (const auto& r : content.table.records) {
      if (r.ok) {
        ++summary.faces;
      } else {
        ++summary.failures[r.reason];
      }
    }
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace amva::pipeline
