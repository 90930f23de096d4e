// Activation maps against independent references: the full network, finite differences
// through the head network, the decomposition identity, and NumPy implementations of
// pytorch-grad-cam's formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <numeric>
#include <opencv2/imgproc.hpp>

#include "amva/cam/cam_method.hpp"
#include "amva/error.hpp"
#include "amva/face/alignment.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/npy.hpp"
#include "amva/model/affine_head.hpp"
#include "amva/model/face_recognizer.hpp"
#include "amva/model/onnx_graph.hpp"
#include "amva/pipeline/extract.hpp"
#include "support.hpp"

using namespace amva;

namespace {

std::vector<cv::Mat> some_faces() {
  auto detector = face::FaceDetector::create(test::default_detector());
  std::vector<cv::Mat> faces;
  for (const char* name : {"grace_hopper.jpg", "astronaut.png", "sample1.jpg"}) {
    const cv::Mat img = io::load_bgr(test::sources_dir() / name);
    faces.push_back(face::align_face(img, detector->detect(img).front().landmarks));
  }
  return faces;
}

struct Model {
  std::unique_ptr<model::FaceRecognizer> rec;
  std::shared_ptr<const model::AffineHead> head;
  model::HeadShape shape;
};

Model load(const model::ModelCard& card, const std::filesystem::path& cache) {
  Model m;
  m.rec = model::FaceRecognizer::create(card);
  const cv::Mat probe(112, 112, CV_8UC3, cv::Scalar::all(0));
  const cv::Mat a = m.rec->forward({probe}, {m.rec->target_layer()}).activations.front();
  m.shape = {a.size[1], a.size[2], a.size[3], m.rec->embedding_size()};
  m.head = model::AffineHead::extract(card, m.rec->model_sha256(), m.rec->target_layer(), m.shape, cache);
  return m;
}

// Max abs difference between the head's reconstruction (J a + b and the head network) and the
// full model's embedding.
double head_reconstruction_error(const Model& m, const std::vector<cv::Mat>& faces) {
  const auto r = m.rec->forward(faces, {m.rec->target_layer()});
  const std::size_t k = static_cast<std::size_t>(m.shape.inputs());
  const cv::Mat net = m.head->run_network(r.activations.front());
  double worst = 0;
  std::vector<float> e(static_cast<std::size_t>(m.shape.embedding));
  for (std::size_t i = 0; i < faces.size(); ++i) {
    m.head->apply(r.activations.front().ptr<float>() + i * k, e.data());
    for (int j = 0; j < m.shape.embedding; ++j) {
      const float full = r.embeddings.at<float>(static_cast<int>(i), j);
      worst = std::max(
          {worst, std::abs(double(e[j]) - full), std::abs(double(net.at<float>(static_cast<int>(i), j)) - full)});
    }
  }
  return worst;
}

class CamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new Model(load(test::card(), test::jacobian_cache()));
    faces_ = new std::vector<cv::Mat>(some_faces());
  }
  static void TearDownTestSuite() {
    delete model_;
    delete faces_;
  }
  // Activations, embedding and input of one face, with a CamInput over them.
  struct One {
    cv::Mat blob, activations, embedding;
    cam::CamInput in;
  };
  static One one(const cv::Mat& face, const cam::Target* target) {
    One o;
    o.blob = model_->rec->preprocess({face});
    const auto r = model_->rec->forward_blob(o.blob, {model_->rec->target_layer()});
    o.activations = r.activations.front();
    o.embedding = r.embeddings;
    o.in.activations = o.activations.ptr<float>();
    o.in.embedding = o.embedding.ptr<float>();
    o.in.shape = model_->shape;
    o.in.head = model_->head.get();
    o.in.target = target;
    o.in.input = &o.blob;
    o.in.embed = [](const cv::Mat& batch) { return model_->rec->forward_blob(batch).embeddings; };
    return o;
  }
  static Model* model_;
  static std::vector<cv::Mat>* faces_;
};
Model* CamTest::model_ = nullptr;
std::vector<cv::Mat>* CamTest::faces_ = nullptr;

}  // namespace

TEST(TargetLayer, LastNonLinearityBeforeTheEmbedding) {
  EXPECT_EQ(model::FaceRecognizer::create(test::card())->target_layer(), "507");  // output of PRelu_92
  const auto graph = model::OnnxGraph::load(test::models_dir() / "fr_feature.onnx");
  EXPECT_EQ(graph.nodes()[*graph.producer("507")].name, "PRelu_92");
}

TEST(TargetLayer, SharedMobileFaceNets) {
  AMVA_REQUIRE_SHARED();
  EXPECT_EQ(model::FaceRecognizer::create(test::card("paddlex_mobilefacenet128"))->target_layer(), "prelu_32.tmp_0");
  EXPECT_EQ(model::FaceRecognizer::create(test::card("foamliu_mobilefacenet128"))->target_layer(),
            "/conv2/conv2.2/Clip_output_0");
}

TEST_F(CamTest, HeadReproducesTheFullModelsEmbedding) {
  const double err = head_reconstruction_error(*model_, *faces_);
  std::cout << "default model: head reconstruction max abs error " << err << ", affinity error "
            << model_->head->affinity_error() << "\n";
  EXPECT_LT(err, 1e-4);
}

TEST(HeadReconstruction, SharedMobileFaceNets) {
  AMVA_REQUIRE_SHARED();
  for (const char* name : {"paddlex_mobilefacenet128", "foamliu_mobilefacenet128"}) {
    const Model m = load(test::card(name), test::jacobian_cache());
    const double err = head_reconstruction_error(m, some_faces());
    std::cout << name << ": head reconstruction max abs error " << err << "\n";
    EXPECT_LT(err, 1e-4) << name;
  }
}

// J probed into an empty cache, then read back from it: the same numbers.
TEST_F(CamTest, JacobianCacheIsReused) {
  const test::TempDir cache;
  const auto probed =
      model::AffineHead::extract(test::card(), model_->rec->model_sha256(), "507", model_->shape, cache.path());
  ASSERT_FALSE(std::filesystem::is_empty(cache.path())) << "the probe wrote its cache";
  const auto again =
      model::AffineHead::extract(test::card(), model_->rec->model_sha256(), "507", model_->shape, cache.path());
  EXPECT_EQ(again->jacobian(), probed->jacobian());
  EXPECT_EQ(again->bias(), probed->bias());
  EXPECT_EQ(again->jacobian(), model_->head->jacobian());
}

TEST_F(CamTest, GradientsAgreeWithFiniteDifferencesThroughTheHeadNetwork) {
  const auto o = one((*faces_)[0], nullptr);
  std::vector<float> reference(static_cast<std::size_t>(model_->shape.embedding));
  const auto other = one((*faces_)[1], nullptr);
  std::copy_n(other.embedding.ptr<float>(), reference.size(), reference.begin());
  const auto target = cam::make_reference_target(reference, "face 1");

  const int d = model_->shape.embedding;
  std::vector<float> dt_de(static_cast<std::size_t>(d));
  target->gradient(o.embedding.ptr<float>(), o.embedding.ptr<float>(), d, dt_de.data());
  std::vector<float> grads(static_cast<std::size_t>(model_->shape.inputs()));
  model_->head->transpose_apply(dt_de.data(), grads.data());

  const float h = 1e-2f;
  double worst = 0, scale = 0;
  for (int idx : {0, 17, 1000, 5000, 12345, 20000, 25087}) {
    cv::Mat plus = o.activations.clone();
    cv::Mat minus = o.activations.clone();
    plus.ptr<float>()[idx] += h;
    minus.ptr<float>()[idx] -= h;
    const cv::Mat ep = model_->head->run_network(plus);
    const cv::Mat em = model_->head->run_network(minus);
    const double fd =
        (target->value(ep.ptr<float>(), nullptr, d) - target->value(em.ptr<float>(), nullptr, d)) / (2 * h);
    worst = std::max(worst, std::abs(fd - grads[idx]));
    scale = std::max(scale, std::abs(double(grads[idx])));
  }
  EXPECT_LT(worst, 1e-3 * scale + 1e-6) << "largest gradient " << scale;
}

TEST_F(CamTest, ContributionSumsToNormMinusBias) {
  const auto method = cam::CamMethod::create("contribution");
  const auto projection = cam::Target::create(method->default_target());
  for (const auto& face : *faces_) {
    const auto o = one(face, projection.get());
    const cv::Mat map = method->compute(o.in);
    const int d = model_->shape.embedding;
    const float* e = o.embedding.ptr<float>();
    const double norm = std::sqrt(std::inner_product(e, e + d, e, 0.0));
    double u_dot_b = 0;
    for (int j = 0; j < d; ++j) u_dot_b += e[j] / norm * model_->head->bias()[j];
    EXPECT_NEAR(cv::sum(map)[0], norm - u_dot_b, 1e-4 * norm) << "|e| = " << norm;
  }
}

TEST_F(CamTest, GradientMethodsRefuseAVanishingTarget) {
  const auto self_cosine = cam::Target::create("self-cosine");
  const auto o = one((*faces_)[0], self_cosine.get());
  try {
    (void)cam::CamMethod::create("gradcam")->compute(o.in);
    FAIL() << "self-cosine has no gradient at the image itself";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("projection"), std::string::npos) << e.what();
  }
}

TEST_F(CamTest, MapsAreFiniteOnBlackWhiteConstantAndNoiseImages) {
  const PluginConfig scorecam = {{"channels", 64}};  // keeps the test short; all channels run in ScoreCamMatchesNumpy
  cv::Mat noise(112, 112, CV_8UC3);
  cv::randu(noise, 0, 256);
  for (const cv::Mat& image :
       {cv::Mat(112, 112, CV_8UC3, cv::Scalar::all(0)), cv::Mat(112, 112, CV_8UC3, cv::Scalar::all(255)),
        cv::Mat(112, 112, CV_8UC3, cv::Scalar(127, 127, 127)), noise}) {
    for (const auto& name : cam::CamMethod::names()) {
      const auto method = cam::CamMethod::create(name, name == "scorecam" ? scorecam : PluginConfig());
      const auto target = method->default_target() == "none" ? nullptr : cam::Target::create(method->default_target());
      const auto o = one(image, target.get());
      const cv::Mat map = method->compute(o.in);
      ASSERT_EQ(map.size(), cv::Size(7, 7)) << name;
      EXPECT_TRUE(cv::checkRange(map)) << name << " gives NaN or inf";
    }
  }
}

// An independent NumPy implementation of pytorch-grad-cam's Grad-CAM (weights: mean of the
// gradients over positions; ReLU of the weighted sum), from the activations and J.
TEST_F(CamTest, GradCamMatchesNumpy) {
  test::TempDir dir;
  const auto projection = cam::Target::create("projection");
  const auto method = cam::CamMethod::create("gradcam");
  const auto& j = model_->head->jacobian();
  io::write_npy(dir / "J.npy", {model_->shape.embedding, model_->shape.inputs()}, j.data());
  for (std::size_t f = 0; f < faces_->size(); ++f) {
    const auto o = one((*faces_)[f], projection.get());
    io::write_npy(dir / fmt::format("A{}.npy", f), {512, 7, 7}, o.activations.ptr<float>());
    io::write_npy(dir / fmt::format("e{}.npy", f), {512}, o.embedding.ptr<float>());
    const cv::Mat map = method->compute(o.in);
    io::write_npy(dir / fmt::format("cam{}.npy", f), {7, 7}, map.ptr<float>());
  }
  std::ofstream(dir / "gradcam.py") << R"(import numpy as np, sys
d = sys.argv[1]
J = np.load(d + '/J.npy').astype(np.float64)
for f in range(int(sys.argv[2])):
    A = np.load(d + '/A%d.npy' % f).astype(np.float64)
    e = np.load(d + '/e%d.npy' % f).astype(np.float64)
    grads = (J.T @ (e / np.linalg.norm(e))).reshape(A.shape)[None]
    weights = np.mean(grads, axis=(2, 3))
    cam = np.maximum((weights[:, :, None, None] * A[None]).sum(axis=1), 0)[0]
    ours = np.load(d + '/cam%d.npy' % f)
    r = np.corrcoef(cam.ravel(), ours.ravel())[0, 1]
    worst = np.abs(cam - ours).max() / cam.max()
    print('face', f, 'pearson r', r, 'max abs / max', worst)
    assert r >= 0.999, r
    # The weights are J summed by channel times dt/de, added in double; what is left is the
    # float sum of 512 weighted channels at each position.
    assert worst < 1e-5, worst
)";
  const auto [rc, out] = test::run(
      fmt::format("{} {} {} {}", test::python(), (dir / "gradcam.py").string(), dir.path().string(), faces_->size()));
  std::cout << out;
  EXPECT_EQ(rc, 0) << out;
}

// Grad-CAM reads only each channel's sum of dt/dA: the head gives those sums from J summed by
// channel, equal to the sums of J^T dt/de to float rounding, and the same bits for a face alone
// (amva cam, explain) as in a batch (extraction), so a map does not depend on the command.
TEST_F(CamTest, GradCamChannelSumsAreThePerPositionGradientsSummedAndAlikeInEveryBatch) {
  const auto projection = cam::Target::create("projection");
  const int d = model_->shape.embedding, c_count = model_->shape.channels, p_count = model_->shape.positions();
  const auto gradcam = cam::CamMethod::create("gradcam");
  ASSERT_EQ(gradcam->gradient_form(), cam::GradientForm::ChannelSums);
  EXPECT_EQ(cam::CamMethod::create("layercam")->gradient_form(), cam::GradientForm::PerPosition);

  const auto n = static_cast<int>(faces_->size());
  std::vector<One> ones;
  ones.reserve(static_cast<std::size_t>(n));
  cv::Mat embeddings(n, d, CV_32F);
  for (int i = 0; i < n; ++i) {
    ones.push_back(one((*faces_)[static_cast<std::size_t>(i)], projection.get()));
    ones.back().in.input = &ones.back().blob;
    ones.back().embedding.copyTo(embeddings.row(i));
  }
  std::vector<float> dt_de(static_cast<std::size_t>(n) * d);
  for (int i = 0; i < n; ++i)
    projection->gradient(embeddings.ptr<float>(i), embeddings.ptr<float>(i), d, dt_de.data() + std::size_t(i) * d);
  std::vector<float> batch(static_cast<std::size_t>(n) * c_count);
  model_->head->channel_sums_of_transpose_apply(dt_de.data(), n, batch.data());
  const cam::BatchGradients gradients({{projection.get(), cam::GradientForm::ChannelSums}}, embeddings, *model_->head);
  for (int i = 0; i < n; ++i) {
    std::vector<float> alone(static_cast<std::size_t>(c_count)), full(static_cast<std::size_t>(model_->shape.inputs()));
    model_->head->channel_sums_of_transpose_apply(dt_de.data() + std::size_t(i) * d, 1, alone.data());
    model_->head->transpose_apply(dt_de.data() + std::size_t(i) * d, full.data());
    double worst = 0, scale = 0;
    for (int c = 0; c < c_count; ++c) {
      EXPECT_EQ(alone[c], batch[std::size_t(i) * c_count + c]) << "face " << i << " channel " << c;
      EXPECT_EQ(alone[c], gradients.of(*projection, cam::GradientForm::ChannelSums, i)[c]);
      double summed = 0;
      for (int p = 0; p < p_count; ++p) summed += full[std::size_t(c) * p_count + p];
      worst = std::max(worst, std::abs(summed - alone[c]));
      scale = std::max(scale, std::abs(summed));
    }
    EXPECT_LT(worst, 1e-5 * scale) << "face " << i;

    // The map from the batch's sums is the map amva cam computes for the face alone.
    auto& o = ones[static_cast<std::size_t>(i)];
    const cv::Mat by_itself = gradcam->compute(o.in);
    o.in.gradients = gradients.of(*projection, cam::GradientForm::ChannelSums, i);
    const cv::Mat from_batch = gradcam->compute(o.in);
    EXPECT_EQ(cv::norm(by_itself, from_batch, cv::NORM_INF), 0.0) << "face " << i;
  }
}

// Score-CAM against NumPy: NumPy rebuilds the masks from the activations (aligned-corner
// bilinear upsampling, per-channel min-max with epsilon 1e-8), checks that the inputs amva
// forwarded are the input times those masks, and computes softmax weights and the map from
// the target scores of those forwards.
TEST_F(CamTest, ScoreCamMatchesNumpy) {
  test::TempDir dir;
  const auto self_cosine = cam::Target::create("self-cosine");
  auto o = one((*faces_)[0], self_cosine.get());
  std::vector<float> scores;
  std::vector<float> first_masked;  // the first 4 masked inputs, for NumPy to check
  const int d = model_->shape.embedding;
  o.in.embed = [&](const cv::Mat& batch) {
    const cv::Mat e = model_->rec->forward_blob(batch).embeddings;
    for (int i = 0; i < e.rows; ++i)
      scores.push_back(static_cast<float>(self_cosine->value(e.ptr<float>(i), o.embedding.ptr<float>(), d)));
    if (first_masked.empty()) first_masked.assign(batch.ptr<float>(), batch.ptr<float>() + 4 * 3 * 112 * 112);
    return e;
  };
  const cv::Mat map = cam::CamMethod::create("scorecam")->compute(o.in);
  ASSERT_EQ(scores.size(), 512u);
  io::write_npy(dir / "A.npy", {512, 7, 7}, o.activations.ptr<float>());
  io::write_npy(dir / "x.npy", {3, 112, 112}, o.blob.ptr<float>());
  io::write_npy(dir / "masked.npy", {4, 3, 112, 112}, first_masked.data());
  io::write_npy(dir / "scores.npy", {512}, scores.data());
  io::write_npy(dir / "cam.npy", {7, 7}, map.ptr<float>());
  std::ofstream(dir / "scorecam.py") << R"(import numpy as np, sys
d = sys.argv[1]
A = np.load(d + '/A.npy').astype(np.float64)
x = np.load(d + '/x.npy').astype(np.float64)
def upsample(a, n):  # torch.nn.UpsamplingBilinear2d: align_corners=True
    h, w = a.shape
    ys = np.arange(n) * (h - 1) / (n - 1); xs = np.arange(n) * (w - 1) / (n - 1)
    y0 = np.floor(ys).astype(int); x0 = np.floor(xs).astype(int)
    y1 = np.minimum(y0 + 1, h - 1); x1 = np.minimum(x0 + 1, w - 1)
    ty = (ys - y0)[:, None]; tx = (xs - x0)[None, :]
    top = a[y0][:, x0] * (1 - tx) + a[y0][:, x1] * tx
    bottom = a[y1][:, x0] * (1 - tx) + a[y1][:, x1] * tx
    return top * (1 - ty) + bottom * ty
up = np.stack([upsample(c, 112) for c in A])
mins = up.reshape(512, -1).min(-1)[:, None, None]; maxs = up.reshape(512, -1).max(-1)[:, None, None]
masks = (up - mins) / (maxs - mins + 1e-8)
masked = np.load(d + '/masked.npy')
err = np.abs(masked - x[None] * masks[:4, None]).max()
print('masked inputs max abs error', err)
assert err < 1e-4, err
s = np.load(d + '/scores.npy').astype(np.float64)
w = np.exp(s - s.max()); w /= w.sum()
cam = np.maximum((w[:, None, None] * A).sum(0), 0)
ours = np.load(d + '/cam.npy')
r = np.corrcoef(cam.ravel(), ours.ravel())[0, 1]
rel = np.abs(cam - ours).max() / np.abs(cam).max()
print('pearson r', r, 'max abs', np.abs(cam - ours).max(), 'relative to the peak', rel)
assert r >= 0.999, r
# Values, not only the pattern: a map off by a constant factor correlates perfectly.
assert rel <= 1e-4, rel
)";
  const auto [rc, out] =
      test::run(fmt::format("{} {} {}", test::python(), (dir / "scorecam.py").string(), dir.path().string()));
  std::cout << out;
  EXPECT_EQ(rc, 0) << out;
}

TEST(AffineHead, NonAffineHeadIsRefusedNamingTheNode) {
  auto card = test::card();
  card.target_layer = "503";  // output of Add_90: the head now holds Conv_91 and PRelu_92
  auto rec = model::FaceRecognizer::create(card);
  const cv::Mat probe(112, 112, CV_8UC3, cv::Scalar::all(0));
  const cv::Mat a = rec->forward({probe}, {"503"}).activations.front();
  const model::HeadShape shape{a.size[1], a.size[2], a.size[3], 512};
  try {
    model::AffineHead::extract(card, rec->model_sha256(), "503", shape, {});
    FAIL() << "a head with a PReLU is not affine";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("PRelu_92"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("scorecam"), std::string::npos) << e.what();
  }
}

// Extraction computes the maps of a whole batch with shared matrix products; each stored map
// must equal the map computed for that face alone.
// Occlusion sensitivity by its definition, rebuilt here: cell (r, c) of the 7 x 7 map is
// 1 - cos(e(occluded), e(face)) for a 28-px square at (14 c, 14 r) filled with the input's
// per-channel mean; a finer grid gives N x N maps of 2 x 112 / (N + 1) px patches.
TEST_F(CamTest, OcclusionFollowsItsDefinition) {
  const auto self_cosine = cam::Target::create("self-cosine");
  const auto o = one((*faces_)[0], self_cosine.get());
  const cv::Mat map = cam::CamMethod::create("occlusion")->compute(o.in);
  ASSERT_EQ(map.size(), cv::Size(7, 7));
  const int d = model_->shape.embedding;
  for (const auto& [r, c] : {std::pair{0, 0}, std::pair{3, 3}, std::pair{6, 2}, std::pair{2, 5}}) {
    cv::Mat occluded = o.blob.clone();
    for (int k = 0; k < 3; ++k) {
      cv::Mat plane(112, 112, CV_32F, occluded.ptr<float>(0, k));
      const double mean = cv::mean(plane)[0];
      plane(cv::Rect(14 * c, 14 * r, 28, 28)).setTo(mean);
    }
    const cv::Mat e = model_->rec->forward_blob(occluded).embeddings;
    const double expected = 1.0 - self_cosine->value(e.ptr<float>(0), o.embedding.ptr<float>(), d);
    EXPECT_NEAR(map.at<float>(r, c), expected, 1e-5) << r << "," << c;
  }
  double lo = 0;
  cv::minMaxLoc(map, &lo);
  EXPECT_GE(lo, -1e-6) << "covering part of a face never makes it more like itself";
  const auto method = cam::CamMethod::create("occlusion", {{"grid", 10}});
  EXPECT_EQ(method->map_size(model_->shape), cv::Size(10, 10));
  EXPECT_EQ(method->compute(o.in).size(), cv::Size(10, 10));
}

TEST_F(CamTest, ExtractedMapsEqualSingleFaceMaps) {
  test::TempDir dir;
  pipeline::ExtractOptions o;
  o.images = test::sources_dir();
  o.out = dir / "store";
  o.card = test::card();
  o.detector = test::default_detector();
  o.cams = {"gradcam", "layercam", "contribution", "eigencam", "scorecam", "occlusion"};
  o.cam_config["scorecam"] = {{"channels", 16}};
  o.cache_dir = test::jacobian_cache();
  o.batch = 4;
  pipeline::extract(o);
  const auto store = store::read_store(dir / "store");
  ASSERT_TRUE(store.meta.settings.cam);
  EXPECT_EQ(store.meta.settings.cam->layer.value_or(""), "507");
  EXPECT_EQ(store.meta.settings.cam->options("scorecam")["target"], "self-cosine");
  EXPECT_EQ(store.meta.settings.cam->options("gradcam")["target"], "projection");

  auto detector = face::FaceDetector::create(test::default_detector());
  for (const auto& r : store.table.records) {
    const cv::Mat img = io::load_bgr(test::sources_dir() / r.path);
    const auto o1 = one(face::align_face(img, r.detection.landmarks), nullptr);
    for (const auto& name : o.cams) {
      const auto& maps = store.table.arrays.at("maps_" + name);
      ASSERT_EQ(maps.row_shape, (std::vector<std::int64_t>{7, 7}));
      const auto method = cam::CamMethod::create(name, o.cam_config[name]);
      auto target = method->default_target() == "none" ? nullptr : cam::Target::create(method->default_target());
      auto in = o1.in;
      in.target = target.get();
      const cv::Mat alone = method->compute(in);
      const cv::Mat stored(7, 7, CV_32F, const_cast<float*>(maps.row(static_cast<std::size_t>(r.id))));
      double hi;
      cv::minMaxLoc(cv::abs(alone), nullptr, &hi);
      EXPECT_LE(cv::norm(alone, stored, cv::NORM_INF), 1e-4 * hi + 1e-7) << r.path << " " << name;
    }
  }
}

namespace {
// A method a program plugs in: the mean activation over channels, with a setting of its own.
class MeanActivation final : public cam::CamMethod {
 public:
  [[nodiscard]] std::string name() const override { return "mean-activation"; }
  [[nodiscard]] std::string default_target() const override { return "none"; }
  [[nodiscard]] nlohmann::json settings(const model::HeadShape&) const override { return {{"weight", "1/C"}}; }

 protected:
  [[nodiscard]] std::vector<float> channel_weights(const cam::CamInput& in, const float*) const override {
    return std::vector<float>(static_cast<std::size_t>(in.shape.channels), 1.f / in.shape.channels);
  }
};
}  // namespace

TEST_F(CamTest, RegisteredMethodRunsThroughExtraction) {
  cam::CamRegistry::instance().add("mean-activation",
                                   [](const PluginConfig&) { return std::make_unique<MeanActivation>(); });
  const auto names = cam::CamMethod::names();
  EXPECT_EQ(names.front(), "scorecam") << "built-ins first, in their order";
  EXPECT_EQ(names.back(), "mean-activation");
  EXPECT_THROW((void)cam::CamMethod::create("no-such-method"), Error);

  pipeline::ExtractOptions o;
  o.card = test::card();
  o.detector = test::default_detector();
  o.cams = {"mean-activation"};
  o.cache_dir = test::jacobian_cache();
  const auto faces = pipeline::extract_faces({test::sources_dir() / "grace_hopper.jpg"}, o);
  ASSERT_TRUE(faces.table.records.at(0).ok);
  EXPECT_EQ(faces.settings["cam"]["methods"]["mean-activation"],
            nlohmann::json({{"target", "none"}, {"weight", "1/C"}}));
  // The map is ReLU of the channel mean of the activations the face gives.
  const auto o1 = one(faces.aligned.at(0), nullptr);
  cv::Mat expected(7, 7, CV_32F, cv::Scalar(0));
  for (int c = 0; c < o1.in.shape.channels; ++c) {
    expected += cv::Mat(7, 7, CV_32F, const_cast<float*>(o1.in.activations) + c * 49) / o1.in.shape.channels;
  }
  expected = cv::max(expected, 0.f);
  const auto& maps = faces.table.array("maps_mean-activation");
  const cv::Mat got(7, 7, CV_32F, const_cast<float*>(maps.row(0)));
  EXPECT_LE(cv::norm(expected, got, cv::NORM_INF), 1e-5);
}
