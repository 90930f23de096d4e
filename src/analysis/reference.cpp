#include "amva/analysis/reference.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "amva/cam/cam_method.hpp"
#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/json_fields.hpp"
#include "amva/io/json_values.hpp"
#include "amva/io/npy.hpp"
#include "amva/io/numbers.hpp"
#include "amva/stats/distributions.hpp"
#include "amva/store/settings.hpp"
#include "amva/version.hpp"

namespace amva::analysis {
namespace fs = std::filesystem;
namespace {

cv::Mat read_map(const fs::path& file) {
  const auto a = io::read_npy(file);
  if (a.shape != std::vector<std::int64_t>{112, 112}) {
    throw Error(ErrorCode::Parse, fmt::format("{}: expected a 112x112 map", file.string()));
  }
  if (!std::all_of(a.data.begin(), a.data.end(), [](float v) { return std::isfinite(v); })) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{}: the map holds NaN or infinite values; rerun amva analyze to remake the reference",
                            file.string()));
  }
  cv::Mat m(112, 112, CV_32F, const_cast<float*>(a.data.data()));
  cv::Mat d;
  m.convertTo(d, CV_64F);
  return d;
}

void read_deviations(const fs::path& file, const std::string& high_group, Reference& r) {
  const auto csv = io::read_csv(file);
  const auto group = csv.column("group", file.string());
  const auto dev = csv.column("deviation", file.string());
  for (const auto& row : csv.rows) {
    // A face whose deviation is undefined (NaN) has no rank among the others.
    const auto v = io::to_double(row[dev]);
    if (!v || !std::isfinite(*v)) continue;
    r.all_deviations.push_back(*v);
    if (row[group] == high_group) r.high_deviations.push_back(*v);
  }
  std::sort(r.all_deviations.begin(), r.all_deviations.end());
  std::sort(r.high_deviations.begin(), r.high_deviations.end());
}

}  // namespace

Reference read_reference(const fs::path& dir) {
  const fs::path file = dir / "reference.json";
  if (!fs::exists(file)) {
    throw Error(ErrorCode::NotFound,
                fmt::format("{}: not a reference folder (no reference.json; amva analyze writes reference_<method>/)",
                            dir.string()));
  }
  Reference r;
  r.json = io::parse_json_file(file);
  const io::JsonFields fields(r.json, file);
  if (fields.string("kind") != "amva-reference") {
    throw Error(ErrorCode::Parse, fmt::format("{}: kind is not amva-reference", file.string()));
  }
  r.cam = fields.string("cam.method");
  try {
    r.normalization = parse_normalization(fields.string("normalization"));
  } catch (const Error& e) {
    throw Error(ErrorCode::Parse, fmt::format("{}: normalization: {}", file.string(), e.what()));
  }
  r.eps = fields.number("deviation.eps");
  if (!(r.eps > 0) || !std::isfinite(r.eps)) {
    throw Error(ErrorCode::Parse, fmt::format("{}: deviation.eps must be a positive number", file.string()));
  }
  const double count = fields.number("count");
  if (count < 2) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{}: the reference group holds {} face(s); a deviation is measured in units of the "
                            "group's variation, which needs at least 2 (rerun amva analyze with more images or a "
                            "larger high group, e.g. --group top:30)",
                            dir.string(), count));
  }
  r.count = static_cast<std::size_t>(count);
  r.store_settings = fields.object("store_settings");
  // The fields the comparison with a run's settings reads.
  if (fields.has("store_settings.model_sha256")) (void)fields.string("store_settings.model_sha256");
  if (fields.has("store_settings.cam")) (void)fields.object("store_settings.cam");
  if (fields.has("store_settings.cam.methods")) (void)fields.object("store_settings.cam.methods");
  if (fields.has("cam.layer")) r.cam_layer = fields.string("cam.layer");
  if (fields.has("cam.options.target")) r.cam_target = fields.string("cam.options.target");
  if (fields.has("cam.options")) {
    r.cam_config = cam::recorded_config(fields.object("cam.options"));
    // The method checks its own settings; one amva does not know is checked when it is made.
    if (cam::CamRegistry::instance().contains(r.cam)) {
      try {
        (void)cam::CamMethod::create(r.cam, r.cam_config);
      } catch (const Error& e) {
        throw Error(ErrorCode::Parse, fmt::format("{}: field cam.options: {}", file.string(), e.what()));
      }
    }
  }
  r.mam = read_map(dir / "mam.npy");
  r.amv = read_map(dir / "amv.npy");
  double lowest = 0, highest = 0;
  cv::minMaxLoc(r.amv, &lowest, &highest);
  if (lowest < 0 || !(highest > 0)) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{}: the reference's AM-V is {} (its maps {}); rerun amva analyze with a group whose "
                            "maps differ",
                            dir.string(), lowest < 0 ? "negative somewhere" : "zero everywhere",
                            lowest < 0 ? "are not a variation" : "are all the same"));
  }
  if (fs::exists(dir / "deviations.csv")) read_deviations(dir / "deviations.csv", r.json.value("group", "high"), r);
  return r;
}

std::vector<FaceDeviation> read_face_deviations(const fs::path& dir) {
  const fs::path file = dir / "deviations.csv";
  const auto csv = io::read_csv(file);
  const auto id = csv.column("id", file.string());
  const auto path = csv.column("path", file.string());
  const auto score = csv.column("score", file.string());
  const auto group = csv.column("group", file.string());
  const auto dev = csv.column("deviation", file.string());
  std::vector<FaceDeviation> rows;
  for (const auto& row : csv.rows) {
    const auto i = io::to_double(row[id]);
    const auto q = io::to_double(row[score]);
    const auto v = io::to_double(row[dev]);
    rows.push_back(
        {i ? static_cast<std::int64_t>(*i) : -1, row[path], q ? *q : std::nan(""), row[group], v ? *v : std::nan("")});
  }
  return rows;
}

double reference_eps(const cv::Mat& mam, const cv::Mat& amv) {
  const double mean_amv = cv::mean(amv)[0];
  return mean_amv > 0 ? 0.01 * mean_amv : 0.01 * std::abs(cv::mean(mam)[0]) + 1e-12;
}

void save_reference(const fs::path& dir, const ReferenceToSave& r) {
  fs::create_directories(dir);
  for (const auto& [name, map] : {std::pair{"mam.npy", &r.mam}, {"amv.npy", &r.amv}, {"median.npy", &r.median}}) {
    cv::Mat f;
    map->convertTo(f, CV_32F);
    io::write_npy(dir / name, {f.rows, f.cols}, f.ptr<float>());
  }
  std::string csv = io::csv_line({"id", "path", "score", "group", "deviation"}) + "\n";
  std::vector<double> high;
  for (const auto& d : r.deviations) {
    csv += io::csv_line({std::to_string(d.id), d.path, fmt::format("{}", d.score), d.group,
                         fmt::format("{:.6g}", d.deviation)}) +
           "\n";
    if (d.group == r.group) high.push_back(d.deviation);
  }
  io::write_text_atomically(dir / "deviations.csv", csv);
  const nlohmann::json j = {
      {"kind", "amva-reference"},
      {"amva_version", version()},
      {"created", utc_timestamp()},
      {"fiqa_method", r.fiqa_method},
      {"fiqa_source", r.fiqa_source},
      {"group", r.group},
      {"group_rule", r.group_rule},
      {"count", r.count},
      {"score_min", io::json_number(r.score_min)},
      {"score_max", io::json_number(r.score_max)},
      {"normalization", to_string(r.normalization)},
      {"cam", r.cam},
      {"store", r.store},
      {"store_settings", r.store_settings},
      {"deviation",
       {{"definition",
         "mean over the 112x112 pixels of |Z|, Z = (AM - MAM) / (AM-V + eps), eps = 0.01 x mean AM-V "
         "(0.01 x mean MAM for a one-face group)"},
        {"eps", r.eps},
        {"high_group_median", io::json_number(stats::quantile(high, 0.5))}}}};
  io::write_text_atomically(dir / "reference.json", io::json_text(j, 2) + "\n");
}

nlohmann::json reference_cam_json(const store::StoreMeta& store_meta, const std::string& cam, int map_rows,
                                  int map_cols) {
  nlohmann::json j = {{"method", cam}, {"map_shape", {map_rows, map_cols}}};
  if (const auto& c = store_meta.settings.cam) {
    if (c->layer) j["layer"] = *c->layer;
    if (c->has(cam)) j["options"] = c->options(cam);
  }
  return j;
}

}  // namespace amva::analysis
