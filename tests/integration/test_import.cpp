// Maps made outside amva (here by NumPy, as pytorch-grad-cam's users save theirs) analysed
// through amva import give the numbers of the same maps analysed from an amva store; the
// official AMVA code's <METHOD>_high/low stacks give its two groups as chosen; bad inputs end
// in errors naming the file and the row.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/store/import.hpp"
#include "amva/store/store.hpp"
#include "support.hpp"
#include "synthetic_store.hpp"

using namespace amva;
namespace fs = std::filesystem;

namespace {
using test::read_json;

// Compares every number of two JSON values (same structure) within `tolerance`.
void expect_same_numbers(const nlohmann::json& a, const nlohmann::json& b, double tolerance, const std::string& where) {
  ASSERT_EQ(a.type(), b.type()) << where;
  if (a.is_object()) {
    for (const auto& [key, value] : a.items()) {
      ASSERT_TRUE(b.contains(key)) << where << "/" << key;
      expect_same_numbers(value, b[key], tolerance, where + "/" + key);
    }
  } else if (a.is_array()) {
    ASSERT_EQ(a.size(), b.size()) << where;
    for (std::size_t i = 0; i < a.size(); ++i)
      expect_same_numbers(a[i], b[i], tolerance, where + "/" + std::to_string(i));
  } else if (a.is_number()) {
    EXPECT_NEAR(a.get<double>(), b.get<double>(), tolerance) << where;
  } else if (!a.is_string()) {
    EXPECT_EQ(a, b) << where;
  }
}

std::string python(const std::string& code) {
  const auto [rc, out] = test::run(fmt::format("{} -c \"{}\"", test::python(), code));
  EXPECT_EQ(rc, 0) << out;
  return out;
}
}  // namespace

TEST(Import, NumpyMapsGiveTheNumbersOfTheSameMapsInAStore) {
  test::TempDir dir;
  // In canonical order (sorted by path), as extraction leaves a store and a folder of files is read.
  test::write_synthetic_store(dir / "raw", {.faces = 300, .failed = 0, .methods = 1, .identities = 60});
  store::merge_stores({dir / "raw"}, dir / "store");
  const auto s = (dir / "store").string(), d = dir.path().string();
  // NumPy writes the maps as N x 1 x H x W, the list of paths, per-image files, and the scores.
  python(
      fmt::format("import numpy as np, csv; m = np.load('{0}/maps_gradcam.npy'); rows = "
                  "list(csv.reader(open('{0}/quality.csv')))[1:];"
                  "np.save('{1}/maps.npy', m[:, None].astype(np.float32)); open('{1}/list.txt', "
                  "'w').write(''.join(r[1] + chr(10) for r in rows));"
                  "open('{1}/scores.txt', 'w').write(''.join(r[1] + ' ' + r[2] + chr(10) for r in rows));"
                  "import os; [os.makedirs(os.path.dirname('{1}/each/' + r[1]), exist_ok=True) or np.save('{1}/each/' "
                  "+ r[1] + '.npy', m[i]) for i, r in enumerate(rows)]",
                  s, d));
  const auto cli = test::cli().string();
  auto [rc, out] =
      test::run(fmt::format("{} import --maps {}/maps.npy --list {}/list.txt --out {}/imported", cli, d, d, d));
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = test::run(fmt::format("{} import --maps {}/each --cam mine --out {}/from_files", cli, d, d));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(io::read_text(dir / "imported" / "index.csv"), io::read_text(dir / "from_files" / "index.csv"));
  EXPECT_EQ(io::read_text(dir / "imported" / "maps_external.npy"), io::read_text(dir / "from_files" / "maps_mine.npy"));
  for (const auto& [store, cam] : {std::pair<std::string, std::string>{s, "gradcam"},
                                   {d + "/imported", "external"},
                                   {d + "/from_files", "mine"}}) {
    std::tie(rc, out) =
        test::run(fmt::format("{} analyze --store {} --cam {} --scores {}/scores.txt --labels-from-folders --bootstrap "
                              "200 --permutations 199 --null-controls 0 --no-figures "
                              "--out {}_analysis",
                              cli, store, cam, d, store));
    ASSERT_EQ(rc, 0) << out;
  }
  const auto reference = read_json(s + "_analysis/summary.json")["methods"]["scores"];
  expect_same_numbers(reference, read_json(d + "/imported_analysis/summary.json")["methods"]["scores"], 1e-6,
                      "imported stack");
  expect_same_numbers(reference, read_json(d + "/from_files_analysis/summary.json")["methods"]["scores"], 1e-6,
                      "imported files");
}

TEST(Import, OfficialHighLowStacksGiveTheirGroups) {
  test::TempDir dir;
  const auto d = dir.path().string();
  // High-quality maps: quiet outside the centre; low-quality: noisy everywhere (the paper's finding).
  python(
      fmt::format("import numpy as np; r = np.random.default_rng(3); c = np.zeros((7, 7), np.float32); c[2:5, 2:5] = 1;"
                  "np.save('{0}/SER-FIQ_high.npy', (c + 0.05 * r.random((40, 7, 7))).astype(np.float32));"
                  "np.save('{0}/SER-FIQ_low.npy', (c + 0.8 * r.random((40, 7, 7))).astype(np.float32))",
                  d));
  const auto cli = test::cli().string();
  auto [rc, out] = test::run(fmt::format("{} import --group-stacks {} --out {}/store", cli, d, d));
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) =
      test::run(fmt::format("{} analyze --store {}/store --cam external --group thresholds:0.5 --bootstrap 200 "
                            "--permutations 199 --null-controls 0 --no-figures --out {}/an",
                            cli, d, d));
  ASSERT_EQ(rc, 0) << out;
  const auto m = read_json(d + "/an/summary.json")["methods"]["SER-FIQ"];
  const auto& groups = m["group_order"];
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(m["groups"][groups[0].get<std::string>()]["count"], 40);
  EXPECT_EQ(m["groups"][groups[1].get<std::string>()]["count"], 40);
  EXPECT_GT(m["comparison"]["outside_amv_low_minus_high"].get<double>(), 0) << "low-quality maps vary more outside";
}

TEST(Import, BadInputsNameTheFileAndTheRow) {
  test::TempDir dir;
  const auto d = dir.path().string();
  python(fmt::format(
      "import numpy as np; m = np.ones((3, 7, 7), np.float32); np.save('{0}/ok.npy', m); np.save('{0}/f64.npy', "
      "m.astype(float));"
      "m[1, 2, 3] = np.nan; np.save('{0}/nan.npy', m); np.save('{0}/flat.npy', np.ones((3, 49), np.float32));"
      "np.save('{0}/empty.npy', np.ones((3, 0, 7), np.float32))",
      d));
  io::write_text_atomically(dir / "three.txt", "a.jpg\nb.jpg\nc.jpg\n");
  io::write_text_atomically(dir / "two.txt", "a.jpg\nb.jpg\n");
  io::write_text_atomically(dir / "twice.txt", "a.jpg\nb.jpg\na.jpg\n");
  const auto attempt = [&](const std::string& maps, const std::string& list) {
    store::MapsImport o;
    o.maps = dir / maps;
    o.list = dir / list;
    o.out = dir / ("out_" + maps + list);
    try {
      store::import_maps(o);
    } catch (const Error& e) {
      EXPECT_FALSE(fs::exists(o.out)) << "nothing is left behind";
      return std::string(e.what());
    }
    return std::string("imported");
  };
  EXPECT_EQ(attempt("ok.npy", "three.txt"), "imported");
  EXPECT_NE(attempt("ok.npy", "two.txt").find("has 3 maps but"), std::string::npos);
  EXPECT_NE(attempt("nan.npy", "three.txt").find("row 1 (b.jpg) holds NaN"), std::string::npos);
  EXPECT_NE(attempt("ok.npy", "twice.txt").find("twice.txt:3: 'a.jpg' is listed twice (first at line 1)"),
            std::string::npos);
  EXPECT_NE(attempt("f64.npy", "three.txt").find("astype(np.float32)"), std::string::npos);
  EXPECT_NE(attempt("flat.npy", "three.txt").find("not a stack N x H x W"), std::string::npos);
  // A stack of maps without pixels is named with its file (it reached the store's own row check).
  EXPECT_NE(attempt("empty.npy", "three.txt").find("empty.npy: maps of shape 0 x 7 hold no pixels"), std::string::npos)
      << attempt("empty.npy", "three.txt");
}
