// Any CNN FR model, shown on the families researchers use: an iResNet (ArcFace, MagFace, AdaFace,
// ElasticFace backbones) exported by torch.onnx.export at opsets 11, 13, 14 and 17, and a plain
// post-activation ResNet at opsets 11 and 17 (tests/models/make_models.py made them, and torch
// autograd's Grad-CAM beside them). Each loads (torch's Identity nodes on shared weights
// folded), gets the last block's output as its target layer, runs every CAM method, and amva's
// Grad-CAM equals torch's.
#include <gtest/gtest.h>

#include <cmath>

#include "amva/io/npy.hpp"
#include "amva/model/face_recognizer.hpp"
#include "amva/model/model_card.hpp"
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
