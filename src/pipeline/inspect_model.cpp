#include "amva/pipeline/inspect_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <opencv2/core.hpp>

#include "amva/data/default_data.hpp"
#include "amva/error.hpp"
#include "amva/eval/pairs.hpp"
#include "amva/face/alignment.hpp"
#include "amva/io/image_io.hpp"
#include "amva/model/face_recognizer.hpp"
#include "amva/model/layer_probe.hpp"

namespace amva::pipeline {
namespace fs = std::filesystem;

std::vector<InputConvention> common_input_conventions() {
  const std::array<double, 3> half{127.5, 127.5, 127.5};
  const std::array<double, 3> zero{0, 0, 0};
  const std::array<double, 3> full{255, 255, 255};
  // ImageNet's statistics are given for R, G, B; a BGR model sees them in the other order.
  const std::array<double, 3> imagenet_mean{123.675, 116.28, 103.53};
  const std::array<double, 3> imagenet_std{58.395, 57.12, 57.375};
  const auto reversed = [](std::array<double, 3> a) {
    std::reverse(a.begin(), a.end());
    return a;
  };
  std::vector<InputConvention> all;
  for (const bool rgb : {false, true}) {
    const std::string order = rgb ? "RGB" : "BGR";
    all.push_back({order + " (x-127.5)/127.5", rgb, half, half});
    all.push_back({order + " ImageNet mean and std", rgb, rgb ? imagenet_mean : reversed(imagenet_mean),
                   rgb ? imagenet_std : reversed(imagenet_std)});
    all.push_back({order + " x/255", rgb, zero, full});
  }
  return all;
}

namespace {

// A folder for the demo's data, removed with everything in it when the inspection ends.
class ScratchFolder {
 public:
  ScratchFolder() {
    std::string pattern = (fs::temp_directory_path() / "amva-inspect-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw Error(ErrorCode::Io, fmt::format("cannot make a scratch folder in {}", fs::temp_directory_path().string()));
    }
    path_ = pattern;
  }
  ~ScratchFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The face the extraction would take from the image (the central rule), aligned; empty when
// no face is found.
cv::Mat aligned_primary_face(face::FaceDetector& detector, const cv::Mat& bgr) {
  const auto faces = detector.detect(bgr);
  if (faces.empty()) return {};
  const auto& f = faces[face::primary_face(faces, bgr.size(), face::FaceRule::Central)];
  return face::align_face(bgr, f.landmarks);
}

int identity_index(std::map<std::string, int>& ids, const std::string& name) {
  return ids.emplace(name, static_cast<int>(ids.size())).first->second;
}

// Unit-length rows.
cv::Mat normalised_rows(const cv::Mat& m) {
  cv::Mat out(m.rows, m.cols, CV_32F);
  for (int i = 0; i < m.rows; ++i) {
    const double n = cv::norm(m.row(i));
    m.row(i).convertTo(out.row(i), CV_32F, n > 0 ? 1.0 / n : 0.0);
  }
  return out;
}

// Every face as a zero-mean pixel vector: comparing them is comparing the aligned faces with
// no model at all.
cv::Mat pixel_vectors(const std::vector<cv::Mat>& faces) {
  cv::Mat rows(static_cast<int>(faces.size()), face::kAlignedSize * face::kAlignedSize * 3, CV_32F);
  for (int i = 0; i < rows.rows; ++i) {
    cv::Mat row = faces[i].reshape(1, 1);
    row.convertTo(rows.row(i), CV_32F);
    rows.row(i) -= cv::mean(rows.row(i))[0];
  }
  return rows;
}

eval::IdentityComparisons compare(const LabelledFaces& set, const cv::Mat& features) {
  const cv::Mat unit = normalised_rows(features);
  eval::IdentityComparisons comparisons;
  if (set.pairs.empty()) {
    const cv::Mat similarity = unit * unit.t();
    for (int i = 0; i < similarity.rows; ++i) {
      for (int j = i + 1; j < similarity.cols; ++j) {
        comparisons.add(set.identity[i], set.identity[j], similarity.at<float>(i, j));
      }
    }
  } else {
    for (const auto& [a, b] : set.pairs) {
      comparisons.add(set.identity[a], set.identity[b], unit.row(a).dot(unit.row(b)));
    }
  }
  return comparisons;
}

cv::Mat embeddings(model::FaceRecognizer& recognizer, const LabelledFaces& set, const model::ModelCard& card) {
  constexpr int kBatch = 32;
  cv::Mat all;
  for (std::size_t start = 0; start < set.aligned.size(); start += kBatch) {
    const std::vector<cv::Mat> batch(set.aligned.begin() + start,
                                     set.aligned.begin() + std::min(set.aligned.size(), start + kBatch));
    all.push_back(recognizer.forward_blob(model::input_blob(batch, card)).embeddings);
  }
  return all;
}

model::ModelCard card_for(const model::GraphInspection& graph, const InputConvention& convention) {
  model::ModelCard card;
  card.name = graph.file.stem().string();
  card.file = fs::absolute(graph.file);
  card.input_name = graph.input.name;
  card.input_width = graph.input_width;
  card.input_height = graph.input_height;
  card.rgb = convention.rgb;
  card.mean = convention.mean;
  card.std = convention.std;
  card.embedding_output = graph.embedding;
  return card;
}

std::string affine_check(model::FaceRecognizer& recognizer, const fs::path& cache_dir) {
  try {
    const auto [target, head] = model::probe_layer_head(recognizer, cache_dir);
    return fmt::format("affine (max error {:.1g}; maps {} x {} of {} channels)", head->affinity_error(),
                       target.shape.height, target.shape.width, target.shape.channels);
  } catch (const Error& e) {
    return e.what();
  }
}

}  // namespace

LabelledFaces demo_faces(const fs::path& sources, const face::DetectorConfig& detector, const Progress& progress) {
  const ScratchFolder scratch;
  data::DefaultDataOptions d;
  d.sources = sources;
  d.out = scratch.path();
  d.levels = 1;
  d.detector = detector;
  progress.stage("demo faces: the default photos, cut and degraded at level 1");
  const auto data = data::prepare_default_data(d, progress);
  auto faces_detector = face::FaceDetector::create(detector);
  LabelledFaces set;
  std::map<std::string, int> ids;
  // The set holds a folder per person (images/<identity>/<file>); walking the folders instead
  // of reading labels.txt back keeps any byte a photo's name may hold out of a text format.
  std::vector<std::pair<fs::path, std::string>> listed;  // file, identity
  for (const auto& person : fs::directory_iterator(data.set)) {
    if (!person.is_directory()) continue;
    for (const auto& image : fs::directory_iterator(person.path())) {
      listed.emplace_back(image.path(), person.path().filename().string());
    }
  }
  std::sort(listed.begin(), listed.end());
  std::size_t mirrors = 0;
  for (std::size_t i = 0; i < listed.size(); ++i) {
    progress.count("align", i, listed.size());
    const auto& [file, name] = listed[i];
    const cv::Mat aligned = aligned_primary_face(*faces_detector, io::load_bgr(file));
    if (aligned.empty()) continue;
    const int id = identity_index(ids, name);
    set.aligned.push_back(aligned);
    set.identity.push_back(id);
    if (file.stem().string().find("__") == std::string::npos) {  // undegraded
      cv::Mat mirror;
      cv::flip(aligned, mirror, 1);
      set.aligned.push_back(mirror);
      set.identity.push_back(id);
      ++mirrors;
    }
  }
  progress.count("align", listed.size(), listed.size());
  set.identities = static_cast<int>(ids.size());
  set.description = fmt::format("the degraded demo set ({} people, {} images and {} mirror images)", set.identities,
                                set.aligned.size() - mirrors, mirrors);
  return set;
}

LabelledFaces lfw_faces(const fs::path& lfw, int pairs, const face::DetectorConfig& detector,
                        const Progress& progress) {
  auto listed = eval::read_lfw_pairs(lfw / "pairs.txt");
  if (pairs > 0 && static_cast<std::size_t>(pairs) < listed.size()) {
    // Every k-th pair: the file lists each fold's mated pairs, then its non-mated ones, so the
    // first N alone could all be mated.
    std::vector<eval::Pair> spread;
    const double step = static_cast<double>(listed.size()) / pairs;
    for (int i = 0; i < pairs; ++i) spread.push_back(listed[static_cast<std::size_t>(i * step)]);
    listed = std::move(spread);
  }
  const fs::path root = fs::is_directory(lfw / "lfw-deepfunneled") ? lfw / "lfw-deepfunneled" : lfw;
  auto faces_detector = face::FaceDetector::create(detector);
  LabelledFaces set;
  std::map<std::string, int> ids;
  std::map<std::string, int> face_of;  // image key -> face index, -1 when no face
  const auto face_index = [&](const std::string& key, const std::string& person) {
    if (const auto it = face_of.find(key); it != face_of.end()) return it->second;
    const cv::Mat aligned = aligned_primary_face(*faces_detector, io::load_bgr(root / key));
    int index = -1;
    if (!aligned.empty()) {
      index = static_cast<int>(set.aligned.size());
      set.aligned.push_back(aligned);
      set.identity.push_back(identity_index(ids, person));
    }
    return face_of[key] = index;
  };
  std::size_t left_out = 0;
  for (std::size_t i = 0; i < listed.size(); ++i) {
    progress.count("align", i, listed.size());
    const auto& p = listed[i];
    const int a = face_index(p.a, p.identity_a);
    const int b = face_index(p.b, p.identity_b.empty() ? p.identity_a : p.identity_b);
    if (a < 0 || b < 0) {
      ++left_out;
      continue;
    }
    set.pairs.emplace_back(a, b);
  }
  progress.count("align", listed.size(), listed.size());
  set.identities = static_cast<int>(ids.size());
  set.description =
      fmt::format("{} LFW pairs ({} people, {} images{})", set.pairs.size(), set.identities, set.aligned.size(),
                  left_out ? fmt::format("; {} pairs left out, a face not found", left_out) : "");
  return set;
}

ModelInspection inspect_model(const fs::path& model_file, const std::vector<LabelledFaces>& faces,
                              const InspectModelOptions& options, const Progress& progress) {
  if (faces.empty()) throw Error(ErrorCode::InvalidArgument, "inspect_model: no faces to run the model on");
  for (const auto& set : faces) {
    if (set.identities < 2 || set.aligned.size() < 3) {
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("{}: too few faces to tell a model's conventions apart ({} faces of {} people; at least "
                              "two people and three faces are needed)",
                              set.description, set.aligned.size(), set.identities));
    }
  }
  ModelInspection r;
  r.graph = model::inspect_graph(model_file);
  const auto conventions = common_input_conventions();
  auto recognizer = model::FaceRecognizer::create(card_for(r.graph, conventions.front()));
  r.embedding_size = recognizer->embedding_size();
  progress.stage("checking that the network after the target layer is affine");
  r.affine_check = affine_check(*recognizer, options.cache_dir);

  // The comparisons of the deciding (last) set, per convention, for the bootstrap.
  std::vector<eval::IdentityComparisons> deciding;
  for (const auto& set : faces) {
    r.face_sets.push_back(set.description);
    r.pixels.push_back(compare(set, pixel_vectors(set.aligned)).separation());
  }
  for (std::size_t c = 0; c < conventions.size(); ++c) {
    progress.count("conventions", c, conventions.size());
    ConventionScore score{conventions[c], {}};
    const auto card = card_for(r.graph, conventions[c]);
    for (const auto& set : faces) {
      auto comparisons = compare(set, embeddings(*recognizer, set, card));
      score.separation.push_back(comparisons.separation());
      if (&set == &faces.back()) deciding.push_back(std::move(comparisons));
    }
    r.scores.push_back(score);
  }
  progress.count("conventions", conventions.size(), conventions.size());
  for (std::size_t k = 0; k < faces.size(); ++k) {
    const auto& s = r.scores.front().separation[k];
    if (s.mated == 0 || s.nonmated == 0) {
      throw Error(ErrorCode::InvalidArgument, fmt::format("{}: no {} comparisons to judge a convention on",
                                                          faces[k].description, s.mated == 0 ? "mated" : "non-mated"));
    }
  }

  std::vector<std::size_t> order(conventions.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return r.scores[a].separation.back().d_prime > r.scores[b].separation.back().d_prime;
  });
  std::vector<ConventionScore> ranked;
  for (const auto i : order) ranked.push_back(r.scores[i]);
  r.scores = ranked;
  r.win_share = eval::bootstrap_win_share(deciding[order[0]], deciding[order[1]], options.replicates, 20221);
  r.near_tie = r.win_share < options.near_tie;

  const double best = r.scores.front().separation.back().d_prime;
  const double pixels = r.pixels.back().d_prime;
  if (best < pixels + options.min_gain_over_pixels) {
    r.refusal = fmt::format(
        "no input convention separates identities: the best, {}, reaches d' = {:.2f} on {}, where the aligned "
        "pixels alone reach {:.2f} (a face recognition model must beat them by {:.1f}); the weights may be "
        "untrained, or the model may need an input none of the common conventions gives",
        r.scores.front().convention.name, best, r.face_sets.back(), pixels, options.min_gain_over_pixels);
    return r;
  }
  r.card = card_for(r.graph, r.scores.front().convention);
  r.card->sha256 = recognizer->model_sha256();
  return r;
}

}  // namespace amva::pipeline
