// The Python module `amva`: NumPy in and out, the same library underneath. Heavy calls release
// the GIL; amva::Error becomes amva.Error with amva's message.
#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <random>

#include "amva/analysis/analyze.hpp"
#include "amva/analysis/cross_fitting.hpp"
#include "amva/error.hpp"
#include "amva/eval/edc_study.hpp"
#include "amva/face/detector.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/npy.hpp"
#include "amva/io/safe_name.hpp"
#include "amva/model/model_card.hpp"
#include "amva/pipeline/explain.hpp"
#include "amva/pipeline/extract.hpp"
#include "amva/pipeline/faithfulness.hpp"
#include "amva/stats/groups.hpp"
#include "amva/store/import.hpp"
#include "amva/store/store.hpp"
#include "amva/version.hpp"

namespace py = pybind11;
namespace fs = std::filesystem;
using namespace amva;

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

py::object from_json(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

nlohmann::json to_json(const py::object& o) {
  return nlohmann::json::parse(py::module_::import("json").attr("dumps")(o).cast<std::string>());
}

FloatArray to_numpy(const std::vector<std::int64_t>& shape, const std::vector<float>& data) {
  FloatArray out(std::vector<py::ssize_t>(shape.begin(), shape.end()));
  std::copy(data.begin(), data.end(), out.mutable_data());
  return out;
}

// A scratch folder removed when the call ends, however it ends.
struct Scratch {
  fs::path dir;
  Scratch() {
    std::random_device rd;
    dir = fs::temp_directory_path() / fmt::format("amva-python-{}{}", rd(), rd());
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

py::dict read_store(const fs::path& dir) {
  store::StoreContent s;
  {
    py::gil_scoped_release release;
    s = store::read_store(dir);
  }
  py::list index;
  for (const auto& r : s.table.records) {
    py::dict row;
    row["id"] = r.id;
    row["path"] = r.path;
    row["face"] = r.face;
    row["ok"] = r.ok;
    row["reason"] = r.reason;
    index.append(row);
  }
  py::dict arrays;
  for (const auto& [name, a] : s.table.arrays) {
    std::vector<std::int64_t> shape{static_cast<std::int64_t>(s.table.records.size())};
    shape.insert(shape.end(), a.row_shape.begin(), a.row_shape.end());
    arrays[py::str(name)] = to_numpy(shape, a.data);
  }
  py::dict out;
  out["meta"] = from_json(s.meta.to_json());
  out["index"] = index;
  out["arrays"] = arrays;
  return out;
}

model::ModelCard card_of(const std::string& name_or_file) {
  return model::find_model_card(name_or_file);
}

py::dict compute_maps(const py::array_t<std::uint8_t, py::array::c_style>& faces,
                      const std::vector<std::string>& methods, const std::string& target, const std::string& model_card,
                      int threads, const py::dict& settings) {
  if (faces.ndim() != 4 || faces.shape(1) != 112 || faces.shape(2) != 112 || faces.shape(3) != 3) {
    throw Error(ErrorCode::InvalidArgument, fmt::format("faces must be uint8 N x 112 x 112 x 3 (BGR, aligned), not {}",
                                                        fmt::join(faces.shape(), faces.shape() + faces.ndim(), " x ")));
  }
  Scratch scratch;
  std::vector<fs::path> files;
  for (py::ssize_t i = 0; i < faces.shape(0); ++i) {
    // PNG is lossless: the library reads back the very pixels given.
    const cv::Mat face(112, 112, CV_8UC3, const_cast<std::uint8_t*>(faces.data(i)));
    files.push_back(scratch.dir / fmt::format("{:06d}.png", i));
    cv::imwrite(files.back().string(), face);
  }
  pipeline::ExtractOptions o;
  o.card = card_of(model_card);
  o.aligned = true;
  o.cams = methods;
  o.target = target;
  o.threads = threads;
  for (const auto& [method, config] : settings) {
    o.cam_config[method.cast<std::string>()] = to_json(py::reinterpret_borrow<py::object>(config));
  }
  pipeline::ExtractedFaces extracted;
  {
    py::gil_scoped_release release;
    extracted = pipeline::extract_faces(files, o);
  }
  py::dict out;
  for (const auto& m : methods) {
    const auto& a = extracted.table.maps(m);
    std::vector<std::int64_t> shape{static_cast<std::int64_t>(extracted.table.records.size())};
    shape.insert(shape.end(), a.row_shape.begin(), a.row_shape.end());
    out[py::str(m)] = to_numpy(shape, a.data);
  }
  out["embeddings"] = to_numpy({static_cast<std::int64_t>(extracted.table.records.size()),
                                extracted.table.array(store::kEmbeddings).row_shape.front()},
                               extracted.table.array(store::kEmbeddings).data);
  return out;
}

// Writes maps (N x H x W), the image paths and one score file per method into a scratch store.
fs::path scratch_store(const Scratch& scratch, const FloatArray& maps, const std::vector<std::string>& paths,
                       const FloatArray* embeddings) {
  std::vector<std::int64_t> shape(maps.shape(), maps.shape() + maps.ndim());
  io::write_npy(scratch.dir / "maps.npy", shape, maps.data());
  std::string list;
  for (const auto& p : paths) list += p + "\n";
  io::write_text_atomically(scratch.dir / "list.txt", list);
  store::MapsImport imp;
  imp.maps = scratch.dir / "maps.npy";
  imp.list = scratch.dir / "list.txt";
  imp.out = scratch.dir / "store";
  if (embeddings) {
    io::write_npy(scratch.dir / "embeddings.npy",
                  std::vector<std::int64_t>(embeddings->shape(), embeddings->shape() + embeddings->ndim()),
                  embeddings->data());
    imp.embeddings = scratch.dir / "embeddings.npy";
  }
  store::import_maps(imp);
  return imp.out;
}

quality::ScoreRequest score_files(const Scratch& scratch, const std::map<std::string, std::vector<double>>& scores,
                                  const std::vector<std::string>& paths) {
  quality::ScoreRequest request;
  for (const auto& [name, values] : scores) {
    if (values.size() != paths.size()) {
      throw Error(ErrorCode::Mismatch,
                  fmt::format("scores '{}' has {} values for {} maps", name, values.size(), paths.size()));
    }
    std::string text;
    for (std::size_t i = 0; i < paths.size(); ++i) text += fmt::format("{} {}\n", paths[i], values[i]);
    const fs::path file = scratch.dir / fmt::format("scores_{}.txt", request.files.size());
    io::write_text_atomically(file, text);
    request.files.push_back({file, "", name});
  }
  return request;
}

std::vector<std::string> paths_or_numbers(const std::optional<std::vector<std::string>>& paths, py::ssize_t n) {
  if (paths) {
    if (static_cast<py::ssize_t>(paths->size()) != n) {
      throw Error(ErrorCode::Mismatch, fmt::format("{} paths for {} maps", paths->size(), n));
    }
    return *paths;
  }
  std::vector<std::string> numbered;
  for (py::ssize_t i = 0; i < n; ++i) numbered.push_back(fmt::format("image_{:07d}", i));
  return numbered;
}

// One array of maps, or a dict of map kinds ({"gradcam": ..., "contribution": ...}) of the same
// faces: the first kind (gradcam when given) is analysed, and all of them make the robustness grid.
std::vector<std::pair<std::string, FloatArray>> map_kinds(const py::object& maps) {
  std::vector<std::pair<std::string, FloatArray>> kinds;
  if (py::isinstance<py::dict>(maps)) {
    for (const auto& [name, array] : maps.cast<py::dict>()) {
      kinds.emplace_back(py::cast<std::string>(name), py::cast<FloatArray>(array));
    }
    if (kinds.empty()) throw Error(ErrorCode::InvalidArgument, "maps: an empty dict of map kinds");
    std::stable_partition(kinds.begin(), kinds.end(), [](const auto& k) { return k.first == "gradcam"; });
  } else {
    kinds.emplace_back("external", py::cast<FloatArray>(maps));
  }
  for (const auto& [name, array] : kinds) {
    if (!io::is_safe_name(name)) {
      throw Error(ErrorCode::InvalidArgument, fmt::format("maps: '{}' is not a name for a map kind", name));
    }
    if (array.ndim() != kinds.front().second.ndim() || array.shape(0) != kinds.front().second.shape(0)) {
      throw Error(ErrorCode::Mismatch, fmt::format("maps['{}'] has {} maps, maps['{}'] {}", name, array.shape(0),
                                                   kinds.front().first, kinds.front().second.shape(0)));
    }
  }
  return kinds;
}

py::object analyze(const py::object& maps_or_kinds, const std::map<std::string, std::vector<double>>& scores,
                   const fs::path& out, const std::optional<std::vector<std::string>>& paths, const std::string& group,
                   int bootstrap, bool identities_from_folders, bool figures, int null_controls, int permutations,
                   bool robustness) {
  Scratch scratch;
  const auto kinds = map_kinds(maps_or_kinds);
  const auto& maps = kinds.front().second;
  const auto names = paths_or_numbers(paths, maps.ndim() ? maps.shape(0) : 0);
  analysis::AnalysisOptions o;
  o.store = scratch_store(scratch, maps, names, nullptr);
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    const auto& a = kinds[k].second;
    const fs::path file = store::StoreFolder{o.store}.maps(kinds[k].first);
    if (k == 0) {
      if (kinds[k].first != "external") fs::rename(store::StoreFolder{o.store}.maps("external"), file);
      continue;
    }
    io::write_npy(file, std::vector<std::int64_t>(a.shape(), a.shape() + a.ndim()), a.data());
  }
  o.out = out;
  o.scores = score_files(scratch, scores, names);
  o.cam = kinds.front().first;
  if (robustness) o.robustness = analysis::RobustnessGrid{};
  o.group = stats::GroupRule::parse(group);
  o.bootstrap.replicates = bootstrap;
  o.identities.from_folders = identities_from_folders;
  o.figures.draw = figures;
  o.verdicts.null_controls = null_controls;
  o.verdicts.permutations = permutations;
  analysis::AnalysisResult result;
  {
    py::gil_scoped_release release;
    result = analysis::analyze(o);
  }
  py::object summary = from_json(result.summary);
  if (const auto& r = result.robustness) {
    // The grid itself, one dict per specification (robustness.csv's rows).
    py::list rows;
    for (const auto& spec : r->specifications) {
      py::dict d;
      d["method"] = spec.method;
      d["cam"] = spec.cam;
      d["normalize"] = analysis::to_string(spec.normalization);
      d["group"] = fmt::format("top:{:g}", spec.group_percent);
      d["margin"] = spec.margin;
      d["low"] = spec.low;
      d["high"] = spec.high;
      d["effect"] = spec.log_ratio.value;
      d["lo"] = spec.log_ratio.lo;
      d["hi"] = spec.log_ratio.hi;
      d["p"] = spec.p;
      d["p_family"] = spec.p_family;
      d["verdict"] = spec.verdict;
      rows.append(d);
    }
    summary["robustness"]["specifications"] = rows;
  }
  return summary;
}

py::object edc(const FloatArray& embeddings, const std::map<std::string, std::vector<double>>& scores,
               const std::vector<std::string>& identities, const fs::path& out, int bootstrap, bool figures) {
  Scratch scratch;
  const auto n = embeddings.ndim() == 2 ? embeddings.shape(0) : 0;
  if (static_cast<py::ssize_t>(identities.size()) != n) {
    throw Error(ErrorCode::Mismatch, fmt::format("{} identities for {} embeddings", identities.size(), n));
  }
  // Image i of identity p is "p/i": the parent folder names the person.
  std::vector<std::string> names;
  for (py::ssize_t i = 0; i < n; ++i)
    names.push_back(fmt::format("{}/{:07d}", identities[static_cast<std::size_t>(i)], i));
  FloatArray maps(std::vector<py::ssize_t>{n, 1, 1});
  std::fill(maps.mutable_data(), maps.mutable_data() + n, 0.f);
  eval::EdcOptions o;
  o.store = scratch_store(scratch, maps, names, &embeddings);
  o.out = out;
  o.labels_from_folders = true;
  o.scores = score_files(scratch, scores, names);
  o.with_random = true;
  o.bootstrap = bootstrap;
  o.figures.draw = figures;
  eval::EdcResult result;
  {
    py::gil_scoped_release release;
    result = eval::run_edc(o);
  }
  return from_json(nlohmann::json::parse(io::read_text(out / "edc.json")));
}

py::list explain_images(const std::vector<fs::path>& images, const fs::path& reference, const fs::path& out,
                        const std::string& model_card, bool aligned, int threads) {
  pipeline::ExplainOptions o;
  o.card = card_of(model_card);
  o.detector = face::default_detector(model::default_models_dir());
  pipeline::use_attribute_models(o, model::default_models_dir());
  o.aligned = aligned;
  o.reference = reference;
  o.images = images;
  o.out = out;
  o.threads = threads;
  pipeline::ExplainResult result;
  {
    py::gil_scoped_release release;
    result = pipeline::explain(o);
  }
  py::list explained;
  for (const auto& image : result.images) {
    explained.append(image.ok
                         ? from_json(image.json)
                         : from_json(nlohmann::json{{"image", image.path}, {"ok", false}, {"error", image.error}}));
  }
  return explained;
}

py::object faithfulness(const fs::path& store, const fs::path& out, const std::vector<std::string>& cams, int faces,
                        int steps, std::uint64_t seed, const std::string& model_card, int threads) {
  pipeline::FaithfulnessOptions o;
  o.card = card_of(model_card);
  o.store = store;
  o.out = out;
  o.cams = cams;
  o.faces = faces;
  o.game.steps = steps;
  o.seed = seed;
  o.threads = threads;
  nlohmann::json summary;
  {
    py::gil_scoped_release release;
    summary = pipeline::faithfulness_json(pipeline::measure_faithfulness(o));
  }
  return from_json(summary);
}

// deviation of maps (N x h x w) against cross-fitted references: the scores rank each fold's
// reference candidates; faces of one identity share a fold (none: each face its own).
py::dict deviation(const FloatArray& maps, const std::vector<double>& reference_scores,
                   const std::optional<std::vector<std::string>>& identities, int folds, const std::string& group,
                   std::uint64_t seed, const std::string& normalization) {
  if (maps.ndim() != 3) throw Error(ErrorCode::InvalidArgument, "maps must be N x h x w");
  const auto n = static_cast<std::size_t>(maps.shape(0));
  if (reference_scores.size() != n) {
    throw Error(ErrorCode::Mismatch, fmt::format("{} reference scores for {} maps", reference_scores.size(), n));
  }
  if (identities && identities->size() != n) {
    throw Error(ErrorCode::Mismatch, fmt::format("{} identities for {} maps", identities->size(), n));
  }
  std::vector<std::int64_t> unit(n);
  std::map<std::string, std::int64_t> number;
  for (std::size_t i = 0; i < n; ++i) {
    unit[i] = identities ? number.emplace((*identities)[i], static_cast<std::int64_t>(number.size())).first->second
                         : -1 - static_cast<std::int64_t>(i);
  }
  analysis::CrossFitOptions o;
  o.folds = folds;
  o.seed = seed;
  o.high_group = stats::GroupRule::parse(group);
  o.normalization = analysis::parse_normalization(normalization);
  const std::vector<float> values(maps.data(), maps.data() + maps.size());
  analysis::CrossFitResult fit;
  {
    py::gil_scoped_release release;
    fit = analysis::cross_fitted_deviations(values, static_cast<int>(maps.shape(1)), static_cast<int>(maps.shape(2)),
                                            std::vector<bool>(n, true), reference_scores, unit, o);
  }
  py::dict out;
  out["deviation"] = py::array_t<double>(static_cast<py::ssize_t>(n), fit.deviation.data());
  out["fold"] = py::array_t<int>(static_cast<py::ssize_t>(n), fit.fold_of_row.data());
  return out;
}

}  // namespace

PYBIND11_MODULE(amva, m) {
  m.doc() = "amva: activation map variation analysis of face image quality (NumPy in and out)";
  m.attr("__version__") = version();
  static py::exception<Error> error(m, "Error");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      error(e.what());
    }
  });
  m.def("read_store", &read_store, py::arg("store"),
        "A store as {'meta': dict, 'index': [dict(id, path, face, ok, reason)], 'arrays': {name: ndarray}}");
  m.def("compute_maps", &compute_maps, py::arg("faces"), py::arg("methods") = std::vector<std::string>{"gradcam"},
        py::arg("target") = "", py::arg("model_card") = "default", py::arg("threads") = 2,
        py::arg("settings") = py::dict(),
        "Activation maps of aligned faces (uint8 N x 112 x 112 x 3, BGR) for each CAM method: {method: N x h x w, "
        "'embeddings': N x D}. `settings` gives methods their own settings by name, as the store records them: "
        "{'scorecam': {'channels': 16}, 'occlusion': {'grid': 10}}");
  m.def("analyze", &analyze, py::arg("maps"), py::arg("scores"), py::arg("out"), py::arg("paths") = py::none(),
        py::arg("group") = "top:10", py::arg("bootstrap") = 1000, py::arg("identities_from_folders") = false,
        py::arg("figures") = false, py::arg("null_controls") = 20, py::arg("permutations") = 1000,
        py::arg("robustness") = false,
        "The activation map variation analysis of maps (N x H x W) grouped by each method's scores (higher is "
        "better); writes into `out` and returns summary.json as a dict");
  m.def("edc", &edc, py::arg("embeddings"), py::arg("scores"), py::arg("identities"), py::arg("out"),
        py::arg("bootstrap") = 1000, py::arg("figures") = false,
        "The error-versus-discard characteristic of each method's scores over all comparisons of the embeddings "
        "(N x D) by identity; writes into `out` and returns edc.json as a dict");
  m.def("faithfulness", &faithfulness, py::arg("store"), py::arg("out"), py::arg("cams") = std::vector<std::string>{},
        py::arg("faces") = 200, py::arg("steps") = 20, py::arg("seed") = 1, py::arg("model_card") = "default",
        py::arg("threads") = 2,
        "How faithful each CAM method's maps are to the model (deletion and insertion games against a random order "
        "and a centre prior, blur and ROAD fills) on a sample of a store's faces; writes faithfulness.csv, .json "
        "and .svg into `out` and returns faithfulness.json as a dict");
  m.def("deviation", &deviation, py::arg("maps"), py::arg("reference_scores"), py::arg("identities") = py::none(),
        py::arg("folds") = 5, py::arg("group") = "top:10", py::arg("seed") = 29794, py::arg("normalization") = "minmax",
        "The FIQA method deviation of maps (N x h x w): each face's mean |Z| against the high group (by "
        "reference_scores, `group`) of the other folds' faces, folds made of whole identities; returns "
        "{'deviation': N (lower is better), 'fold': N}, as amva quality --methods deviation writes it (negated)");
  m.def("explain", &explain_images, py::arg("images"), py::arg("reference"), py::arg("out"),
        py::arg("model_card") = "default", py::arg("aligned") = false, py::arg("threads") = 2,
        "Explains face images (files) against a reference_<method>/ folder of amva analyze: writes each face's maps "
        "and sheet into `out` and returns each face's explain.json as a dict ({'ok': False, 'error': ...} for an "
        "image without a usable face)");
}
