#include "amva/pipeline/faithfulness.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <random>
#include <set>

#include "amva/error.hpp"
#include "amva/face/alignment.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/hash.hpp"
#include "amva/io/staged_output.hpp"
#include "amva/model/face_recognizer.hpp"
#include "amva/pipeline/extract.hpp"
#include "amva/pipeline/workers.hpp"
#include "amva/report/faithfulness_section.hpp"
#include "amva/stats/distributions.hpp"
#include "amva/stats/random_streams.hpp"
#include "amva/store/settings.hpp"
#include "amva/store/store.hpp"

namespace amva::pipeline {

using cam::FaceGames;
using cam::Interval;
using cam::kCentreOrder;
using cam::kGames;
using cam::kRandomOrder;
using cam::OrderDifference;
using cam::OrderScore;
namespace fs = std::filesystem;
namespace {

void check_store(const FaithfulnessOptions& opt, const store::StoreSettings& settings) {
  if (settings.json.value("imported", false)) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{} was made by amva import: its maps were made elsewhere and it holds no faces amva "
                            "can perturb and forward, so their faithfulness cannot be measured; extract a store "
                            "from the images (amva extract) to judge amva's CAM methods on them",
                            opt.store.string()));
  }
  if (io::sha256_file(opt.card.file) != settings.model_sha256) {
    throw Error(ErrorCode::Mismatch, fmt::format("{}: the store was made with another model than {}",
                                                 opt.store.string(), opt.card.file.string()));
  }
}

std::vector<std::string> cams_to_judge(const FaithfulnessOptions& opt, const store::StoreSettings& settings) {
  if (!opt.cams.empty()) return opt.cams;
  std::vector<std::string> cams;
  if (settings.cam) {
    for (const auto& [name, options] : settings.cam->methods.items()) cams.push_back(name);
  }
  if (cams.empty()) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{} holds no activation maps; name the CAM methods to judge (--cam)", opt.store.string()));
  }
  return cams;
}

// The faces to play: a seeded sample of the ok records, in id order.
std::vector<std::size_t> sample_faces(const std::vector<store::Record>& records, int count, std::uint64_t seed) {
  std::vector<std::size_t> ok;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (records[i].ok) ok.push_back(i);
  }
  if (ok.empty()) throw Error(ErrorCode::InvalidArgument, "the store holds no face to play the games on");
  std::mt19937_64 rng(stats::stream_seed(seed, "faithfulness-sample"));
  std::shuffle(ok.begin(), ok.end(), rng);
  ok.resize(std::min(ok.size(), static_cast<std::size_t>(std::max(1, count))));
  std::sort(ok.begin(), ok.end());
  return ok;
}

// The maps before their ReLU, each method with the store's target and options (or its defaults
// for a method the store does not hold), one extraction per distinct target.
std::map<std::string, std::vector<cv::Mat>> signed_maps(const FaithfulnessOptions& opt,
                                                        const store::StoreSettings& settings,
                                                        const std::vector<std::string>& cams,
                                                        const std::vector<cv::Mat>& faces,
                                                        const std::vector<store::Record>& records) {
  ExtractOptions e;
  static_cast<ModelSetup&>(e) = opt.resolved();
  e.maps_before_relu = true;
  std::map<std::string, std::vector<std::string>> by_target;
  for (const auto& cam : cams) {
    const auto stored = settings.cam ? settings.cam->options(cam) : nlohmann::json();
    std::string target = stored.is_object() ? stored.value("target", "") : "";
    e.cam_config[cam] = cam::recorded_config(stored);
    const auto method = cam::CamMethod::create(cam, e.cam_config[cam]);
    if (target == method->default_target()) target.clear();
    by_target[target].push_back(cam);
  }
  if (settings.cam && settings.cam->layer && *settings.cam->layer != "imported")
    e.card.target_layer = *settings.cam->layer;
  std::map<std::string, std::vector<cv::Mat>> maps;
  for (const auto& [target, names] : by_target) {
    e.target = target;
    e.cams = names;
    const auto extracted = extract_aligned_faces(
        faces, records, e, opt.progress.counting_as(fmt::format("maps ({})", fmt::join(names, ", "))));
    for (const auto& name : names) {
      const auto& array = extracted.table.maps(name);
      auto& out = maps[name];
      for (std::size_t i = 0; i < faces.size(); ++i) {
        out.emplace_back(static_cast<int>(array.row_shape.at(0)), static_cast<int>(array.row_shape.at(1)), CV_32F,
                         const_cast<float*>(array.row(i)));
        out.back() = out.back().clone();
      }
    }
  }
  return maps;
}

// The centre of the template's five points: where an aligned face is centred.
cv::Point2f face_centre(cv::Size input) {
  cv::Point2f c(0, 0);
  for (const auto& p : face::arcface_template()) c += p;
  c *= 1.0f / static_cast<float>(face::arcface_template().size());
  return {c.x * static_cast<float>(input.width) / face::kAlignedSize,
          c.y * static_cast<float>(input.height) / face::kAlignedSize};
}

// Percentile bootstrap of means over resampled units (people, or images): the same replicates
// for every quantity, so that differences are paired.
class Bootstrap {
 public:
  Bootstrap(const std::vector<std::int64_t>& units, int replicates, double confidence, std::uint64_t seed)
      : confidence_(confidence) {
    std::map<std::int64_t, std::vector<std::size_t>> members;
    for (std::size_t f = 0; f < units.size(); ++f) members[units[f]].push_back(f);
    std::vector<const std::vector<std::size_t>*> groups;
    for (const auto& [unit, faces] : members) groups.push_back(&faces);
    std::mt19937_64 rng(stats::stream_seed(seed, "faithfulness-bootstrap"));
    std::uniform_int_distribution<std::size_t> pick(0, groups.size() - 1);
    weights_.assign(static_cast<std::size_t>(std::max(0, replicates)), std::vector<double>(units.size(), 0.0));
    for (auto& w : weights_) {
      for (std::size_t g = 0; g < groups.size(); ++g) {
        for (const std::size_t f : *groups[pick(rng)]) w[f] += 1.0;
      }
    }
  }
  [[nodiscard]] Interval of(const std::vector<double>& values) const {
    Interval out;
    out.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
    if (weights_.empty()) {
      out.lo = out.hi = std::numeric_limits<double>::quiet_NaN();
      return out;
    }
    std::vector<double> means;
    for (const auto& w : weights_) {
      double sum = 0, total = 0;
      for (std::size_t f = 0; f < values.size(); ++f) {
        sum += w[f] * values[f];
        total += w[f];
      }
      means.push_back(sum / total);
    }
    out.lo = stats::quantile(means, (1 - confidence_) / 2);
    out.hi = stats::quantile(means, 1 - (1 - confidence_) / 2);
    return out;
  }

 private:
  double confidence_;
  std::vector<std::vector<double>> weights_;  // replicate x face: how often the face was drawn
};

double game_area(const cam::GameCurves& c, const std::string& game) {
  return game == std::string("deletion") ? c.deletion_area : c.insertion_area;
}

void summarize(FaithfulnessResult& r, const FaithfulnessOptions& opt) {
  std::vector<std::int64_t> units;
  for (const auto& f : r.per_face) units.push_back(f.unit);
  const Bootstrap boot(units, opt.bootstrap, opt.confidence, opt.seed);
  const auto values = [&](const std::string& order, const std::string& fill, const std::string& game) {
    std::vector<double> v;
    for (const auto& f : r.per_face) v.push_back(game_area(f.curves.at(order).at(fill), game));
    return v;
  };
  for (const auto& order : r.orders) {
    for (const auto& fill : r.fills) {
      OrderScore s;
      s.order = order;
      s.fill = fill;
      s.deletion = boot.of(values(order, fill, "deletion"));
      s.insertion = boot.of(values(order, fill, "insertion"));
      const std::size_t points = static_cast<std::size_t>(r.steps) + 1;
      s.deletion_curve.assign(points, 0.0);
      s.insertion_curve.assign(points, 0.0);
      for (const auto& f : r.per_face) {
        const auto& c = f.curves.at(order).at(fill);
        for (std::size_t k = 0; k < points; ++k) {
          s.deletion_curve[k] += c.deletion[k] / static_cast<double>(r.per_face.size());
          s.insertion_curve[k] += c.insertion[k] / static_cast<double>(r.per_face.size());
        }
      }
      r.scores.push_back(std::move(s));
    }
  }
  for (std::size_t a = 0; a < r.orders.size(); ++a) {
    for (std::size_t b = a + 1; b < r.orders.size(); ++b) {
      for (const auto& fill : r.fills) {
        for (const std::string game : kGames) {
          auto va = values(r.orders[a], fill, game);
          const auto vb = values(r.orders[b], fill, game);
          for (std::size_t f = 0; f < va.size(); ++f) va[f] -= vb[f];
          r.differences.push_back({r.orders[a], r.orders[b], fill, game, boot.of(va)});
        }
      }
    }
  }
}

std::string csv_text(const FaithfulnessResult& r) {
  std::string text = io::csv_line({"id", "path", "face", "unit", "order", "fill", "deletion", "insertion"}) + "\n";
  for (const auto& f : r.per_face) {
    for (const auto& order : r.orders) {
      for (const auto& fill : r.fills) {
        const auto& c = f.curves.at(order).at(fill);
        text += io::csv_line({std::to_string(f.id), f.path, std::to_string(f.face), std::to_string(f.unit), order, fill,
                              fmt::format("{:.6f}", c.deletion_area), fmt::format("{:.6f}", c.insertion_area)}) +
                "\n";
      }
    }
  }
  return text;
}

nlohmann::json interval_json(const Interval& i) {
  return {{"mean", i.mean}, {"lo", i.lo}, {"hi", i.hi}};
}

}  // namespace

nlohmann::json faithfulness_json(const FaithfulnessResult& r) {
  nlohmann::json scores = nlohmann::json::array();
  for (const auto& s : r.scores) {
    scores.push_back({{"order", s.order},
                      {"fill", s.fill},
                      {"control", r.is_control(s.order)},
                      {"deletion", interval_json(s.deletion)},
                      {"insertion", interval_json(s.insertion)},
                      {"deletion_curve", s.deletion_curve},
                      {"insertion_curve", s.insertion_curve}});
  }
  nlohmann::json differences = nlohmann::json::array();
  for (const auto& d : r.differences) {
    differences.push_back(
        {{"a", d.a}, {"b", d.b}, {"fill", d.fill}, {"game", d.game}, {"difference", interval_json(d.difference)}});
  }
  nlohmann::json verdicts = nlohmann::json::object();
  for (const auto& cam : r.cams) {
    for (const auto& fill : r.fills) {
      verdicts[cam][fill] = {{"versus_random", r.versus(cam, kRandomOrder, fill)},
                             {"versus_centre", r.versus(cam, kCentreOrder, fill)}};
    }
  }
  nlohmann::json ranking = nlohmann::json::object();
  for (const auto& fill : r.fills) ranking[fill] = r.ranking(fill);
  const auto agreement = r.ranking_agreement();
  nlohmann::json swapped = nlohmann::json::array();
  for (const auto& [x, y] : agreement.swapped) swapped.push_back({x, y});
  return {{"cams", r.cams},
          {"orders", r.orders},
          {"fills", r.fills},
          {"faces", r.faces},
          {"identities", r.identities},
          {"bootstrap_unit", r.bootstrap_unit},
          {"steps", r.steps},
          {"confidence", r.confidence},
          {"forwards_per_face", r.forwards_per_face},
          {"forwards_per_face_and_order", r.forwards_per_face_and_order()},
          {"seconds", r.seconds},
          {"scores", scores},
          {"differences", differences},
          {"verdicts", verdicts},
          {"ranking", ranking},
          {"ranking_kendall_tau", agreement.kendall_tau},
          {"ranking_swapped_pairs", swapped},
          {"ranking_agrees_across_fills", agreement.agrees},
          {"definition",
           "deletion and insertion games on the embedding: pixels ranked by each CAM method's map before its ReLU "
           "(upsampled bilinearly, ties at random), removed (deletion) or inserted into the filled face (insertion) "
           "in steps of 1/steps of the face; the score at each step is the cosine with the clean face's embedding, "
           "areas by the trapezoid rule over [0, 1]. Fills: blur (Gaussian) and road (noisy linear imputation, Rong "
           "et al. 2022). Controls: random (a random order) and centre (pixels nearest the face's centre first). "
           "Intervals: percentile bootstrap of the mean over the units (identities when known)."}};
}

FaithfulnessResult measure_faithfulness(const FaithfulnessOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const FaithfulnessOptions opt = [&] {
    FaithfulnessOptions o = options;
    static_cast<ModelSetup&>(o) = options.resolved();
    return o;
  }();
  const auto content = store::read_store(opt.store);
  const auto& settings = content.meta.settings;
  check_store(opt, settings);
  FaithfulnessResult r;
  r.cams = cams_to_judge(opt, settings);
  r.orders = r.cams;
  r.orders.emplace_back(kRandomOrder);
  r.orders.emplace_back(kCentreOrder);
  for (const auto fill : cam::all_fills()) r.fills.push_back(cam::fill_name(fill));
  r.steps = opt.game.steps;
  r.confidence = opt.confidence;
  io::StagedOutput staged(opt.out, opt.force, {"faithfulness.json"});

  const auto& records = content.table.records;
  const auto chosen = sample_faces(records, opt.faces, opt.seed);
  std::vector<cv::Mat> faces;
  std::vector<store::Record> chosen_records;
  for (const std::size_t i : chosen) {
    faces.push_back(aligned_face_of(content.meta, records[i]));
    chosen_records.push_back(records[i]);
  }
  const auto maps = signed_maps(opt, settings, r.cams, faces, chosen_records);

  // Who is in each face: the bootstrap moves whole people when they are known.
  std::vector<store::IndexEntry> index;
  for (const auto& rec : records) index.push_back({rec.path, rec.ok});
  const auto identities = eval::find_identities(index, opt.identities, opt.identities_from_evident_folders);
  std::set<std::int64_t> people;
  r.per_face.resize(chosen.size());
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    auto& f = r.per_face[k];
    f.id = records[chosen[k]].id;
    f.path = records[chosen[k]].path;
    f.face = records[chosen[k]].face;
    f.unit = identities.of_row.empty() ? -1 - static_cast<std::int64_t>(chosen[k]) : identities.unit_of(chosen[k]);
    if (f.unit >= 0) people.insert(f.unit);
  }
  r.identities = people.size();
  r.bootstrap_unit = people.empty() ? "image" : "identity";
  r.faces = chosen.size();
  r.forwards_per_face = static_cast<int>(r.orders.size() * r.fills.size()) * cam::forwards_per_order(opt.game) +
                        static_cast<int>(r.fills.size());

  std::atomic<std::size_t> next{0}, done{0};
  std::mutex progress_mutex;
  run_workers(opt.threads, [&](int, const std::function<bool()>& stop) {
    const auto recognizer = model::FaceRecognizer::create(opt.card);
    const cam::EmbedBatch embed = [&](const cv::Mat& blob) { return recognizer->forward_blob(blob).embeddings; };
    for (std::size_t k; !stop() && (k = next++) < chosen.size();) {
      auto& f = r.per_face[k];
      const cv::Mat input = recognizer->preprocess({faces[k]});
      const cv::Size size(input.size[3], input.size[2]);
      const cv::Mat clean = embed(input);
      const std::vector<float> embedding(clean.ptr<float>(0), clean.ptr<float>(0) + clean.cols);
      std::vector<std::vector<int>> orders;
      for (const auto& cam : r.cams) {
        orders.push_back(cam::order_by_map(maps.at(cam)[k], size,
                                           stats::stream_seed(opt.seed, fmt::format("ties-{}-{}", cam, f.id))));
      }
      orders.push_back(cam::random_order(size, stats::stream_seed(opt.seed, fmt::format("random-{}", f.id))));
      orders.push_back(
          cam::centre_order(size, face_centre(size), stats::stream_seed(opt.seed, fmt::format("centre-{}", f.id))));
      for (const auto fill : cam::all_fills()) {
        const auto curves = cam::play_games(input, embedding, orders, fill, opt.game, embed, opt.batch,
                                            stats::stream_seed(opt.seed, fmt::format("games-{}", f.id)));
        for (std::size_t o = 0; o < orders.size(); ++o) f.curves[r.orders[o]][cam::fill_name(fill)] = curves[o];
      }
      const std::size_t d = ++done;
      if (opt.progress.on_count) {
        const std::lock_guard lock(progress_mutex);
        opt.progress.count("games", d, chosen.size());
      }
    }
  });
  summarize(r, opt);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const auto json = faithfulness_json(r);
  io::write_text_atomically(staged.dir() / "faithfulness.csv", csv_text(r));
  io::write_text_atomically(staged.dir() / "faithfulness.svg", report::faithfulness_curves_svg(r));
  io::write_text_atomically(staged.dir() / "faithfulness.json", json.dump(2) + "\n");
  staged.publish("faithfulness.json");
  return r;
}

}  // namespace amva::pipeline
