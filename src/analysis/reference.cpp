#include "amva/analysis/reference.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/json_fields.hpp"
#include "amva/io/npy.hpp"
#include "amva/io/numbers.hpp"

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
  if (fields.has("cam.options.channels")) {
    const double channels = fields.number("cam.options.channels");
    if (channels < 0 || channels > 1e6 || channels != std::floor(channels)) {
      throw Error(ErrorCode::Parse,
                  fmt::format("{}: field cam.options.channels: must be a whole number >= 0", file.string()));
    }
    r.scorecam_channels = static_cast<int>(channels);
  }
  if (fields.has("cam.options.grid")) {
    const auto& grid = fields.at("cam.options.grid");
    if (!grid.is_array() || grid.size() != 2 || !grid[0].is_number_integer() || grid[0].get<int>() < 1 ||
        grid[0].get<int>() > 56) {
      throw Error(ErrorCode::Parse,
                  fmt::format("{}: field cam.options.grid: must be [rows, columns] from 1 to 56", file.string()));
    }
    r.occlusion_grid = grid[0].get<int>();
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
  const auto path = csv.column("path", file.string());
  const auto group = csv.column("group", file.string());
  const auto dev = csv.column("deviation", file.string());
  std::vector<FaceDeviation> rows;
  for (const auto& row : csv.rows) {
    const auto v = io::to_double(row[dev]);
    rows.push_back({row[path], row[group], v ? *v : std::nan("")});
  }
  return rows;
}

}  // namespace amva::analysis
