#include "amva/pipeline/explain.hpp"

#include <fmt/format.h>

#include <set>

#include "amva/analysis/reference.hpp"
#include "amva/cam/cam_method.hpp"
#include "amva/error.hpp"
#include "amva/explain/explanation_folder.hpp"
#include "amva/face/attributes.hpp"
#include "amva/io/hash.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/image_list.hpp"
#include "amva/io/safe_name.hpp"
#include "amva/io/staged_output.hpp"
#include "amva/pipeline/extract.hpp"
#include "amva/quality/quality_measure.hpp"
#include "amva/store/settings.hpp"
#include "amva/store/store.hpp"

namespace amva::pipeline {
namespace fs = std::filesystem;
namespace {

std::vector<fs::path> expand_images(const std::vector<fs::path>& inputs) {
  std::vector<fs::path> images;
  for (const auto& in : inputs) {
    if (fs::is_directory(in)) {
      for (const auto& entry : io::list_images(in)) images.push_back(fs::absolute(entry.file));
    } else if (fs::exists(in)) {
      images.push_back(fs::absolute(in));
    } else {
      throw Error(ErrorCode::NotFound, fmt::format("{}: no such image or folder", in.string()));
    }
  }
  if (images.empty()) throw Error(ErrorCode::NotFound, "no images to explain");
  return images;
}

// Refuses early what is already known to differ: the model and the CAM method.
void check_reference_model(const analysis::Reference& ref, const ExplainOptions& opt) {
  const auto settings = store::StoreSettings::from_json(ref.store_settings);
  if (!settings.cam || !settings.cam->has(ref.cam)) {
    throw Error(ErrorCode::Mismatch, fmt::format("the reference {} names CAM method {} but its store has no {} maps",
                                                 opt.reference.string(), ref.cam, ref.cam));
  }
  if (const auto sha = io::sha256_file(opt.card.file); sha != settings.model_sha256) {
    throw Error(ErrorCode::Mismatch,
                fmt::format("the reference {} was made with another model (model_sha256 {} vs {} of {})",
                            opt.reference.string(), settings.model_sha256, sha, opt.card.file.string()));
  }
}

// The settings that decide what a map means must be the reference's. How the 112x112 crop
// was made (detected and aligned, or given aligned with --aligned) is not one of them, nor is
// the form in which Grad-CAM read its gradients (its maps move only at float rounding).
void check_same_maps(const nlohmann::json& ref_settings, const nlohmann::json& run_settings, const std::string& cam,
                     const std::string& ref_dir) {
  const auto pick = [&](const nlohmann::json& json) {
    const auto s = store::StoreSettings::from_json(json);
    nlohmann::json p = {{"model_sha256", s.model_sha256}, {"preprocessing", s.preprocessing}};
    if (p["preprocessing"].is_object()) p["preprocessing"].erase("target_layer");  // compared as cam_layer
    if (s.cam) {
      p["cam_layer"] = s.cam->layer ? nlohmann::json(*s.cam->layer) : nlohmann::json();
      p["cam_map_shape"] = s.cam->map_shape;
      p["cam_" + cam] = s.cam->options(cam);
      if (p["cam_" + cam].is_object()) p["cam_" + cam].erase(cam::kGradientFormKey);
    }
    return p;
  };
  const auto diff = store::settings_difference(pick(ref_settings), pick(run_settings));
  if (!diff.empty()) {
    throw Error(ErrorCode::Mismatch,
                fmt::format("the reference {} was made with other settings than this run ({}); explain with the "
                            "reference's model, CAM method and target",
                            ref_dir, diff));
  }
}

// Extraction exactly as amva extract does it, with the reference's CAM method, target and layer.
ExtractOptions extraction_for(const analysis::Reference& ref, const ExplainOptions& opt) {
  ExtractOptions e;
  static_cast<ModelSetup&>(e) = opt.resolved();
  e.cams = {ref.cam};
  if (!ref.cam_layer.empty()) e.card.target_layer = ref.cam_layer;
  e.target = ref.cam_target;
  e.cam_config[ref.cam] = ref.cam_config;
  e.quality = opt.quality_methods.empty() ? quality::QualityRegistry::instance().names() : opt.quality_methods;
  return e;
}

std::string unique_folder(const fs::path& image, std::set<std::string>& used) {
  // The stem of "...jpg" is "..": a folder named after it would be --out's parent.
  std::string stem = image.stem().string();
  stem = stem.empty() ? "image" : io::safe_name(stem);
  std::string name = stem;
  for (int k = 2; !used.insert(name).second; ++k) name = fmt::format("{}_{}", stem, k);
  return name;
}

// Head pose and eye openness, when their models are given (eyes need the 68-point landmarks of
// the default detector).
class FaceFacts {
 public:
  explicit FaceFacts(const ExplainOptions& opt) : aligned_(opt.aligned) {
    if (opt.pose_model.empty() || opt.eye_model.empty()) return;
    attributes_ = face::FaceAttributes::create(opt.pose_model, opt.eye_model);
    if (opt.detector.kind == "default" && !opt.detector.landmark_model.empty()) {
      detector_ = face::FaceDetector::create(opt.detector);
    }
  }
  void add_to(explain::FaceToExplain& f, const store::Record& rec) const {
    if (!attributes_) return;
    const cv::Mat source = aligned_ ? f.aligned : io::load_bgr(rec.path);
    const cv::Rect2f box =
        aligned_ ? cv::Rect2f(0, 0, static_cast<float>(f.aligned.cols), static_cast<float>(f.aligned.rows))
                 : rec.detection.box;
    f.pose = attributes_->pose(source, box);
    if (detector_) {
      face::Face found;
      found.box = box;
      f.eyes = attributes_->eyes(source, detector_->dense_landmarks(source, found));
    }
  }

 private:
  bool aligned_;
  std::unique_ptr<face::FaceAttributes> attributes_;
  std::unique_ptr<face::FaceDetector> detector_;
};

}  // namespace

ExplainResult explain(const ExplainOptions& opt) {
  const auto ref = analysis::read_reference(opt.reference);
  const auto images = expand_images(opt.images);
  check_reference_model(ref, opt);
  // Outputs are staged and moved into place when all are written (a killed run changes nothing).
  const explain::ExplanationFolder named{opt.out};
  io::StagedOutput staged(opt.out, opt.force, {named.ranking_csv().filename().string()});
  const explain::ExplanationFolder folder{staged.dir()};

  const auto faces = extract_faces(images, extraction_for(ref, opt));
  check_same_maps(ref.store_settings, faces.settings, ref.cam, opt.reference.string());
  const FaceFacts facts(opt);
  const auto& maps = faces.table.maps(ref.cam);
  explain::write_regions_legend(folder.regions_legend());

  ExplainResult result;
  std::set<std::string> used;
  const std::string reference = fs::absolute(opt.reference).lexically_normal().string();
  for (std::size_t i = 0; i < images.size(); ++i) {
    opt.progress.count("explain", result.images.size(), images.size());
    // Without --all-faces each image has one record, in image order.
    const auto& rec = faces.table.records[i];
    const std::string name = unique_folder(images[i], used);
    if (!rec.ok) {
      explain::ExplainedImage x;
      x.path = images[i].string();
      x.folder = name;
      x.error = rec.error;
      result.images.push_back(x);
      continue;
    }
    explain::FaceToExplain f;
    f.image = images[i].string();
    f.reference = reference;
    f.aligned = faces.aligned[i];
    f.map = maps.row(i);
    f.map_height = static_cast<int>(maps.row_shape.at(0));
    f.map_width = static_cast<int>(maps.row_shape.at(1));
    f.fiqa = faces.quality[i];
    facts.add_to(f, rec);
    result.images.push_back(explain::explain_face(f, ref, folder.image(name).dir, opt.colormap));
    opt.progress.count("explain", result.images.size(), images.size());
  }
  explain::write_ranking(folder.ranking_csv(), result.images);
  staged.publish(named.ranking_csv().filename().string());
  result.out = opt.out;
  return result;
}

void use_attribute_models(ExplainOptions& options, const std::filesystem::path& models_dir) {
  if (std::filesystem::exists(models_dir / "fr_pose.onnx") && std::filesystem::exists(models_dir / "fr_eye.onnx")) {
    options.pose_model = models_dir / "fr_pose.onnx";
    options.eye_model = models_dir / "fr_eye.onnx";
  }
}

}  // namespace amva::pipeline
