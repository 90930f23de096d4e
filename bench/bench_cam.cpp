// Activation-map throughput, side by side on the same aligned faces and threads:
//   Forward            raw batched forward of the FR model (2 workers, batch 32)
//   Extract/<cams>     amva extract --aligned with those CAM methods (2 threads); occlusion is
//                      49 forwards of the whole model per face, scorecam 513
//   ScoreCamFidelity/K mean Pearson r of scorecam --channels K against full Score-CAM
// Faces: aligned LFW faces when ../shared is present (the first 256 in sorted order; 200 for
// fidelity), else the default faces. peak_rss_MB is the process's peak resident memory during
// the benchmark (reset before each one).
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <numeric>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "amva/cam/cam_method.hpp"
#include "amva/cam/faithfulness.hpp"
#include "amva/face/alignment.hpp"
#include "amva/face/detector.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/image_list.hpp"
#include "amva/model/face_recognizer.hpp"
#include "amva/pipeline/extract.hpp"
#include "amva/store/store.hpp"

namespace {
using namespace amva;
namespace fs = std::filesystem;

const fs::path kShared = fs::path(AMVA_BENCH_SOURCE_DIR) / ".." / "shared" / "data" / "lfw" / "lfw-deepfunneled";

model::ModelCard card() {
  return model::ModelCard::load(fs::path(AMVA_BENCH_CARDS_DIR) / "default.json", AMVA_BENCH_MODELS_DIR);
}

void reset_peak_rss() {
  std::ofstream("/proc/self/clear_refs") << "5";
}
double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmHWM:")) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// Aligned faces written once to a scratch folder, so every extraction reads the same files.
const fs::path& aligned_folder() {
  static const fs::path folder = [] {
    const fs::path dir = fs::temp_directory_path() / "amva-bench-faces";
    fs::remove_all(dir);
    fs::create_directories(dir);
    face::DetectorConfig d;
    d.detector_model = fs::path(AMVA_BENCH_MODELS_DIR) / "fr_detect.onnx";
    d.landmark_model = fs::path(AMVA_BENCH_MODELS_DIR) / "fr_landmark.onnx";
    auto detector = face::FaceDetector::create(d);
    const bool lfw = fs::exists(kShared);
    const auto entries = io::list_images(lfw ? kShared : fs::path(AMVA_BENCH_SOURCES_DIR));
    int written = 0;
    for (const auto& e : entries) {
      if (written >= 256) break;
      const cv::Mat img = io::load_bgr(e.file);
      for (const auto& f : detector->detect(img)) {
        cv::imwrite((dir / fmt::format("{:04d}.png", written++)).string(), face::align_face(img, f.landmarks));
        if (lfw) break;
      }
    }
    return dir;
  }();
  return folder;
}

std::vector<cv::Mat> aligned_faces(std::size_t limit) {
  std::vector<cv::Mat> faces;
  for (const auto& e : io::list_images(aligned_folder())) {
    if (faces.size() >= limit) break;
    faces.push_back(io::load_bgr(e.file));
  }
  return faces;
}

void Forward(benchmark::State& state) {
  reset_peak_rss();
  const auto faces = aligned_faces(32);
  cv::setNumThreads(1);
  std::vector<std::unique_ptr<model::FaceRecognizer>> recs;
  for (int t = 0; t < 2; ++t) recs.push_back(model::FaceRecognizer::create(card()));
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (auto& r : recs) threads.emplace_back([&] { benchmark::DoNotOptimize(r->forward(faces).embeddings.data); });
    for (auto& t : threads) t.join();
  }
  cv::setNumThreads(-1);
  state.SetItemsProcessed(state.iterations() * 2 * static_cast<std::int64_t>(faces.size()));
  state.counters["peak_rss_MB"] = peak_rss_mb();
}
BENCHMARK(Forward)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(5.0);

void Extract(benchmark::State& state, std::vector<std::string> cams, int images) {
  reset_peak_rss();
  const fs::path scratch = fs::temp_directory_path() / "amva-bench-store";
  {
    std::ofstream list(fs::temp_directory_path() / "amva-bench-list.txt");
    for (const auto& e : io::list_images(aligned_folder())) {
      if (images-- <= 0) break;
      list << e.file.string() << '\n';
    }
  }
  pipeline::ExtractOptions o;
  o.images = fs::temp_directory_path() / "amva-bench-list.txt";
  o.out = scratch;
  o.card = card();
  o.aligned = true;
  o.cams = cams;
  o.threads = 2;
  o.cache_dir = fs::temp_directory_path() / "amva-bench-cache";
  {
    // Untimed: fills the Jacobian cache, as any run after a model's first does.
    auto warm = o;
    warm.out = scratch.string() + "-warm";
    fs::remove_all(warm.out);
    std::ofstream(scratch.string() + "-warm.txt") << (aligned_folder() / "0000.png").string() << '\n';
    warm.images = scratch.string() + "-warm.txt";
    pipeline::extract(warm);
  }
  std::size_t processed = 0;
  for (auto _ : state) {
    fs::remove_all(scratch);
    processed += pipeline::extract(o).processed;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(processed));
  state.counters["peak_rss_MB"] = peak_rss_mb();
}
BENCHMARK_CAPTURE(Extract, none, std::vector<std::string>{}, 256)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);
BENCHMARK_CAPTURE(Extract, gradcam, std::vector<std::string>{"gradcam"}, 256)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);
BENCHMARK_CAPTURE(Extract, contribution, std::vector<std::string>{"contribution"}, 256)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);
BENCHMARK_CAPTURE(Extract, all_gradient,
                  std::vector<std::string>{"gradcam", "gradcam++", "xgradcam", "layercam", "contribution", "eigencam"},
                  256)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);
BENCHMARK_CAPTURE(Extract, scorecam, std::vector<std::string>{"scorecam"}, 16)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(Extract, occlusion, std::vector<std::string>{"occlusion"}, 64)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

double pearson(const cv::Mat& a, const cv::Mat& b) {
  cv::Scalar ma, sa, mb, sb;
  cv::meanStdDev(a, ma, sa);
  cv::meanStdDev(b, mb, sb);
  if (sa[0] == 0 || sb[0] == 0) return sa[0] == sb[0] ? 1.0 : 0.0;
  return cv::mean((a - ma[0]).mul(b - mb[0]))[0] / (sa[0] * sb[0]);
}

// Full Score-CAM is computed once (two workers) and shared by the three K values, or read
// from the store named by $AMVA_BENCH_SCORECAM_STORE.
void ScoreCamFidelity(benchmark::State& state) {
  static std::vector<cv::Mat> full;
  static std::vector<cv::Mat> faces;
  const auto target = cam::Target::create("self-cosine");
  const auto maps = [&](model::FaceRecognizer& r, const cv::Mat& face, int channels) {
    const cv::Mat blob = r.preprocess({face});
    const auto out = r.forward_blob(blob, {r.target_layer()});
    cam::CamInput in;
    in.activations = out.activations.front().ptr<float>();
    in.embedding = out.embeddings.ptr<float>();
    in.shape = {512, 7, 7, 512};
    in.target = target.get();
    in.input = &blob;
    in.embed = [&](const cv::Mat& b) { return r.forward_blob(b).embeddings; };
    return cam::CamMethod::create("scorecam", {{"channels", channels}})->compute(in);
  };
  const char* store_dir = std::getenv("AMVA_BENCH_SCORECAM_STORE");
  if (full.empty() && store_dir) {
    // Full maps from a store made by `amva extract --cam scorecam` (all channels): its faces
    // are re-aligned from the stored landmarks, which gives the pixels extraction saw.
    const auto store = store::read_store(store_dir);
    const auto& cam = store.meta.settings.cam;
    const auto options = cam ? cam->options("scorecam") : nlohmann::json();
    if (!options.is_object() || options.value("channels", -1) != 0) {
      state.SkipWithError("the store's scorecam maps are not full Score-CAM");
      return;
    }
    const auto& stored = store.table.arrays.at("maps_scorecam");
    for (const auto& r : store.table.records) {
      if (!r.ok) continue;
      faces.push_back(face::align_face(io::load_bgr(r.path), r.detection.landmarks));
      full.push_back(cv::Mat(7, 7, CV_32F, const_cast<float*>(stored.row(static_cast<std::size_t>(r.id)))).clone());
    }
  }
  if (full.empty()) {
    faces = aligned_faces(200);
    full.resize(faces.size());
    cv::setNumThreads(1);
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        auto r = model::FaceRecognizer::create(card());
        for (std::size_t i = t; i < faces.size(); i += 2) full[i] = maps(*r, faces[i], 0);
      });
    }
    for (auto& t : threads) t.join();
    cv::setNumThreads(-1);
  }
  double r_sum = 0;
  for (auto _ : state) {
    std::vector<double> partial(2, 0.0);
    cv::setNumThreads(1);
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        auto r = model::FaceRecognizer::create(card());
        for (std::size_t i = t; i < faces.size(); i += 2) {
          partial[t] += pearson(full[i], maps(*r, faces[i], static_cast<int>(state.range(0))));
        }
      });
    }
    for (auto& t : threads) t.join();
    cv::setNumThreads(-1);
    r_sum = partial[0] + partial[1];
  }
  state.counters["faces"] = static_cast<double>(faces.size());
  state.counters["mean_pearson_r"] = r_sum / static_cast<double>(faces.size());
}
BENCHMARK(ScoreCamFidelity)->Arg(32)->Arg(64)->Arg(128)->Iterations(1)->Unit(benchmark::kSecond);

// ROAD's noisy linear imputation of one 112 x 112 face with the first `percent` % of a
// centre order missing (a contiguous hole, its hardest case): what each ROAD step of
// amva faithfulness pays besides its forward pass.
void RoadImputation(benchmark::State& state) {
  auto r = model::FaceRecognizer::create(card());
  const cv::Mat input = r->preprocess({aligned_faces(1).front()});
  const cv::Size face(input.size[3], input.size[2]);
  const auto order = cam::centre_order(face, {56.f, 72.f}, 1);
  std::vector<std::uint8_t> known(order.size(), 1);
  const auto missing = static_cast<std::size_t>(state.range(0)) * order.size() / 100;
  for (std::size_t i = 0; i < missing; ++i) known[static_cast<std::size_t>(order[i])] = 0;
  for (auto _ : state) benchmark::DoNotOptimize(cam::impute_linear(input, known, 0.01, 1).data);
}
BENCHMARK(RoadImputation)->Arg(10)->Arg(50)->Arg(90)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace
