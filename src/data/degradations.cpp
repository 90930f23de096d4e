#include "amva/data/degradations.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/image_list.hpp"
#include "amva/io/staged_output.hpp"

namespace amva::data {
namespace fs = std::filesystem;

std::string Degradation::name() const {
  return position.empty() ? fmt::format("{}_{}", kind, level) : fmt::format("{}_{}_{}", kind, position, level);
}

std::vector<Degradation> degradation_plan(int levels) {
  struct Kind {
    const char* name;
    std::array<double, 3> parameters;
  };
  static const std::array<Kind, 8> kKinds = {{{"gaussian_blur", {1.5, 3.0, 6.0}},
                                              {"motion_blur", {7, 15, 25}},
                                              {"noise", {10, 25, 50}},
                                              {"underexposure", {0.5, 0.3, 0.15}},
                                              {"overexposure", {1.6, 2.2, 3.0}},
                                              {"jpeg", {30, 15, 5}},
                                              {"downscale", {2, 4, 8}},
                                              {"rotation", {15, 30, 45}}}};
  static const std::array<double, 3> kPatchSides = {0.6, 0.9, 1.2};
  static const std::array<const char*, 4> kPositions = {"left_eye", "right_eye", "mouth", "forehead"};
  levels = std::clamp(levels, 1, 3);
  std::vector<Degradation> plan;
  for (const auto& k : kKinds) {
    for (int l = 0; l < levels; ++l) plan.push_back({k.name, l + 1, k.parameters[l], ""});
  }
  for (const char* p : kPositions) {
    for (int l = 0; l < levels; ++l) plan.push_back({"occlusion", l + 1, kPatchSides[l], p});
  }
  return plan;
}

namespace {

cv::Point2f centre_of(const std::string& position, const face::Landmarks5& lm) {
  const cv::Point2f eyes = (lm[0] + lm[1]) * 0.5f;
  const cv::Point2f mouth = (lm[3] + lm[4]) * 0.5f;
  if (position == "left_eye") return lm[0];
  if (position == "right_eye") return lm[1];
  if (position == "mouth") return mouth;
  if (position == "forehead") return eyes + (eyes - mouth) * 0.8f;
  throw Error(ErrorCode::InvalidArgument, fmt::format("unknown occlusion position '{}'", position));
}

cv::Mat motion_kernel(int length, double angle_degrees) {
  cv::Mat k = cv::Mat::zeros(length, length, CV_32F);
  k.row(length / 2).setTo(1.0f);
  const cv::Mat rot = cv::getRotationMatrix2D(cv::Point2f((length - 1) / 2.f, (length - 1) / 2.f), angle_degrees, 1.0);
  cv::warpAffine(k, k, rot, k.size());
  return k / cv::sum(k)[0];
}

}  // namespace

cv::Mat degrade(const cv::Mat& bgr, const Degradation& d, const face::Landmarks5& lm, std::uint64_t seed,
                cv::Rect* patch) {
  cv::RNG rng(seed);
  cv::Mat out;
  if (d.kind == "gaussian_blur") {
    cv::GaussianBlur(bgr, out, cv::Size(), d.parameter);
  } else if (d.kind == "motion_blur") {
    cv::filter2D(bgr, out, -1, motion_kernel(static_cast<int>(d.parameter), rng.uniform(0.0, 180.0)));
  } else if (d.kind == "noise") {
    cv::Mat noise(bgr.size(), CV_32FC3);
    rng.fill(noise, cv::RNG::NORMAL, 0.0, d.parameter);
    cv::Mat f;
    bgr.convertTo(f, CV_32FC3);
    cv::Mat(f + noise).convertTo(out, CV_8UC3);
  } else if (d.kind == "underexposure" || d.kind == "overexposure") {
    bgr.convertTo(out, CV_8UC3, d.parameter);  // saturating: over-exposure clips highlights
  } else if (d.kind == "jpeg") {
    std::vector<unsigned char> bytes;
    cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, static_cast<int>(d.parameter)});
    out = cv::imdecode(bytes, cv::IMREAD_COLOR);
  } else if (d.kind == "downscale") {
    cv::Mat small;
    cv::resize(bgr, small, cv::Size(), 1.0 / d.parameter, 1.0 / d.parameter, cv::INTER_AREA);
    cv::resize(small, out, bgr.size(), 0, 0, cv::INTER_LINEAR);
  } else if (d.kind == "rotation") {
    const cv::Point2f centre = (lm[0] + lm[1] + lm[2] + lm[3] + lm[4]) * 0.2f;
    cv::warpAffine(bgr, out, cv::getRotationMatrix2D(centre, d.parameter, 1.0), bgr.size(), cv::INTER_LINEAR,
                   cv::BORDER_REFLECT101);
  } else if (d.kind == "occlusion") {
    const double eye_distance = cv::norm(lm[1] - lm[0]);
    const int side = std::max(2, static_cast<int>(std::lround(d.parameter * eye_distance)));
    const cv::Point2f c = centre_of(d.position, lm);
    const cv::Rect rect = cv::Rect(static_cast<int>(std::lround(c.x - side / 2.0)),
                                   static_cast<int>(std::lround(c.y - side / 2.0)), side, side) &
                          cv::Rect(0, 0, bgr.cols, bgr.rows);
    out = bgr.clone();
    out(rect).setTo(cv::Scalar::all(128));
    if (patch) *patch = rect;
  } else {
    throw Error(ErrorCode::InvalidArgument, fmt::format("unknown degradation '{}'", d.kind));
  }
  return out;
}

namespace {
std::string identity_of(const io::ImageEntry& e) {
  const fs::path key(e.key);
  return key.has_parent_path() ? key.parent_path().filename().string() : key.stem().string();
}
}  // namespace

DegradeSummary generate_degraded_set(const DegradeOptions& opt,
                                     const Progress& progress) {
  const auto entries = io::list_images(opt.images);
  auto detector = face::FaceDetector::create(opt.detector);
  const auto plan = degradation_plan(opt.levels);
  io::StagedOutput staged(opt.out, opt.force, {"manifest.csv"});
  DegradeSummary summary;
  std::ostringstream manifest;
  std::ostringstream labels;
  manifest << io::csv_line({"file", "source", "identity", "kind", "level", "parameter", "position", "patch_x",
                            "patch_y", "patch_w", "patch_h"})
           << '\n';
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    progress.count("degrade", i, entries.size());
    cv::Mat image;
    std::vector<face::Face> faces;
    try {
      image = io::load_bgr(e.file);
      faces = detector->detect(image);
    } catch (const Error& err) {
      summary.skipped.push_back(fmt::format("{}: {}", e.key, err.what()));
      continue;
    }
    if (faces.empty()) {
      summary.skipped.push_back(fmt::format("{}: no face found", e.key));
      continue;
    }
    ++summary.sources;
    const std::string identity = identity_of(e);
    const std::string stem = fs::path(e.key).stem().string();
    const fs::path folder = staged.dir() / "images" / identity;
    fs::create_directories(folder);
    const auto write = [&](const std::string& file, const cv::Mat& img, const Degradation* d, const cv::Rect& patch) {
      io::write_image(folder / file, img);
      const std::string rel = identity + "/" + file;
      manifest << io::csv_line({rel, e.key, identity, d ? d->kind : "original", d ? std::to_string(d->level) : "0",
                                d ? fmt::format("{:g}", d->parameter) : "", d ? d->position : "",
                                std::to_string(patch.x), std::to_string(patch.y), std::to_string(patch.width),
                                std::to_string(patch.height)})
               << '\n';
      labels << rel << '\t' << identity << '\n';
      ++summary.written;
    };
    write(stem + ".png", image, nullptr, {});
    for (std::size_t k = 0; k < plan.size(); ++k) {
      cv::Rect patch;
      const std::uint64_t seed = opt.seed * 1000003ULL + i * 1009ULL + k;
      const cv::Mat out = degrade(image, plan[k], faces.front().landmarks, seed, &patch);
      write(fmt::format("{}__{}.png", stem, plan[k].name()), out, &plan[k], patch);
    }
  }
  io::write_text_atomically(staged.dir() / "manifest.csv", manifest.str());
  io::write_text_atomically(staged.dir() / "labels.txt", labels.str());
  staged.publish("manifest.csv");
  return summary;
}

}  // namespace amva::data
