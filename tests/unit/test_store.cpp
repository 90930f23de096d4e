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

store::StoreMeta meta(const std::string& model) {
  return store::StoreMeta::from_json({{"settings", {{"model_sha256", model}}}});
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
  const auto s = store::StoreSettings::from_json(extracted["settings"]);
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
  EXPECT_TRUE(store::StoreSettings::from_json(nlohmann::json::object()).part.empty());

  EXPECT_THROW(store::StoreSettings::from_json(nlohmann::json::parse(R"({"model_sha256": 7})")), Error);
  EXPECT_THROW(store::StoreSettings::from_json(nlohmann::json::parse(R"({"cam": {"methods": [1]}})")), Error);
}

// meta.json as extraction, import and merge write it reads typed and writes back unchanged,
// with what amva does not know (a user's note, a field of another type) kept as it was.
TEST(Store, MetaRoundTripsThroughJson) {
  const auto extracted = nlohmann::json::parse(R"j({
      "amva_version": "0.1.0", "created": "2026-12-07T00:13:14Z", "detector": "default (a.onnx + b.onnx)",
      "embedding_size": 512, "head_affinity_error": 2.034616452625016e-06, "images": "/data/list.txt",
      "model": {"file": "fr_feature.onnx", "name": "faceplugin fr_feature"},
      "settings": {"alignment": "arcface", "cam": {"channels": 512, "layer": "507", "map_shape": [7, 7],
                   "methods": {"gradcam": {"target": "projection"}}}, "detector": {"kind": "default"},
                   "model_sha256": "87aa", "part": "1/2"}})j");
  const auto m = store::StoreMeta::from_json(extracted);
  EXPECT_EQ(m.images.value_or(""), "/data/list.txt");
  ASSERT_TRUE(m.model);
  EXPECT_EQ(m.model->name, "faceplugin fr_feature");
  EXPECT_EQ(m.model->file, "fr_feature.onnx");
  EXPECT_EQ(m.embedding_size.value_or(0), 512);
  EXPECT_DOUBLE_EQ(m.head_affinity_error.value_or(0), 2.034616452625016e-06);
  EXPECT_EQ(m.settings.model_sha256, "87aa");
  EXPECT_EQ(m.settings.part, "1/2");
  EXPECT_TRUE(m.other.empty());
  EXPECT_EQ(m.to_json(), extracted);
  EXPECT_EQ(m.to_json().dump(2), extracted.dump(2));

  const auto imported = nlohmann::json::parse(R"({"amva_version": "0.1.0", "created": "t",
      "imported_from": "/maps.npy", "merged_from": ["/a", "/b"],
      "settings": {"imported": true, "model_sha256": "none: maps imported, no model ran",
                   "groups_chosen_by": ["brisque"]}})");
  const auto i = store::StoreMeta::from_json(imported);
  EXPECT_FALSE(i.images);
  EXPECT_EQ(i.imported_from.value_or(""), "/maps.npy");
  EXPECT_EQ(i.merged_from.value_or(std::vector<std::string>{}), (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(i.to_json(), imported);

  const auto noted = nlohmann::json::parse(R"({"created": 5, "note": {"by": "me"}, "embedding_size": 1.5,
      "model": "m", "settings": {"model_sha256": "x", "future": [1]}})");
  const auto n = store::StoreMeta::from_json(noted);
  EXPECT_FALSE(n.created);
  EXPECT_FALSE(n.model);
  EXPECT_FALSE(n.embedding_size);
  EXPECT_EQ(n.other.size(), 4U);
  EXPECT_EQ(n.to_json(), noted);

  // Through a store: what open() writes, read_meta() reads back; settings.with() drops a key.
  test::TempDir dir;
  store::StoreWriter::open(dir / "s", m);
  EXPECT_EQ(store::read_meta(dir / "s").to_json(), extracted);
  EXPECT_FALSE(m.settings.with("part", nullptr).json.contains("part"));
  EXPECT_TRUE(m.settings.with("part", nullptr).part.empty());
  EXPECT_EQ(store::settings_mismatch(m, store::StoreMeta::from_json(noted)).substr(0, 10), "alignment:");
  // A difference inside a nested setting is named by its path, not by the whole object.
  const nlohmann::json old_cam = {{"cam", {{"layer", "507"}, {"methods", {{"gradcam", {{"target", "projection"}}}}}}}};
  nlohmann::json new_cam = old_cam;
  new_cam["cam"]["methods"]["gradcam"]["gradients"] = "summed by channel";
  EXPECT_EQ(store::settings_difference(old_cam, new_cam),
            R"(cam.methods.gradcam.gradients: null vs "summed by channel")");
  EXPECT_EQ(store::settings_difference(old_cam, old_cam), "");
}
