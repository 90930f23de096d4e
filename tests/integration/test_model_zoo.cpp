// Any CNN FR model, shown on the families researchers use: an iResNet (ArcFace, MagFace, AdaFace,
// ElasticFace backbones) exported by torch.onnx.export at opsets 11, 13, 14 and 17, and a plain
// post-activation ResNet at opsets 11 and 17 (tests/models/make_models.py made them, and torch
// autograd's Grad-CAM beside them). Each loads (torch's Identity nodes on shared weights
// folded), gets the last block's output as its target layer, runs every CAM method, and amva's
// Grad-CAM equals torch's.
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>
#include <random>

#include "amva/error.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/npy.hpp"
#include "amva/model/affine_head.hpp"
#include "amva/model/channel_factors.hpp"
#include "amva/model/face_recognizer.hpp"
#include "amva/model/model_card.hpp"
#include "amva/quality/quality_measure.hpp"
#include "support.hpp"

using namespace amva;
namespace fs = std::filesystem;

namespace {
const fs::path kModels = fs::path(AMVA_TEST_SOURCE_DIR) / "tests" / "models";

double pearson(const std::vector<float>& a, const std::vector<float>& b) {
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ma += a[i] / static_cast<double>(a.size());
  for (std::size_t i = 0; i < b.size(); ++i) mb += b[i] / static_cast<double>(b.size());
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) * (a[i] - ma);
    bb += (b[i] - mb) * (b[i] - mb);
  }
  return ab / std::sqrt(aa * bb);
}
}  // namespace

TEST(ModelZoo, TorchExportsAtEveryOpsetGiveTorchsGradCam) {
  const std::vector<std::string> methods = {"gradcam",      "gradcam++", "xgradcam", "layercam",
                                            "contribution", "eigencam",  "scorecam"};
  const std::vector<std::pair<std::string, int>> exports = {{"iresnet", 11}, {"iresnet", 13}, {"iresnet", 14},
                                                            {"iresnet", 17}, {"resnet", 11},  {"resnet", 17}};
  for (const auto& [arch, opset] : exports) {
    SCOPED_TRACE(fmt::format("{} opset {}", arch, opset));
    const auto torch_gradcam = io::read_npy(kModels / fmt::format("torch_gradcam_{}.npy", arch));
    const fs::path card_file = kModels / fmt::format("card_{}_opset{}.json", arch, opset);
    const auto card = model::ModelCard::load(card_file);
    const auto recognizer = model::FaceRecognizer::create(card);
    EXPECT_EQ(recognizer->embedding_size(), 512);
    // The last block's output: its residual Add (iResNet), or the ReLU after it (ResNet).
    EXPECT_NE(recognizer->target_layer().find(arch == "iresnet" ? "Add" : "Relu"), std::string::npos)
        << recognizer->target_layer();

    test::TempDir dir;
    const auto [rc, out] = test::run(fmt::format("{} cam --image {} --aligned --model-card {} --cam {} --out {}",
                                                 test::cli().string(), (kModels / "face.png").string(),
                                                 card_file.string(), fmt::join(methods, ","), dir.path().string()));
    ASSERT_EQ(rc, 0) << out;
    for (const auto& m : methods) {
      const auto map = io::read_npy(dir / "face" / (m + ".npy"));
      ASSERT_EQ(map.shape, (std::vector<std::int64_t>{7, 7})) << m;
      for (float v : map.data) ASSERT_TRUE(std::isfinite(v)) << m;
    }
    const auto gradcam = io::read_npy(dir / "face" / "gradcam.npy");
    EXPECT_GE(pearson(gradcam.data, torch_gradcam.data), 0.999);
    for (std::size_t i = 0; i < gradcam.data.size(); ++i) EXPECT_NEAR(gradcam.data[i], torch_gradcam.data[i], 1e-6);
  }
}

namespace {
// SER-FIQ as its definition states it, in double: 100 passes e_t = J (m_t * a) * 2 + b with the
// measure's masks (mt19937 seeded 29794, keep with probability 0.5, pass by pass), then
// 2 / (1 + exp(mean pairwise distance of the normalised e_t)).
double serfiq_by_definition(const model::AffineHead& head, const float* a) {
  const int k = head.shape().inputs();
  const int d = head.shape().embedding;
  std::mt19937 rng(29794);
  std::bernoulli_distribution keep(0.5);
  std::vector<std::vector<double>> e(100, std::vector<double>(static_cast<std::size_t>(d)));
  std::vector<double> x(static_cast<std::size_t>(k));
  for (auto& pass : e) {
    for (int i = 0; i < k; ++i) x[static_cast<std::size_t>(i)] = keep(rng) ? 2.0 * a[i] : 0.0;
    double norm = 0;
    for (int r = 0; r < d; ++r) {
      double v = head.bias()[static_cast<std::size_t>(r)];
      for (int i = 0; i < k; ++i) v += double(head.jacobian()[static_cast<std::size_t>(r) * k + i]) * x[i];
      pass[static_cast<std::size_t>(r)] = v;
      norm += v * v;
    }
    for (auto& v : pass) v /= std::sqrt(norm);
  }
  double total = 0;
  for (std::size_t s = 0; s < e.size(); ++s)
    for (std::size_t t = s + 1; t < e.size(); ++t) {
      double dist = 0;
      for (int r = 0; r < d; ++r) dist += (e[s][r] - e[t][r]) * (e[s][r] - e[t][r]);
      total += std::sqrt(dist);
    }
  return 2.0 / (1.0 + std::exp(total / (100 * 99 / 2.0)));
}
}  // namespace

// A head whose Jacobian factors by channel (the default MobileFaceNet's global depthwise
// convolution) runs SER-FIQ through the factors; a flatten and fully connected head (both
// torch exports here) does not factor and runs the dense product. Either way the score is the
// definition's.
TEST(ModelZoo, SerFiqEqualsItsDefinitionWithAndWithoutChannelFactors) {
  const std::vector<std::pair<std::string, bool>> models = {
      {"default", true}, {"card_resnet_opset17.json", false}, {"card_iresnet_opset17.json", false}};
  const auto serfiq = quality::QualityRegistry::instance().create("serfiq");
  for (const auto& [name, factors] : models) {
    SCOPED_TRACE(name);
    const auto card = name == "default" ? test::card() : model::ModelCard::load(kModels / name);
    const auto rec = model::FaceRecognizer::create(card);
    cv::Mat face;
    cv::resize(io::load_bgr(kModels / "face.png"), face, cv::Size(card.input_width, card.input_height));
    const auto out = rec->forward({face}, {rec->target_layer()});
    const cv::Mat& a = out.activations.front();
    test::TempDir cache;
    const auto head =
        model::AffineHead::extract(card, rec->model_sha256(), rec->target_layer(),
                                   {a.size[1], a.size[2], a.size[3], rec->embedding_size()}, cache.path());
    EXPECT_EQ(head->channel_factors() != nullptr, factors);
    if (const auto* f = head->channel_factors()) {
      // U s reproduces J.
      const int k = head->shape().inputs();
      double worst = 0, scale = 0;
      for (int r = 0; r < f->embedding; ++r)
        for (int i = 0; i < k; ++i) {
          const int c = i / f->positions;
          const double j = head->jacobian()[static_cast<std::size_t>(r) * k + i];
          worst = std::max(worst, std::abs(j - double(f->mix[static_cast<std::size_t>(r) * f->channels + c]) *
                                                   f->spatial[static_cast<std::size_t>(i)]));
          scale = std::max(scale, std::abs(j));
        }
      EXPECT_LE(worst, 1e-5 * scale);
    }
    face::FaceContext in;
    in.activations = a.ptr<float>();
    in.head = head.get();
    EXPECT_NEAR(serfiq->score(in), serfiq_by_definition(*head, a.ptr<float>()), 1e-6);
  }
}

// On a made-up J: blocks of rank one are found and reproduced; one changed entry makes its
// channel's block rank two, and the head no longer factors.
TEST(ChannelFactors, RankOneBlocksFactorAndOthersDoNot) {
  const model::HeadShape shape{6, 2, 3, 5};
  const int k = shape.inputs();
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> u(static_cast<std::size_t>(shape.embedding * shape.channels)), s(static_cast<std::size_t>(k));
  for (auto& v : u) v = normal(rng);
  for (auto& v : s) v = normal(rng);
  std::vector<float> j(static_cast<std::size_t>(shape.embedding) * k);
  for (int r = 0; r < shape.embedding; ++r)
    for (int i = 0; i < k; ++i)
      j[static_cast<std::size_t>(r) * k + i] = u[static_cast<std::size_t>(r * shape.channels + i / 6)] * s[i];
  const auto f = model::factor_by_channel(j, shape);
  ASSERT_TRUE(f);
  for (int r = 0; r < shape.embedding; ++r)
    for (int i = 0; i < k; ++i)
      EXPECT_NEAR(f->mix[static_cast<std::size_t>(r * shape.channels + i / 6)] * f->spatial[i],
                  j[static_cast<std::size_t>(r) * k + i], 1e-5);
  j[static_cast<std::size_t>(2) * k + 13] += 0.5f;
  EXPECT_FALSE(model::factor_by_channel(j, shape));
  EXPECT_THROW((void)model::factor_by_channel(std::vector<float>(3), shape), Error);
}
