#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/list_part.hpp"
#include "amva/pipeline/extract.hpp"
#include "support.hpp"

using namespace amva;
namespace fs = std::filesystem;

namespace {
// The default photos plus one file of each kind of bad input.
fs::path make_image_folder(const test::TempDir& dir) {
  const fs::path images = dir / "images";
  fs::create_directories(images / "sub");
  for (const auto& e : fs::directory_iterator(test::sources_dir())) fs::copy(e.path(), images / e.path().filename());
  fs::copy(test::sources_dir() / "astronaut.png", images / "sub" / "astronaut_copy.png");
  std::ofstream(images / "empty.jpg").close();
  std::ofstream(images / "notes.txt") << "not an image";
  const std::string jpeg = io::read_text(test::sources_dir() / "sample1.jpg");
  std::ofstream(images / "truncated.jpg", std::ios::binary) << jpeg.substr(0, jpeg.size() / 3);
  cv::Mat sky(200, 300, CV_8UC3, cv::Scalar(200, 150, 90));
  cv::imwrite((images / "no_face.png").string(), sky);
  return images;
}

pipeline::ExtractOptions options(const fs::path& images, const fs::path& out) {
  pipeline::ExtractOptions o;
  o.images = images;
  o.out = out;
  o.card = test::card();
  o.detector = test::default_detector();
  o.threads = 2;
  o.batch = 2;
  o.shard_size = 3;
  return o;
}
}  // namespace

TEST(Extract, RecordsEveryImageAndEveryFailureReason) {
  test::TempDir dir;
  const auto images = make_image_folder(dir);
  const auto s = pipeline::extract(options(images, dir / "store"));
  EXPECT_TRUE(s.finished);
  EXPECT_EQ(s.listed, 13u);
  EXPECT_EQ(s.records, 13u);
  EXPECT_EQ(s.faces, 9u);
  EXPECT_EQ(s.failures.at("empty_file"), 1u);
  EXPECT_EQ(s.failures.at("truncated"), 1u);
  EXPECT_EQ(s.failures.at("not_an_image"), 1u);
  EXPECT_EQ(s.failures.at("no_face"), 1u);

  const auto store = store::read_store(dir / "store");
  const auto& emb = store.table.arrays.at("embeddings");
  for (const auto& r : store.table.records) {
    EXPECT_EQ(std::isnan(emb.row(static_cast<std::size_t>(r.id))[0]), !r.ok) << r.path;
    if (!r.ok) {
      EXPECT_NE(r.error.find(r.path), std::string::npos) << "message names the image";
    }
  }
  EXPECT_EQ(store.meta.settings.model_sha256, test::card().sha256);
}

TEST(Extract, InterruptedAndResumedEqualsUninterrupted) {
  test::TempDir dir;
  const auto images = make_image_folder(dir);
  pipeline::extract(options(images, dir / "whole"));

  auto first = options(images, dir / "resumed");
  first.stop_after_shards = 2;
  const auto partial = pipeline::extract(first);
  EXPECT_FALSE(partial.finished);
  EXPECT_EQ(partial.processed, 6u);
  EXPECT_THROW(store::read_store(dir / "resumed"), Error) << "an unfinished store is not readable as finished";
  const auto rest = pipeline::extract(options(images, dir / "resumed"));
  EXPECT_TRUE(rest.finished);
  EXPECT_EQ(rest.resumed, 6u);
  EXPECT_EQ(rest.processed, 7u);

  EXPECT_EQ(io::read_text(dir / "whole" / "index.csv"), io::read_text(dir / "resumed" / "index.csv"));
  EXPECT_EQ(io::read_text(dir / "whole" / "embeddings.npy"), io::read_text(dir / "resumed" / "embeddings.npy"));
}

TEST(Extract, ThreadCountDoesNotChangeTheStore) {
  test::TempDir dir;
  const auto images = make_image_folder(dir);
  auto one = options(images, dir / "one");
  one.threads = 1;
  pipeline::extract(one);
  pipeline::extract(options(images, dir / "two"));
  EXPECT_EQ(io::read_text(dir / "one" / "embeddings.npy"), io::read_text(dir / "two" / "embeddings.npy"));
}

TEST(Extract, NumpyReadsTheStoredEmbeddingsBitForBit) {
  test::TempDir dir;
  auto o = options(test::sources_dir(), dir / "store");
  pipeline::extract(o);
  const auto store = store::read_store(dir / "store");
  const auto [rc, out] = test::run(
      fmt::format("{} -c \"import numpy as n; e=n.load('{}'); assert e.shape==(8,512), e.shape; e.tofile('{}')\"",
                  test::python(), (dir / "store" / "embeddings.npy").string(), (dir / "raw.bin").string()));
  ASSERT_EQ(rc, 0) << out;
  const std::string raw = io::read_text(dir / "raw.bin");
  const auto& emb = store.table.arrays.at("embeddings").data;
  ASSERT_EQ(raw.size(), emb.size() * sizeof(float));
  EXPECT_EQ(std::memcmp(raw.data(), emb.data(), raw.size()), 0);
}

TEST(Extract, AllFacesKeepsEveryFaceAsItsOwnRecord) {
  test::TempDir dir;
  auto o = options(test::sources_dir(), dir / "store");
  o.all_faces = true;
  const auto s = pipeline::extract(o);
  EXPECT_GT(s.faces, 20u);
  const auto store = store::read_store(dir / "store");
  int sample5_faces = 0;
  for (const auto& r : store.table.records) sample5_faces += r.path == "sample5.jpg";
  EXPECT_GE(sample5_faces, 3);
}

TEST(Extract, PreAlignedCropsSkipDetection) {
  test::TempDir dir;
  fs::create_directories(dir / "crops");
  cv::Mat crop(112, 112, CV_8UC3, cv::Scalar(10, 20, 30));
  cv::imwrite((dir / "crops" / "a.png").string(), crop);
  cv::Mat big;
  cv::resize(crop, big, cv::Size(224, 224));
  cv::imwrite((dir / "crops" / "b.png").string(), big);
  auto o = options(dir / "crops", dir / "store");
  o.aligned = true;
  const auto s = pipeline::extract(o);
  EXPECT_EQ(s.faces, 2u);
  const auto store = store::read_store(dir / "store");
  const auto& e = store.table.arrays.at("embeddings");
  for (std::size_t k = 0; k < 512; ++k) EXPECT_NEAR(e.row(0)[k], e.row(1)[k], 1e-4);
}

// A job array: three parts, each every third image into its own store, merged, equal the store
// one process writes: records, arrays and quality.csv.
TEST(Extract, JobArrayPartsMergedEqualOneProcess) {
  test::TempDir dir;
  const auto images = make_image_folder(dir);
  auto whole = options(images, dir / "whole");
  whole.quality = {"magnitude", "sharpness"};
  pipeline::extract(whole);
  std::vector<fs::path> parts;
  std::size_t listed = 0;
  for (int i = 1; i <= 3; ++i) {
    auto part = whole;
    part.out = dir / fmt::format("part{}", i);
    part.part = io::parse_list_part(fmt::format("{}/3", i));
    listed += pipeline::extract(part).listed;
    parts.push_back(part.out);
  }
  EXPECT_EQ(listed, 13u) << "the parts share the images, each read once";
  const auto merged = store::merge_stores(parts, dir / "merged");
  EXPECT_FALSE(merged.meta.settings.json.contains("part"));
  EXPECT_TRUE(merged.meta.settings.part.empty());
  for (const char* file : {"index.csv", "embeddings.npy", "quality.csv"}) {
    EXPECT_EQ(io::read_text(dir / "whole" / file), io::read_text(dir / "merged" / file)) << file;
  }

  auto other_part = whole;
  other_part.out = dir / "part1";
  other_part.part = io::parse_list_part("2/3");
  EXPECT_THROW(pipeline::extract(other_part), Error) << "a part's store resumes only as the same part";
  for (const char* bad : {"0/3", "4/3", "3", "a/b", "1/0", "1/3x"}) {
    EXPECT_THROW(io::parse_list_part(bad), Error) << bad;
  }
}

// Stores scored with different measures do not merge into a quality.csv with holes.
TEST(Extract, MergeRefusesDifferentQualityColumns) {
  test::TempDir dir;
  auto a = options(test::sources_dir(), dir / "a");
  a.part = io::parse_list_part("1/2");
  a.quality = {"sharpness"};
  pipeline::extract(a);
  auto b = a;
  b.out = dir / "b";
  b.part = io::parse_list_part("2/2");
  b.quality = {"magnitude"};
  pipeline::extract(b);
  try {
    store::merge_stores({dir / "a", dir / "b"}, dir / "ab");
    FAIL() << "merged stores of different quality columns";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Mismatch);
    EXPECT_NE(std::string(e.what()).find("quality.csv columns"), std::string::npos) << e.what();
  }
}
