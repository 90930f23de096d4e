#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "amva/error.hpp"
#include "amva/face/alignment.hpp"
#include "amva/face/detector.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/image_list.hpp"
#include "amva/model/face_recognizer.hpp"
#include "support.hpp"

using namespace amva;

namespace {
// The largest face of every default photo, aligned.
const std::vector<cv::Mat>& default_aligned_faces() {
  static const std::vector<cv::Mat> faces = [] {
    auto detector = face::FaceDetector::create(test::default_detector());
    std::vector<cv::Mat> out;
    for (const auto& e : io::list_images(test::sources_dir())) {
      const cv::Mat img = io::load_bgr(e.file);
      const auto found = detector->detect(img);
      if (!found.empty()) out.push_back(face::align_face(img, found.front().landmarks));
    }
    return out;
  }();
  return faces;
}

double cosine(const cv::Mat& a, const cv::Mat& b) {
  return a.dot(b) / (cv::norm(a) * cv::norm(b));
}

std::filesystem::path write_card(const test::TempDir& dir, const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j = nlohmann::json::parse(io::read_text(test::cards_dir() / "default.json"));
  j["file"] = (test::models_dir() / "fr_feature.onnx").string();
  edit(j);
  const auto file = dir / "card.json";
  std::ofstream(file) << j.dump();
  return file;
}

std::string model_error(const std::filesystem::path& card_file) {
  try {
    model::FaceRecognizer::create(model::ModelCard::load(card_file));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(FaceRecognizer, PreprocessingFollowsTheCardExactly) {
  test::TempDir dir;
  cv::Mat face(112, 112, CV_8UC3);
  cv::randu(face, 0, 256);
  const cv::Vec3b px = face.at<cv::Vec3b>(5, 7);  // B, G, R

  auto bgr = model::FaceRecognizer::create(test::card());
  const cv::Mat blob = bgr->preprocess({face});
  ASSERT_EQ(blob.size[0], 1);
  ASSERT_EQ(blob.size[1], 3);
  for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(blob.ptr<float>(0, c)[5 * 112 + 7], (px[c] - 127.0f) / 128.0f);

  const auto rgb_card = write_card(dir, [](nlohmann::json& j) {
    j["input"]["channel_order"] = "RGB";
    j["input"]["mean"] = {123.675, 116.28, 103.53};
    j["input"]["std"] = {58.395, 57.12, 57.375};
  });
  auto rgb = model::FaceRecognizer::create(model::ModelCard::load(rgb_card));
  const cv::Mat blob2 = rgb->preprocess({face});
  EXPECT_NEAR(blob2.ptr<float>(0, 0)[5 * 112 + 7], (px[2] - 123.675) / 58.395, 1e-5);  // R first
  EXPECT_NEAR(blob2.ptr<float>(0, 2)[5 * 112 + 7], (px[0] - 103.53) / 57.375, 1e-5);
}

TEST(FaceRecognizer, EmbeddingDoesNotDependOnBatchSize) {
  auto rec = model::FaceRecognizer::create(test::card());
  const auto& faces = default_aligned_faces();
  ASSERT_GE(faces.size(), 5u);
  const cv::Mat together = rec->forward(faces).embeddings;
  ASSERT_EQ(together.cols, 512);
  for (std::size_t i = 0; i < faces.size(); ++i) {
    const cv::Mat alone = rec->forward({faces[i]}).embeddings;
    EXPECT_LT(cv::norm(alone, together.row(static_cast<int>(i)), cv::NORM_INF), 1e-4) << "face " << i;
  }
}

TEST(FaceRecognizer, SamePersonIsCloserThanOthers) {
  auto rec = model::FaceRecognizer::create(test::card());
  const auto& faces = default_aligned_faces();
  cv::Mat blurred;
  cv::GaussianBlur(faces[0], blurred, cv::Size(), 1.0);
  cv::Mat flipped;
  cv::flip(faces[0], flipped, 1);
  const cv::Mat e = rec->forward({faces[0], blurred, flipped, faces[1], faces[2]}).embeddings;
  EXPECT_GT(cosine(e.row(0), e.row(1)), 0.8);
  EXPECT_GT(cosine(e.row(0), e.row(2)), 0.6);
  EXPECT_LT(cosine(e.row(0), e.row(3)), 0.4);
  EXPECT_LT(cosine(e.row(0), e.row(4)), 0.4);
}

TEST(FaceRecognizer, ReturnsRequestedActivations) {
  auto rec = model::FaceRecognizer::create(test::card());
  const auto r = rec->forward({default_aligned_faces()[0], default_aligned_faces()[1]}, {"507"});  // PRelu_92
  ASSERT_EQ(r.activations.size(), 1u);
  const cv::Mat& a = r.activations[0];
  ASSERT_EQ(a.dims, 4);
  EXPECT_EQ(a.size[0], 2);
  EXPECT_EQ(a.size[1], 512);
  EXPECT_EQ(a.size[2], 7);
  EXPECT_EQ(a.size[3], 7);
}

TEST(FaceRecognizer, CardThatDoesNotMatchTheModelIsRefusedWithTheReason) {
  test::TempDir dir;
  auto err = model_error(write_card(dir, [](nlohmann::json& j) { j["input"]["name"] = "data"; }));
  EXPECT_NE(err.find("input.name 'data'"), std::string::npos) << err;
  EXPECT_NE(err.find("it has: input"), std::string::npos) << err;

  err = model_error(write_card(dir, [](nlohmann::json& j) { j["input"]["width"] = 96; }));
  EXPECT_NE(err.find("96x112"), std::string::npos) << err;

  err = model_error(write_card(dir, [](nlohmann::json& j) { j["embedding_output"] = "fc1"; }));
  EXPECT_NE(err.find("embedding_output 'fc1'"), std::string::npos) << err;

  err = model_error(write_card(dir, [](nlohmann::json& j) { j["sha256"] = std::string(64, '0'); }));
  EXPECT_NE(err.find("does not match"), std::string::npos) << err;

  std::ofstream(dir / "corrupt.onnx") << "definitely not protobuf";
  err = model_error(write_card(dir, [&](nlohmann::json& j) {
    j["file"] = (dir / "corrupt.onnx").string();
    j.erase("sha256");
  }));
  EXPECT_NE(err.find("corrupt.onnx"), std::string::npos) << err;

  std::ofstream(dir / "broken.json") << "{\"name\": ";
  EXPECT_THROW(model::ModelCard::load(dir / "broken.json"), Error);
}

TEST(FaceRecognizer, SharedMobileFaceNetsRunFromTheirCards) {
  AMVA_REQUIRE_SHARED();
  for (const char* name : {"paddlex_mobilefacenet128", "foamliu_mobilefacenet128"}) {
    auto rec = model::FaceRecognizer::create(test::card(name));
    const auto& faces = default_aligned_faces();
    const cv::Mat e = rec->forward({faces[0], faces[1], faces[2]}).embeddings;
    EXPECT_EQ(e.cols, 128) << name;
    EXPECT_LT(cv::norm(rec->forward({faces[1]}).embeddings, e.row(1), cv::NORM_INF), 1e-4) << name;
  }
}
