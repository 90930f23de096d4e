#pragma once
// The one heavy pass: images -> faces -> embeddings (and later activation maps) -> store.
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "amva/cam/cam_method.hpp"
#include "amva/face/detector.hpp"
#include "amva/io/image_header.hpp"
#include "amva/io/image_list.hpp"
#include "amva/io/list_part.hpp"
#include "amva/model/model_card.hpp"
#include "amva/pipeline/model_setup.hpp"
#include "amva/pipeline/quality.hpp"
#include "amva/progress.hpp"
#include "amva/store/store.hpp"
#include "amva/team.hpp"

namespace amva::pipeline {

struct ExtractOptions : ModelSetup {
  std::filesystem::path images;  // a folder (recursive) or a list file
  // When not empty, exactly these images (file and store key) instead of listing `images`,
  // which still names their source: how one stage hands images to another without a list
  // file, which could not hold every file name (a newline, bytes that are not UTF-8) nor
  // resolve paths that are relative to the working directory.
  std::vector<io::ImageEntry> entries;
  std::filesystem::path out;                           // the store
  bool all_faces = false;                              // one record per detected face instead of the primary one only
  face::FaceRule face_rule = face::FaceRule::Central;  // which face is the image's (face 0)
  std::vector<std::string> cams;                       // CAM methods computed in the same pass (maps_<name>.npy)
  std::vector<std::string> quality;                    // built-in FIQA measures scored in the same pass (quality.csv)
  std::string target;                                  // target for every method; empty: each method's default
  PluginConfigs cam_config;                            // the CAM methods' settings, by method (CamRegistry::settings)
  bool maps_before_relu = false;  // maps before each method's final ReLU (faithfulness ranks pixels by them)
  std::size_t max_pixels = io::kDefaultMaxPixels;  // larger images are recorded as too_large
  int batch = 0;                                   // images per batch; 0: 32, or 2 when a method forwards masked inputs
                                                   // (Score-CAM's own passes are batched, and small face batches
                                                   // spread its long per-image work over the workers)
  int shard_size = 512;                            // images per shard: the unit of resumption
                                                   // and the block a rank of a team claims
  io::ListPart part;                               // a job array's share: every N-th image
  /// Stop after this many shards without finalizing, as an interrupted run would.
  std::optional<int> stop_after_shards;
};

struct ExtractSummary {
  std::size_t listed = 0;                       // images found in the source
  std::size_t resumed = 0;                      // already in the store, skipped
  std::size_t processed = 0;                    // read in this run
  std::size_t faces = 0;                        // records with an embedding, whole store
  std::size_t records = 0;                      // rows in index.csv, whole store
  std::map<std::string, std::size_t> failures;  // reason -> count, whole store
  std::vector<std::string> skipped;             // listing notes: loops, unreadable folders, FIFOs
  std::optional<QualitySummary> quality;        // with ExtractOptions::quality: what quality.csv got
  double seconds = 0;
  double commit_seconds = 0;  // of `seconds`, folding the shards into the store
  bool finished = false;      // false when stopped early (stop_after_shards)
  [[nodiscard]] double images_per_second() const { return seconds > 0 ? processed / seconds : 0; }
};

/// The settings object written to meta.json; two stores merge only if theirs are equal.
nlohmann::json extraction_settings(const ExtractOptions& options, const std::string& model_sha256);

/// The aligned face of a stored record, re-made from the source image and the landmarks in
/// index.csv (pre-aligned inputs are resized): the very pixels extraction saw.
cv::Mat aligned_face_of(const store::StoreMeta& meta, const store::Record& record);

/// Runs extraction, resuming a store that already holds part of the images. One bad image
/// never stops the run: it becomes an error record with its reason. Throws Error only for
/// problems that concern the whole run (missing source, model, store of other settings).
/// With `quality`, each face is scored from the aligned face, embedding and activations of
/// this one pass and quality.csv is written at the end; faces extracted by an earlier,
/// interrupted run are scored by re-reading their images (as amva quality does).
/// With a `team` of N ranks (every rank calls it with the same options), the ranks claim
/// blocks of shard_size images as they finish their last, write them as shards of the one
/// store, and the root commits: the store equals one process's. On ranks other than the root
/// the summary counts only that rank's images. A rank that fails aborts the whole team.
/// `progress` counts stage "extract": images processed in this run of those it has to process.
ExtractSummary extract(const ExtractOptions& options, const Progress& progress = {}, Team* team = nullptr);

/// One pass for several face recognition models: each image decoded, detected and aligned once
/// and forwarded once per model into that model's store (`models[m].out`), as extract() would
/// write it. The models share the first options' images, detection, threads, batch and shards;
/// each has its own card, store, CAM methods and quality measures. Measures that do not use the
/// model (image measures) are scored once, on the first model's pass, and written to every
/// store that names them. Each store resumes on its own: an image one store holds already is
/// written only to the others. One summary per model, in order.
std::vector<ExtractSummary> extract_models(const std::vector<ExtractOptions>& models, const Progress& progress = {},
                                           Team* team = nullptr);

/// A few images through the same pass, kept in memory instead of a store (amva explain and
/// amva cam): the maps and scores are those a store extracted with `options` would hold.
struct ExtractedFaces {
  nlohmann::json settings;                             // what meta.json's settings would be
  store::Table table;                                  // records in image order (ids 0..), arrays
  std::vector<cv::Mat> aligned;                        // per record: the aligned face; empty if failed
  std::vector<std::map<std::string, double>> quality;  // per record: score per measure of options.quality
};
/// `options.images`, `out`, `shard_size` and `stop_after_shards` are not used; `images` are read
/// in this order and keyed by their path as given.
ExtractedFaces extract_faces(const std::vector<std::filesystem::path>& images, const ExtractOptions& options,
                             const Progress& progress = {});

/// The same pass over faces already aligned and held in memory, each with its record (path,
/// face, detection): no image is read and nothing is detected. The records keep their ids.
ExtractedFaces extract_aligned_faces(const std::vector<cv::Mat>& faces, const std::vector<store::Record>& records,
                                     const ExtractOptions& options, const Progress& progress = {});

}  // namespace amva::pipeline
