#include <gtest/gtest.h>

#include "amva/error.hpp"
#include "amva/store/settings.hpp"
#include "amva/store/store.hpp"
#include "support.hpp"

using namespace amva;

namespace {
store::Table table_of(const std::vector<std::string>& paths, float base) {
  store::Table t;
  auto& e = t.arrays["embeddings"];
  e.row_shape = {2};
  for (std::size_t i = 0; i < paths.size(); ++i) {
    store::Record r;
    r.path = paths[i];
    r.ok = true;
    r.detection.box = cv::Rect2f(1.5f, 2.25f, 30, 40);
    r.detection.landmarks[3] = cv::Point2f(10.125f, 20.5f);
    t.records.push_back(r);
    e.data.push_back(base + i);
    e.data.push_back(-(base + i));
  }
  return t;
}

nlohmann::json meta(const std::string& model) {
  return {{"settings", {{"model_sha256", model}}}};
}
}  // namespace

TEST(Store, ShardsFoldIntoCanonicalOrder) {
  test::TempDir dir;
  auto w = store::StoreWriter::open(dir / "s", meta("m1"));
  w.write_shard(table_of({"c.jpg", "a.jpg"}, 10));
  w.write_shard(table_of({"b.jpg"}, 20));
  EXPECT_EQ(w.done_paths().size(), 3u);
  const auto content = w.finalize();
  EXPECT_FALSE(std::filesystem::exists(dir / "s" / "shards"));

  const auto read = store::read_store(dir / "s");
  ASSERT_EQ(read.table.records.size(), 3u);
  EXPECT_EQ(read.table.records[0].path, "a.jpg");
  EXPECT_EQ(read.table.records[1].path, "b.jpg");
  EXPECT_EQ(read.table.records[2].id, 2);
  EXPECT_EQ(read.table.arrays.at("embeddings").data, (std::vector<float>{11, -11, 20, -20, 10, -10}));
  EXPECT_FLOAT_EQ(read.table.records[0].detection.landmarks[3].x, 10.125f);
}

TEST(Store, ReopeningResumesAndOtherSettingsAreRefused) {
  test::TempDir dir;
  {
    auto w = store::StoreWriter::open(dir / "s", meta("m1"));
    w.write_shard(table_of({"a.jpg"}, 1));
  }
  auto again = store::StoreWriter::open(dir / "s", meta("m1"));
  EXPECT_EQ(again.done_paths(), (std::set<std::string>{"a.jpg"}));
  try {
    store::StoreWriter::open(dir / "s", meta("m2"));
    FAIL() << "a store of another model must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Mismatch);
    EXPECT_NE(std::string(e.what()).find("model_sha256"), std::string::npos) << e.what();
  }
}

TEST(Store, MergeJoinsStoresAndRefusesOverlapOrOtherSettings) {
  test::TempDir dir;
  for (const auto& [name, paths, model] : std::vector<std::tuple<std::string, std::vector<std::string>, std::string>>{
           {"x", {"b.jpg", "d.jpg"}, "m1"}, {"y", {"a.jpg"}, "m1"}, {"z", {"a.jpg"}, "m1"}, {"o", {"q.jpg"}, "m2"}}) {
    auto w = store::StoreWriter::open(dir / name, meta(model));
    w.write_shard(table_of(paths, 1));
    w.finalize();
  }
  const auto merged = store::merge_stores({dir / "x", dir / "y"}, dir / "xy");
  const auto read = store::read_store(dir / "xy");
  ASSERT_EQ(read.table.records.size(), 3u);
  EXPECT_EQ(read.table.records[0].path, "a.jpg");
  EXPECT_THROW(store::merge_stores({dir / "y", dir / "z"}, dir / "yz"), Error);
  EXPECT_THROW(store::merge_stores({dir / "x", dir / "o"}, dir / "xo"), Error);
  EXPECT_FALSE(std::filesystem::exists(dir / "xo" / "index.csv"));
}

// What the code reads of a store's settings, from the objects extract and import write; the
// whole object stays for the comparisons, and a field of the wrong type is a parse error.
TEST(Store, SettingsAreReadTyped) {
  const auto extracted = nlohmann::json::parse(R"({"settings": {
      "model_sha256": "ab12", "preprocessing": {"mean": 127.5}, "detector": {"kind": "default"},
      "part": "2/3", "cam": {"layer": "conv_6dw", "map_shape": [7, 7],
                             "methods": {"gradcam": {"target": "self-cosine"}}}}})");
  const auto s = store::StoreSettings::of_meta(extracted);
  EXPECT_EQ(s.model_sha256, "ab12");
  EXPECT_TRUE(s.detected);
  EXPECT_EQ(s.part, "2/3");
  ASSERT_TRUE(s.cam);
  EXPECT_EQ(s.cam->layer.value_or(""), "conv_6dw");
  EXPECT_EQ(s.cam->map_shape, nlohmann::json::parse("[7, 7]"));
  EXPECT_TRUE(s.cam->has("gradcam"));
  EXPECT_FALSE(s.cam->has("scorecam"));
  EXPECT_EQ(s.cam->options("gradcam")["target"], "self-cosine");
  EXPECT_TRUE(s.cam->options("scorecam").is_null());
  EXPECT_EQ(s.json, extracted["settings"]);

  const auto aligned = store::StoreSettings::from_json(nlohmann::json::parse(R"({"detector": null})"));
  EXPECT_FALSE(aligned.detected);
  EXPECT_FALSE(aligned.cam);
  EXPECT_TRUE(aligned.model_sha256.empty());
  EXPECT_TRUE(store::StoreSettings::of_meta(nlohmann::json::object()).part.empty());

  EXPECT_THROW(store::StoreSettings::from_json(nlohmann::json::parse(R"({"model_sha256": 7})")), Error);
  EXPECT_THROW(store::StoreSettings::from_json(nlohmann::json::parse(R"({"cam": {"methods": [1]}})")), Error);
}
