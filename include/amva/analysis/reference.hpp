#pragma once
// The high-quality reference that single-image explanation measures against: the folder
// reference_<method>/ that amva analyze writes (reference.json, mam.npy, amv.npy,
// deviations.csv), read and checked.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "amva/analysis/group_maps.hpp"
#include "amva/store/store_meta.hpp"

namespace amva::analysis {

struct Reference {
  nlohmann::json json;  // reference.json
  std::string cam;      // the CAM method of its maps
  Normalization normalization = Normalization::MinMax;
  std::size_t count = 0;                                 // faces in the reference group
  cv::Mat mam, amv;                                      // 112x112 CV_64F
  double eps = 0;                                        // the deviation's guard, > 0
  std::vector<double> high_deviations, all_deviations;   // sorted; only finite values
  nlohmann::json store_settings;                         // the settings of the store its maps came from (an object)
  std::string cam_layer;                                 // empty: the model card's
  std::string cam_target;                                // empty: the default target
  nlohmann::json cam_config = nlohmann::json::object();  // the method's own settings (cam.options less the target)
};

/// Reads and checks a reference folder. A deviation is measured in units of the reference
/// group's variation, so a reference is refused (Error(InvalidArgument), with what to do) when
/// its group holds fewer than 2 faces, when its AM-V is zero everywhere, or when MAM or AM-V
/// hold NaN or infinite values. Error(NotFound) when reference.json is absent, Error(Parse)
/// naming the file and field for anything malformed.
Reference read_reference(const std::filesystem::path& dir);
/// One scored face's deviation from a reference (a row of its deviations.csv).
struct FaceDeviation {
  std::int64_t id = 0;   // store row
  std::string path;      // the store key
  double score = 0;      // its FIQA score
  std::string group;     // its quality group; empty when in none
  double deviation = 0;  // NaN when undefined
};
/// What amva analyze saves of a method's high group for explanation (save_reference).
struct ReferenceToSave {
  std::string fiqa_method, fiqa_source;
  std::string group, group_rule;
  std::size_t count = 0;
  double score_min = 0, score_max = 0;
  Normalization normalization = Normalization::MinMax;
  nlohmann::json cam;                     // the analysis's cam settings (method, map_shape, layer, options)
  nlohmann::json store;                   // the store's path
  nlohmann::json store_settings;          // its meta.json settings
  cv::Mat mam, amv, median;               // 112x112 CV_64F; amv without NaN
  double eps = 0;                         // reference_eps(mam, amv)
  std::vector<FaceDeviation> deviations;  // every scored face
};
/// A reference's "cam" object: the method, its map shape, and the store's layer and options of
/// that method (from the store's meta.json).
nlohmann::json reference_cam_json(const store::StoreMeta& store_meta, const std::string& cam, int map_rows,
                                  int map_cols);
/// The deviation's guard: 0.01 x mean AM-V, or for a one-face group (AM-V 0) 0.01 x |mean MAM|
/// + 1e-12, so that Z stays defined and float noise does not blow up.
double reference_eps(const cv::Mat& mam, const cv::Mat& amv);
/// Writes the folder read_reference reads: mam.npy, amv.npy, median.npy, deviations.csv and,
/// last, reference.json (each atomically).
void save_reference(const std::filesystem::path& dir, const ReferenceToSave& reference);
/// The rows of `dir`/deviations.csv, in file order, read by column name. Unlike read_reference
/// it does not judge whether the reference can explain faces.
std::vector<FaceDeviation> read_face_deviations(const std::filesystem::path& dir);

}  // namespace amva::analysis
