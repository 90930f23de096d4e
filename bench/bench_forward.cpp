// Throughput of the face recognition model and of the stages around it, on real faces.
//   build/bench/amva_bench [--benchmark_filter=...]
// Forward/threads:2 runs two workers, each with its own network, as `amva extract
// --threads 2` does; items per second are faces per second.
#include <benchmark/benchmark.h>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "amva/face/alignment.hpp"
#include "amva/face/detector.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/image_list.hpp"
#include "amva/model/face_recognizer.hpp"

namespace {
using namespace amva;

face::DetectorConfig detector_config() {
  face::DetectorConfig d;
  d.detector_model = std::filesystem::path(AMVA_BENCH_MODELS_DIR) / "fr_detect.onnx";
  d.landmark_model = std::filesystem::path(AMVA_BENCH_MODELS_DIR) / "fr_landmark.onnx";
  return d;
}

model::ModelCard card() {
  return model::ModelCard::load(std::filesystem::path(AMVA_BENCH_CARDS_DIR) / "default.json", AMVA_BENCH_MODELS_DIR);
}

const std::vector<cv::Mat>& source_images() {
  static const std::vector<cv::Mat> images = [] {
    std::vector<cv::Mat> out;
    for (const auto& e : io::list_images(AMVA_BENCH_SOURCES_DIR)) out.push_back(io::load_bgr(e.file));
    return out;
  }();
  return images;
}

const std::vector<cv::Mat>& aligned_faces() {
  static const std::vector<cv::Mat> faces = [] {
    auto detector = face::FaceDetector::create(detector_config());
    std::vector<cv::Mat> out;
    for (const auto& img : source_images())
      for (const auto& f : detector->detect(img)) out.push_back(face::align_face(img, f.landmarks));
    return out;
  }();
  return faces;
}

// Raw batched forward: preprocessing and the network only.
void Forward(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  if (state.thread_index() == 0) cv::setNumThreads(state.threads() > 1 ? 1 : -1);
  auto rec = model::FaceRecognizer::create(card());
  std::vector<cv::Mat> faces;
  for (int i = 0; i < batch; ++i) faces.push_back(aligned_faces()[i % aligned_faces().size()]);
  for (auto _ : state) benchmark::DoNotOptimize(rec->forward(faces).embeddings.data);
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(Forward)->Arg(1)->Arg(32)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Forward)->Arg(32)->Threads(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// Detection and landmarks on LFW-sized (250x250) images.
void DetectAndAlign(benchmark::State& state) {
  auto detector = face::FaceDetector::create(detector_config());
  cv::Mat lfw_sized;
  cv::resize(source_images().front(), lfw_sized, cv::Size(250, 250));
  for (auto _ : state) {
    const auto faces = detector->detect(lfw_sized);
    if (!faces.empty()) benchmark::DoNotOptimize(face::align_face(lfw_sized, faces.front().landmarks).data);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(DetectAndAlign)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
