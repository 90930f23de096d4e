// Every parser's message for bad input names the file (and line or field) in amva's words,
// never a library's (issue 11, items 7 and 8); the fuzz targets (fuzz/) check the same
// property on generated inputs, these cases pin the messages.
#include <gtest/gtest.h>

#include <fstream>

#include "amva/analysis/reference.hpp"
#include "amva/eval/identities.hpp"
#include "amva/eval/pairs.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/image_list.hpp"
#include "amva/io/json_fields.hpp"
#include "amva/io/npy.hpp"
#include "amva/io/numbers.hpp"
#include "amva/model/model_card.hpp"
#include "amva/quality/scores.hpp"
#include "amva/report/html_report.hpp"
#include "amva/store/settings.hpp"
#include "amva/store/store.hpp"
#include "support.hpp"
#include "synthetic_store.hpp"

using namespace amva;
namespace fs = std::filesystem;

namespace {
// The words of the libraries amva uses, which must never reach a user.
const std::vector<std::string> kRawWords = {
    "json.exception",   "stoi",       "stod",        "stoll", "basic_filebuf", "map::at",
    "filesystem error", "vector::_M", "basic_string"};

template <typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("RAW: ") + e.what();
  }
  return "no error";
}

void expect_clean(const std::string& message, const std::string& must_name, const std::string& what) {
  EXPECT_FALSE(message.starts_with("RAW: ")) << what << ": " << message;
  EXPECT_NE(message, "no error") << what;
  EXPECT_NE(message.find(must_name), std::string::npos) << what << ": " << message;
  for (const auto& w : kRawWords) EXPECT_EQ(message.find(w), std::string::npos) << what << ": " << message;
}

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}
}  // namespace

TEST(Numbers, WholeFieldOrNothing) {
  EXPECT_EQ(io::to_double(" 1.5 "), 1.5);
  EXPECT_EQ(io::to_double("+2"), 2.0);
  EXPECT_TRUE(std::isnan(*io::to_double("nan")));
  EXPECT_TRUE(std::isinf(*io::to_double("-inf")));
  EXPECT_FALSE(io::to_double("1.5x"));
  EXPECT_FALSE(io::to_double(""));
  EXPECT_FALSE(io::to_double("+-1"));
  EXPECT_FALSE(io::to_double("1e999"));
  EXPECT_EQ(io::to_integer("42"), 42);
  EXPECT_FALSE(io::to_integer("4.2"));
  EXPECT_FALSE(io::to_integer("99999999999999999999"));
}

TEST(Messages, FoldersGivenAsFilesAreNamed) {
  test::TempDir dir;
  fs::create_directories(dir / "folder.csv");
  const auto folder = (dir / "folder.csv").string();
  expect_clean(message_of([&] { (void)io::read_csv(dir / "folder.csv"); }), "is a folder", "csv");
  expect_clean(message_of([&] { (void)io::read_npy(dir / "folder.csv"); }), folder, "npy");
  expect_clean(message_of([&] { (void)eval::read_lfw_pairs(dir / "folder.csv"); }), folder, "pairs");
  expect_clean(message_of([&] { (void)model::ModelCard::load(dir / "folder.csv"); }), folder, "card");
  expect_clean(message_of([&] { (void)io::list_images(dir / "nowhere.txt"); }), "nowhere.txt", "list");
}

TEST(Messages, MetaJsonWithWrongTypesNamesTheField) {
  test::TempDir dir;
  const auto meta = dir / "s" / "meta.json";
  write(meta, R"({"settings": {"model_sha256": 7}})");
  expect_clean(message_of([&] { (void)store::read_meta(dir / "s"); }), "settings.model_sha256: must be a string",
               "sha number");
  write(meta, R"({"settings": []})");
  expect_clean(message_of([&] { (void)store::read_meta(dir / "s"); }), "field settings: must be an object", "array");
  write(meta, R"({"settings": {"model_sha256": "x", "cam": {"methods": "gradcam"}}})");
  expect_clean(message_of([&] { (void)store::read_meta(dir / "s"); }), "settings.cam.methods", "methods string");
  write(meta, R"({"settings": {"model_sha256": "x", "alignment": 3}})");
  expect_clean(message_of([&] { (void)store::read_settings(dir / "s"); }), "settings.alignment", "alignment number");
  write(meta, R"({"settings": {"model_sha256": "x"}, "images": 3})");
  expect_clean(message_of([&] { (void)store::read_meta(dir / "s"); }), "field images", "images number");
  write(meta, "{\"settings\": ");
  expect_clean(message_of([&] { (void)store::read_meta(dir / "s"); }), "not valid JSON at byte", "truncated");
  write(meta, "[1, 2]");
  expect_clean(message_of([&] { (void)store::read_meta(dir / "s"); }), "meta.json", "array root");
}

TEST(Messages, AReportWithoutAnAnalysisIsRefused) {
  test::TempDir dir;
  expect_clean(message_of([&] { report::write_html_report({}, dir / "report.html"); }), "needs the analysis",
               "no analysis");
  EXPECT_FALSE(fs::exists(dir / "report.html"));
}

TEST(Messages, ModelCardsWithWrongTypesAreNamed) {
  test::TempDir dir;
  const auto card = dir / "card.json";
  const std::string good_input = R"("name": "input", "channel_order": "RGB", "mean": [0,0,0], "std": [1,1,1])";
  write(card, R"({"name": 3, "file": "m.onnx", "embedding_output": "o", "input": {"width": 112, "height": 112, )" +
                  good_input + "}}");
  expect_clean(message_of([&] { (void)model::ModelCard::load(card); }), "card.json", "name number");
  write(card, R"({"name": "n", "file": "m.onnx", "embedding_output": "o", "input": {"width": 1e12, "height": 112, )" +
                  good_input + "}}");
  expect_clean(message_of([&] { (void)model::ModelCard::load(card); }), "input.width", "huge width");
  write(card, R"({"name": "n", "file": "m.onnx", "embedding_output": "o", "input": {"width": 112, "height": 112, )"
              R"("name": "input", "channel_order": "RGB", "mean": [0,0,0], "std": [1,0,1]}})");
  expect_clean(message_of([&] { (void)model::ModelCard::load(card); }), "std must be positive", "zero std");
}

TEST(Messages, DamagedIndexAndNpyAreNamedWithTheirLine) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "s", {.faces = 3, .failed = 0, .methods = 1});
  auto text = io::read_text(dir / "s" / "index.csv");
  const auto second_line = text.find('\n') + 1;
  text.replace(text.find(",ok,", second_line), 4, ",maybe,");
  write(dir / "s" / "index.csv", text);
  expect_clean(message_of([&] { (void)store::read_store(dir / "s"); }), "status is 'maybe'", "status");

  // An .npy header that claims more elements than int64 holds.
  std::string npy = "\x93NUMPY\x01";
  npy += '\0';
  const std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }\n";
  npy += static_cast<char>(header.size());
  npy += '\0';
  npy += header;
  write(dir / "big.npy", npy);
  expect_clean(message_of([&] { (void)io::read_npy(dir / "big.npy"); }), "larger than the file", "shape overflow");
}

TEST(Messages, NonNumericQualityValuesAreRefusedWithTheirLine) {
  test::TempDir dir;
  test::write_synthetic_store(dir / "s", {.faces = 5, .failed = 1, .methods = 1});
  auto text = io::read_text(dir / "s" / "quality.csv");
  const auto at = text.rfind(',');
  text.replace(at + 1, text.size() - at - 1, "high\n");
  write(dir / "s" / "quality.csv", text);
  const auto index = store::read_index_entries(dir / "s");
  expect_clean(message_of([&] { (void)quality::read_builtin_scores(dir / "s", index, {"m0"}); }),
               "m0 is 'high', not a number", "non-numeric");
}

TEST(Messages, ReferencesThatCannotMeasureDeviationsAreRefused) {
  test::TempDir dir;
  const auto ref = dir / "reference_m";
  fs::create_directories(ref);
  std::vector<float> map(112 * 112, 0.5f);
  io::write_npy(ref / "mam.npy", {112, 112}, map.data());
  io::write_npy(ref / "amv.npy", {112, 112}, map.data());
  const auto json = [&](const std::string& count, const std::string& eps) {
    write(ref / "reference.json", R"({"kind": "amva-reference", "cam": {"method": "gradcam"}, "normalization": )"
                                  R"("minmax", "count": )" +
                                      count + R"(, "deviation": {"eps": )" + eps + R"(}, "store_settings": {}})");
  };
  json("2", "0.01");
  EXPECT_NO_THROW((void)analysis::read_reference(ref));
  json("1", "0.01");
  expect_clean(message_of([&] { (void)analysis::read_reference(ref); }), "holds 1 face(s)", "one face");
  json("2", "0");
  expect_clean(message_of([&] { (void)analysis::read_reference(ref); }), "deviation.eps", "zero eps");
  json("\"many\"", "0.01");
  expect_clean(message_of([&] { (void)analysis::read_reference(ref); }), "field count: must be a number", "count");
  json("2", "0.01");
  map[5] = std::numeric_limits<float>::quiet_NaN();
  io::write_npy(ref / "mam.npy", {112, 112}, map.data());
  expect_clean(message_of([&] { (void)analysis::read_reference(ref); }), "NaN or infinite", "NaN map");
  map[5] = 0.5f;
  io::write_npy(ref / "mam.npy", {112, 112}, map.data());
  std::vector<float> zero(112 * 112, 0.0f);
  io::write_npy(ref / "amv.npy", {112, 112}, zero.data());
  expect_clean(message_of([&] { (void)analysis::read_reference(ref); }), "zero everywhere", "zero AM-V");
}
