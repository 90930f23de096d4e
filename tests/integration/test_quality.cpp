// Built-in FIQA measures: independent references (NumPy), properties that must hold on
// controlled degradations of real faces, and quality.csv written for a store.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/quality/qualitybrisque.hpp>

#include "amva/data/default_data.hpp"
#include "amva/data/degradations.hpp"
#include "amva/face/alignment.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/npy.hpp"
#include "amva/model/face_recognizer.hpp"
#include "amva/pipeline/extract.hpp"
#include "amva/pipeline/quality.hpp"
#include "amva/quality/quality_measure.hpp"
#include "support.hpp"

using namespace amva;

namespace {
// Debian's opencv-data: where brisque finds its model files by default.
constexpr const char* kDebianBrisqueDir = "/usr/share/opencv4/quality";

struct Face {
  cv::Mat image;
  face::Face detection;
  cv::Mat aligned;
};

Face grace() {
  auto detector = face::FaceDetector::create(test::default_detector());
  Face f;
  f.image = io::load_bgr(test::sources_dir() / "grace_hopper.jpg");
  f.detection = detector->detect(f.image).front();
  f.aligned = face::align_face(f.image, f.detection.landmarks);
  return f;
}

double score(const std::string& name, const cv::Mat& aligned) {
  face::FaceContext in;
  in.aligned = &aligned;
  return quality::QualityRegistry::instance().create(name)->score(in);
}
}  // namespace

TEST(Quality, RegistryKnowsTheBuiltInsAndRefusesOthers) {
  const auto names = quality::QualityRegistry::instance().names();
  for (const char* n : {"brisque", "serfiq", "magnitude", "sharpness", "brightness", "contrast", "face_size"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
    EXPECT_FALSE(quality::QualityRegistry::instance().create(n)->description().empty());
  }
  EXPECT_THROW((void)quality::QualityRegistry::instance().create("ofiq"), Error);
}

// What a study across models scores once (image measures) and per model (the embedding's).
TEST(Quality, RegistryTraitsAreEachMeasuresOwn) {
  const auto& registry = quality::QualityRegistry::instance();
  for (const auto& name : registry.names()) {
    const auto measure = registry.create(name);
    const auto traits = registry.traits(name);
    EXPECT_EQ(traits.needs_activations, measure->needs_activations()) << name;
    EXPECT_EQ(traits.uses_model, measure->uses_model()) << name;
    EXPECT_EQ(traits.negated, measure->negated()) << name;
    const bool embedding = name == "serfiq" || name == "magnitude";
    EXPECT_EQ(traits.uses_model, embedding) << name;
  }
  EXPECT_TRUE(registry.traits("brisque").negated);
}

TEST(Quality, ImageMeasuresMatchNumpy) {
  test::TempDir dir;
  const Face f = grace();
  cv::Mat gray;
  cv::cvtColor(f.aligned, gray, cv::COLOR_BGR2GRAY);
  cv::Mat gray_f;
  gray.convertTo(gray_f, CV_32F);
  io::write_npy(dir / "g.npy", {112, 112}, gray_f.ptr<float>());
  const double sharp = score("sharpness", f.aligned);
  const double bright = score("brightness", f.aligned);
  const double contrast = score("contrast", f.aligned);
  // The Laplacian with OpenCV's 3x3 kernel and reflect-101 border, in NumPy.
  const auto [rc, out] =
      test::run(fmt::format("{} -c \"import numpy as n; g=n.load('{}').astype(n.float64); p=n.pad(g,1,mode='reflect'); "
                            "l=p[:-2,1:-1]+p[2:,1:-1]+p[1:-1,:-2]+p[1:-1,2:]-4*g; print(l.var(), g.mean(), g.std())\"",
                            test::python(), (dir / "g.npy").string()));
  ASSERT_EQ(rc, 0) << out;
  std::istringstream s(out);
  double ref_sharp, ref_bright, ref_contrast;
  s >> ref_sharp >> ref_bright >> ref_contrast;
  EXPECT_NEAR(sharp, ref_sharp, 1e-6 * ref_sharp);
  EXPECT_NEAR(bright, ref_bright, 1e-9);
  EXPECT_NEAR(contrast, ref_contrast, 1e-9);
}

// On controlled degradations of a real face, each measure moves the way it must.
TEST(Quality, MeasuresFollowControlledDegradations) {
  const Face f = grace();
  const auto at = [&](const std::string& kind, int level, double parameter) {
    const cv::Mat d = data::degrade(f.image, {kind, level, parameter, ""}, f.detection.landmarks, 1);
    return face::align_face(d, f.detection.landmarks);
  };
  EXPECT_GT(score("sharpness", f.aligned), score("sharpness", at("gaussian_blur", 1, 1.5)));
  EXPECT_GT(score("sharpness", at("gaussian_blur", 1, 1.5)), score("sharpness", at("gaussian_blur", 3, 6)));
  EXPECT_GT(score("brightness", f.aligned), score("brightness", at("underexposure", 2, 0.3)));
  EXPECT_GT(score("contrast", f.aligned), score("contrast", at("underexposure", 3, 0.15)));
  EXPECT_GT(score("brisque", f.aligned), score("brisque", at("noise", 3, 50)));
  EXPECT_GT(score("brisque", f.aligned), score("brisque", at("gaussian_blur", 3, 6)));
  // brisque is negated (higher is better): a clean photo's BRISQUE lies well above 0 (14.9
  // for this face), so its score lies below -5; a lost negation would flip the sign.
  EXPECT_LT(score("brisque", f.aligned), -5.0) << "negated BRISQUE";
}

// brisque is OpenCV's BRISQUE without its clamp to [0, 100]: equal to QualityBRISQUE wherever
// that lies inside (0, 100), and beyond the bound on the same side where OpenCV clamps (on
// real 112x112 faces, clamped scores tie and let file order pick a group).
TEST(Quality, BrisqueIsOpenCvsScoreUnclamped) {
  const Face f = grace();
  const auto dir = std::string(kDebianBrisqueDir);
  const auto opencv = [&](const cv::Mat& m) {
    return cv::quality::QualityBRISQUE::compute(m, dir + "/brisque_model_live.yml", dir + "/brisque_range_live.yml")[0];
  };
  std::vector<cv::Mat> inside = {f.aligned};
  for (const auto& [kind, parameter] : std::vector<std::pair<std::string, double>>{
           {"gaussian_blur", 1.5}, {"gaussian_blur", 4}, {"noise", 20}, {"noise", 50}, {"jpeg", 10}}) {
    const cv::Mat d = data::degrade(f.image, {kind, 2, parameter, ""}, f.detection.landmarks, 1);
    inside.push_back(face::align_face(d, f.detection.landmarks));
  }
  for (const auto& m : inside) {
    const double ref = opencv(m);
    ASSERT_GT(ref, 0.0);
    ASSERT_LT(ref, 100.0);
    EXPECT_NEAR(-score("brisque", m), ref, 1e-4 * std::max(1.0, ref));
  }
  // A checkerboard is "worse" than anything in the LIVE data: OpenCV clamps it to 100, amva
  // keeps its value (about 150). A grey ramp has undefined features (a degenerate AGGD fit gives
  // NaN, the SVR infinity, which OpenCV also shows as 100): amva gives NaN, no score.
  cv::Mat ramp(112, 112, CV_8UC3), checker(112, 112, CV_8UC3);
  for (int r = 0; r < 112; ++r) {
    for (int c = 0; c < 112; ++c) {
      ramp.at<cv::Vec3b>(r, c) = cv::Vec3b::all(static_cast<std::uint8_t>(c * 255 / 111));
      checker.at<cv::Vec3b>(r, c) = cv::Vec3b::all(((r / 8 + c / 8) % 2) ? 255 : 0);
    }
  }
  EXPECT_EQ(opencv(checker), 100.0);
  EXPECT_GT(-score("brisque", checker), 100.0);
  EXPECT_EQ(opencv(ramp), 100.0);
  EXPECT_TRUE(std::isnan(score("brisque", ramp)));
  EXPECT_TRUE(quality::QualityRegistry::instance().create("brisque")->negated());
  EXPECT_FALSE(quality::QualityRegistry::instance().create("sharpness")->negated());
}

// A measure with a model of its own reads it from its configuration, never from the
// environment: the same files elsewhere give the same score, and a folder without them is
// refused, naming it.
TEST(Quality, BrisqueReadsItsModelFromItsConfiguration) {
  test::TempDir dir;
  const auto debian = std::filesystem::path(kDebianBrisqueDir);
  std::filesystem::create_directories(dir / "brisque");
  for (const char* f : {"brisque_model_live.yml", "brisque_range_live.yml"}) {
    std::filesystem::copy_file(debian / f, dir / "brisque" / f);
  }
  const Face f = grace();
  face::FaceContext in;
  in.aligned = &f.aligned;
  const auto& registry = quality::QualityRegistry::instance();
  EXPECT_EQ(registry.create("brisque", {{"model_dir", (dir / "brisque").string()}})->score(in),
            registry.create("brisque")->score(in));
  std::filesystem::create_directories(dir / "empty");
  try {
    (void)registry.create("brisque", {{"model_dir", (dir / "empty").string()}});
    ADD_FAILURE() << "a folder without BRISQUE's files was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotFound);
    EXPECT_NE(std::string(e.what()).find((dir / "empty").string()), std::string::npos) << e.what();
  }
  // The setting is brisque's own, declared with it; the CLI fills it from $AMVA_BRISQUE_DIR.
  ASSERT_EQ(registry.settings("brisque").size(), 1u);
  EXPECT_EQ(registry.settings("brisque")[0].env, "AMVA_BRISQUE_DIR");
  EXPECT_TRUE(registry.settings("sharpness").empty());
  EXPECT_THROW((void)registry.create("brisque", {{"model_dir", 3}}), Error);
  EXPECT_THROW((void)registry.create("sharpness", {{"model_dir", (dir / "brisque").string()}}), Error);
  cv::imwrite((dir / "face.png").string(), f.aligned);
  const auto extract = [&](const std::filesystem::path& brisque, const std::string& out) {
    return test::run(fmt::format("AMVA_BRISQUE_DIR={} {}", brisque.string(),
                                 test::amva_cmd(fmt::format("extract --images {} --aligned --quality brisque --out {} "
                                                            "--quiet",
                                                            (dir / "face.png").string(), (dir / out).string()))));
  };
  const auto [refused, message] = extract(dir / "empty", "refused");
  EXPECT_NE(refused, 0);
  EXPECT_NE(message.find((dir / "empty").string()), std::string::npos) << message;
  EXPECT_EQ(extract(dir / "brisque", "scored").first, 0);
  EXPECT_TRUE(std::filesystem::exists(dir / "scored" / "quality.csv"));
}

TEST(Quality, StoreGetsQualityCsvAndSerFiqPrefersCleanFaces) {
  test::TempDir dir;
  // The default faces (one crop per face in the source photos) and a strong blur of each.
  data::DefaultDataOptions d;
  d.sources = test::sources_dir();
  d.out = dir / "data";
  d.levels = 1;
  d.detector = test::default_detector();
  const auto prepared = data::prepare_default_data(d);
  ASSERT_GE(prepared.faces, 15u);
  std::filesystem::create_directories(dir / "set");
  for (const auto& e : std::filesystem::directory_iterator(dir / "data" / "faces")) {
    const cv::Mat crop = io::load_bgr(e.path());
    cv::Mat blurred;
    cv::GaussianBlur(crop, blurred, cv::Size(), 6.0);
    cv::imwrite((dir / "set" / e.path().filename()).string(), crop);
    cv::imwrite((dir / "set" / (e.path().stem().string() + "__gaussian_blur_3.png")).string(), blurred);
  }
  pipeline::ExtractOptions o;
  o.images = dir / "set";
  o.out = dir / "store";
  o.card = test::card();
  o.detector = test::default_detector();
  o.cache_dir = test::jacobian_cache();
  pipeline::extract(o);

  pipeline::QualityOptions q;
  q.store = dir / "store";
  q.methods = {"magnitude", "face_size"};
  q.card = test::card();
  q.cache_dir = test::jacobian_cache();
  pipeline::compute_quality(q);
  q.methods = {"serfiq"};
  const auto s = pipeline::compute_quality(q);
  EXPECT_EQ(s.columns, (std::vector<std::string>{"id", "path", "face_size", "magnitude", "serfiq"}))
      << "a second run keeps the first run's columns";

  const auto csv = io::read_csv(dir / "store" / "quality.csv");
  const auto store = store::read_store(dir / "store");
  ASSERT_EQ(csv.rows.size(), store.table.records.size());
  double clean = 0, blurred = 0;
  int n_clean = 0, n_blurred = 0;
  for (std::size_t i = 0; i < csv.rows.size(); ++i) {
    const auto& r = store.table.records[i];
    if (!r.ok) continue;
    const double serfiq = std::stod(csv.rows[i][csv.column("serfiq")]);
    EXPECT_GT(serfiq, 0.0);
    EXPECT_LE(serfiq, 1.0);
    const auto& e = store.table.arrays.at("embeddings");
    double norm = 0;
    for (std::size_t k = 0; k < e.row_size(); ++k) norm += double(e.row(i)[k]) * e.row(i)[k];
    EXPECT_NEAR(std::stod(csv.rows[i][csv.column("magnitude")]), std::sqrt(norm), 1e-5 * std::sqrt(norm));
    if (r.path.find("__") == std::string::npos) {
      clean += serfiq;
      ++n_clean;
    } else if (r.path.find("gaussian_blur_3") != std::string::npos) {
      blurred += serfiq;
      ++n_blurred;
    }
  }
  ASSERT_GT(n_clean, 0);
  ASSERT_GT(n_blurred, 0);
  std::cout << "mean serfiq: originals " << clean / n_clean << ", strongest blur " << blurred / n_blurred << "\n";
  EXPECT_GT(clean / n_clean, blurred / n_blurred);
}

// One pass (issue 16): scored inside extraction, quality.csv is the very file a second pass
// over the store writes, byte for byte; an interrupted extraction's faces are re-read when
// the run is resumed, and the result is still the same file.
TEST(Quality, ScoresOfTheExtractionPassEqualASecondPass) {
  test::TempDir dir;
  const std::vector<std::string> methods = {"serfiq", "brisque", "magnitude", "sharpness", "face_size"};
  pipeline::ExtractOptions o;
  o.images = test::sources_dir();
  o.card = test::card();
  o.detector = test::default_detector();
  o.cache_dir = test::jacobian_cache();
  o.cams = {"gradcam"};
  o.all_faces = true;  // several faces of one image: the (path, face) keys must hold
  o.out = dir / "two_pass";
  pipeline::extract(o);
  pipeline::QualityOptions q;
  q.store = o.out;
  q.methods = methods;
  q.card = o.card;
  q.cache_dir = o.cache_dir;
  const auto second = pipeline::compute_quality(q);
  EXPECT_EQ(second.rescored, second.scored);

  o.out = dir / "one_pass";
  o.quality = methods;
  const auto one = pipeline::extract(o);
  ASSERT_TRUE(one.quality.has_value());
  EXPECT_EQ(one.quality->rescored, 0u);
  EXPECT_EQ(io::read_text(dir / "one_pass" / "quality.csv"), io::read_text(dir / "two_pass" / "quality.csv"));

  o.out = dir / "resumed";
  o.shard_size = 3;
  o.stop_after_shards = 1;
  const auto first = pipeline::extract(o);
  EXPECT_FALSE(first.finished);
  EXPECT_FALSE(first.quality.has_value());
  o.stop_after_shards.reset();
  const auto rest = pipeline::extract(o);
  ASSERT_TRUE(rest.quality.has_value());
  EXPECT_GT(rest.quality->rescored, 0u);
  EXPECT_LT(rest.quality->rescored, rest.quality->scored);
  EXPECT_EQ(io::read_text(dir / "resumed" / "quality.csv"), io::read_text(dir / "two_pass" / "quality.csv"));
}
