#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "amva/face/alignment.hpp"
#include "amva/face/detector.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/image_list.hpp"
#include "amva/store/store.hpp"
#include "support.hpp"

using namespace amva;

namespace {
struct Found {
  std::string photo;
  face::Face face;
};

std::vector<Found> faces_in_default_photos(face::FaceDetector& detector) {
  std::vector<Found> all;
  for (const auto& e : io::list_images(test::sources_dir())) {
    for (const auto& f : detector.detect(io::load_bgr(e.file))) all.push_back({e.key, f});
  }
  return all;
}
}  // namespace

TEST(Detection, FindsTheFacesOfTheDefaultPhotosLargestFirst) {
  auto detector = face::FaceDetector::create(test::default_detector());
  const auto astronaut = detector->detect(io::load_bgr(test::sources_dir() / "astronaut.png"));
  ASSERT_EQ(astronaut.size(), 1u);
  // Eileen Collins' face in the 512x512 astronaut image lies around (200..270, 70..170).
  EXPECT_NEAR(astronaut[0].box.x + astronaut[0].box.width / 2, 230, 30);
  EXPECT_NEAR(astronaut[0].box.y + astronaut[0].box.height / 2, 120, 35);
  const auto& lm = astronaut[0].landmarks;
  EXPECT_LT(lm[0].x, lm[1].x) << "eye on the image's left first";
  EXPECT_LT(lm[1].y, lm[4].y) << "eyes above the mouth";

  const auto group = detector->detect(io::load_bgr(test::sources_dir() / "sample5.jpg"));
  ASSERT_GE(group.size(), 3u);
  for (std::size_t i = 1; i < group.size(); ++i) EXPECT_GE(group[i - 1].box.area(), group[i].box.area());
}

// Aligned, the detected eyes land on the ArcFace template: averaged over the default faces,
// each eye lies within 1.5 px of its template position. A similarity transform cannot
// remove each face's own shape, pose and expression, so no per-face bound of 1.5 px holds
// for all five points (per face RMS: 4.5 px median here, 3.3 px on LFW); nose and mouth
// move with pose and smiles (the group photos here are posed and smiling: mean offsets of
// about 3 px), and are held to 4 px, which still catches a wrong landmark reduction or
// swapped eyes (offsets of 10 px and more). test_lfw checks all five on LFW.
TEST(Detection, AlignedPointsLandOnTheTemplateOnAverage) {
  auto detector = face::FaceDetector::create(test::default_detector());
  std::vector<face::Landmarks5> detected;
  std::vector<double> residuals;
  for (const auto& f : faces_in_default_photos(*detector)) {
    if (f.face.score < 0.9f || f.face.box.height < 64) continue;  // the faces the demo uses
    detected.push_back(f.face.landmarks);
    residuals.push_back(face::alignment_residual(f.face.landmarks));
  }
  ASSERT_GE(detected.size(), 15u);
  std::sort(residuals.begin(), residuals.end());
  const auto offsets = test::mean_template_offsets(detected);
  std::cout << detected.size() << " faces; per-face RMS residual median " << residuals[residuals.size() / 2]
            << " px; mean offset per point (eyes, nose, mouth):";
  for (double o : offsets) std::cout << ' ' << o;
  std::cout << " px\n";
  EXPECT_LT(offsets[0], 1.5);
  EXPECT_LT(offsets[1], 1.5);
  for (int k = 2; k < 5; ++k) EXPECT_LT(offsets[k], 4.0) << "point " << k;
}

// OpenCV's YuNet (--detector, from ../shared/models) against the default detector, through
// one extraction each of the default photos: the same images get a face, and YuNet's eye and
// mouth points lie near the default detector's (its 68 landmarks reduced to 5 points). The
// two place points by different conventions, and a turned face moves them apart: measured
// here, a median offset of 0.10 inter-eye distances and at most 0.38 (a mouth corner of a
// turned face in sample4.jpg). So every point must lie within half the inter-eye distance (a
// swapped eye or a point on another face lies a whole distance or more away), and the median
// within 0.15.
TEST(Detection, YuNetFindsTheSameFacesAsTheDefaultDetector) {
  const auto yunet = test::shared_dir() / "models" / "face_detection_yunet_2022mar.onnx";
  if (!std::filesystem::exists(yunet)) GTEST_SKIP() << yunet.string() << " is absent (shared research data)";
  test::TempDir dir;
  const auto extract = [&](const std::string& name, const std::string& extra) {
    const auto [rc, out] = test::run(fmt::format("AMVA_CACHE={} {} extract --images {} --out {} --models {} --quiet{}",
                                                 test::jacobian_cache().string(), test::cli().string(),
                                                 test::sources_dir().string(), (dir / name).string(),
                                                 test::models_dir().string(), extra));
    EXPECT_EQ(rc, 0) << out;
    return store::read_store(dir / name).table.records;
  };
  const auto with_default = extract("default", "");
  const auto with_yunet = extract("yunet", " --detector " + yunet.string());
  ASSERT_EQ(with_default.size(), with_yunet.size());
  std::vector<double> offsets;
  for (std::size_t i = 0; i < with_default.size(); ++i) {
    const auto& a = with_default[i];
    const auto& b = with_yunet[i];
    ASSERT_EQ(a.path, b.path);
    EXPECT_EQ(a.ok, b.ok) << a.path << ": " << a.reason << " / " << b.reason;
    if (!a.ok || !b.ok) continue;
    const auto& p = a.detection.landmarks;
    const auto& q = b.detection.landmarks;
    const double eyes = cv::norm(p[1] - p[0]);
    for (const int k : {0, 1, 3, 4}) {  // eyes and mouth corners
      offsets.push_back(cv::norm(p[k] - q[k]) / eyes);
      EXPECT_LT(offsets.back(), 0.5) << a.path << " point " << k << ": " << cv::norm(p[k] - q[k]) << " px, eyes "
                                     << eyes << " px apart";
    }
  }
  ASSERT_GE(offsets.size(), 4u * 7u) << "faces compared";
  std::sort(offsets.begin(), offsets.end());
  const double median = offsets[offsets.size() / 2];
  std::cout << offsets.size() / 4 << " faces compared; offsets in inter-eye distances: median " << median
            << ", largest " << offsets.back() << "\n";
  EXPECT_LT(median, 0.15);
}
