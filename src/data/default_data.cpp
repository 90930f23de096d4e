#include "amva/data/default_data.hpp"

#include <fmt/format.h>

#include <opencv2/imgproc.hpp>

#include "amva/error.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/image_list.hpp"

namespace amva::data {
namespace fs = std::filesystem;

DefaultDataSummary prepare_default_data(const DefaultDataOptions& opt,
                                        const Progress& progress) {
  if (!fs::is_directory(opt.sources)) {
    throw Error(ErrorCode::NotFound,
                fmt::format("{}: default source photos not found (run scripts/setup.sh)", opt.sources.string()));
  }
  auto detector = face::FaceDetector::create(opt.detector);
  const fs::path faces_dir = opt.out / "faces";
  fs::create_directories(faces_dir);
  DefaultDataSummary summary;
  for (const auto& e : io::list_images(opt.sources)) {
    if (!io::has_image_extension(e.file)) continue;
    const cv::Mat photo = io::load_bgr(e.file);
    ++summary.photos;
    int k = 0;
    for (const auto& f : detector->detect(photo)) {
      if (f.score < opt.min_score || std::max(f.box.width, f.box.height) < opt.min_face_side) continue;
      // A square twice the face box, centred on the face, scaled to crop_size.
      const float side = 2.f * std::max(f.box.width, f.box.height);
      const cv::Point2f c(f.box.x + f.box.width / 2, f.box.y + f.box.height / 2);
      const double s = opt.crop_size / side;
      const cv::Mat m = (cv::Mat_<double>(2, 3) << s, 0, -(c.x - side / 2) * s, 0, s, -(c.y - side / 2) * s);
      cv::Mat crop;
      cv::warpAffine(photo, crop, m, cv::Size(opt.crop_size, opt.crop_size), cv::INTER_AREA, cv::BORDER_REFLECT101);
      const fs::path file = faces_dir / fmt::format("{}_f{:02d}.png", fs::path(e.key).stem().string(), k++);
      io::write_image(file, crop);
      ++summary.faces;
    }
  }
  DegradeOptions d;
  d.images = faces_dir;
  d.out = opt.out / "set";
  d.levels = opt.levels;
  d.detector = opt.detector;
  summary.degraded = generate_degraded_set(d, progress);
  summary.set = d.out / "images";
  return summary;
}

}  // namespace amva::data
