#include <gtest/gtest.h>

#include <fstream>

#include "amva/quality/scores.hpp"
#include "support.hpp"

using namespace amva;
using namespace amva::quality;

namespace {
std::vector<store::IndexEntry> index_of(const std::vector<std::pair<std::string, bool>>& rows) {
  std::vector<store::IndexEntry> v;
  for (const auto& [p, ok] : rows) v.push_back({p, ok});
  return v;
}

const auto kIndex = index_of({{"alice/a_0001.jpg", true},
                              {"alice/a_0002.jpg", true},
                              {"bob/b_0001.jpg", true},
                              {"bob/b_0001.jpg", true},  // a second face of the same image
                              {"carol/c_0001.jpg", false},
                              {"dave/same.jpg", true},
                              {"erin/same.jpg", true}});

void write(const test::fs::path& file, const std::string& text) {
  std::ofstream(file) << text;
}
}  // namespace

TEST(ScoreFiles, PathScoreLinesAsCrFiqaWrites) {
  test::TempDir dir;
  write(dir / "crfiqa.txt",
        "/data/lfw/alice/a_0001.jpg 0.81\n"  // suffix of an absolute path
        "alice/a_0002.jpg\t0.12\n"           // tab
        "b_0001.jpg 0.5\n"                   // file name only: both faces of bob's image
        "carol/c_0001.jpg 0.9\n"             // failed record: no score
        "same.jpg 0.3\n"                     // two images share the name: ambiguous
        "zed/z.jpg 0.4\n"                    // not in the store
        "dave/same.jpg nan\n"                // invalid
        "\n");
  ScoreMatchReport r;
  const auto c = load_external_scores(ScoreFileSpec::parse((dir / "crfiqa.txt").string()), kIndex, false, 0.5, r);
  EXPECT_EQ(c.name, "crfiqa");
  EXPECT_EQ(r.format, "path score");
  EXPECT_EQ(r.rows, 7u);
  EXPECT_EQ(r.matched_by_path, 3u);
  EXPECT_EQ(r.matched_by_name, 1u);
  EXPECT_EQ(r.ambiguous, 1u);
  EXPECT_EQ(r.unmatched, 1u);
  EXPECT_EQ(r.invalid, 1u);
  EXPECT_EQ(r.unmatched_examples, std::vector<std::string>{"zed/z.jpg"});
  EXPECT_DOUBLE_EQ(c.values[0], 0.81);
  EXPECT_DOUBLE_EQ(c.values[1], 0.12);
  EXPECT_DOUBLE_EQ(c.values[2], 0.5);
  EXPECT_DOUBLE_EQ(c.values[3], 0.5);
  EXPECT_TRUE(std::isnan(c.values[4]));
  EXPECT_TRUE(std::isnan(c.values[5]));
  EXPECT_EQ(r.store_faces, 6u);
  EXPECT_EQ(r.scored_faces, 4u);
}

TEST(ScoreFiles, SemicolonCsvAsOfiqWritesWithAColumnAndNegation) {
  test::TempDir dir;
  write(dir / "ofiq.csv",
        "Filename;UnifiedQualityScore.scalar;Sharpness.scalar\n"
        "alice/a_0001.jpg;40;10\n"
        "alice/a_0002.jpg;70;20\n"
        "bob/b_0001.jpg;55;30\n"
        "dave/same.jpg;10;1\n"
        "erin/same.jpg;90;2\n");
  ScoreMatchReport r;
  const auto spec = ScoreFileSpec::parse((dir / "ofiq.csv").string() + ":Sharpness.scalar");
  EXPECT_EQ(spec.column, "Sharpness.scalar");
  const auto c = load_external_scores(spec, kIndex, true, 1.0, r);
  EXPECT_EQ(c.name, "Sharpness.scalar");
  EXPECT_EQ(r.path_column, "Filename");
  EXPECT_TRUE(c.negated);
  EXPECT_DOUBLE_EQ(c.values[1], -20);
  EXPECT_DOUBLE_EQ(c.values[6], -2);
  // Two score columns and none named: the user must choose.
  EXPECT_THROW(load_external_scores(ScoreFileSpec::parse((dir / "ofiq.csv").string()), kIndex, false, 0, r), Error);
}

TEST(ScoreFiles, CommaAndTabCsvDuplicatesAndRenaming) {
  test::TempDir dir;
  write(dir / "s.csv",
        "image,score\n"
        "alice/a_0001.jpg,1\n"
        "alice/a_0001.jpg,1\n"  // repeated with the same score: harmless
        "alice/a_0002.jpg,2\n"
        "alice/a_0002.jpg,3\n"  // conflicting: a duplicate, left out
        "bob/b_0001.jpg,\n");   // empty: invalid
  ScoreMatchReport r;
  const auto c = load_external_scores(ScoreFileSpec::parse("mine=" + (dir / "s.csv").string()), kIndex, false, 0.1, r);
  EXPECT_EQ(c.name, "mine");
  EXPECT_EQ(r.duplicates, 1u);
  EXPECT_EQ(r.invalid, 1u);
  EXPECT_DOUBLE_EQ(c.values[0], 1);
  EXPECT_TRUE(std::isnan(c.values[1]));
  write(dir / "t.tsv", "path\tq\nbob/b_0001.jpg\t0.25\n");
  const auto t = load_external_scores(ScoreFileSpec::parse((dir / "t.tsv").string()), kIndex, false, 0.1, r);
  EXPECT_DOUBLE_EQ(t.values[3], 0.25);
  EXPECT_EQ(r.format, "csv");
}

TEST(ScoreFiles, TooFewMatchesStopTheRunWithTheCounts) {
  test::TempDir dir;
  write(dir / "few.txt", "alice/a_0001.jpg 1\nnobody/x.jpg 2\n");
  ScoreMatchReport r;
  try {
    load_external_scores(ScoreFileSpec::parse((dir / "few.txt").string()), kIndex, false, 0.9, r);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Mismatch);
    EXPECT_NE(std::string(e.what()).find("1 of 6 faces"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nobody/x.jpg"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ScoreFileSpec::parse((dir / "missing.csv").string()), Error);
  write(dir / "bad.csv", "path,score\nalice/a_0001.jpg,1,extra\n");
  EXPECT_THROW(load_external_scores(ScoreFileSpec::parse((dir / "bad.csv").string()), kIndex, false, 0, r), Error);
}

// A score is a finite number (issue 34, item 8): NaN, infinities and numbers past a double's
// range are invalid and counted; a subnormal number is a number.
TEST(ScoreFiles, NonFiniteAndOverflowingScoresAreInvalidSubnormalOnesAreNot) {
  test::TempDir dir;
  write(dir / "odd.txt",
        "erin/same.jpg 0.25\n"  // first: a file that opens with a number is read as `path score` lines
        "alice/a_0001.jpg inf\n"
        "alice/a_0002.jpg -inf\n"
        "bob/b_0001.jpg 1e400\n"
        "dave/same.jpg 4e-320\n");
  ScoreMatchReport r;
  const auto c = load_external_scores(ScoreFileSpec::parse((dir / "odd.txt").string()), kIndex, false, 0.1, r);
  EXPECT_EQ(r.invalid, 3u);
  EXPECT_TRUE(std::isnan(c.values[0]));
  EXPECT_TRUE(std::isnan(c.values[1]));
  EXPECT_TRUE(std::isnan(c.values[2]));
  EXPECT_DOUBLE_EQ(c.values[5], 4e-320);
  EXPECT_GT(c.values[5], 0.0);
  EXPECT_DOUBLE_EQ(c.values[6], 0.25);
}

// `--scores X=F` alone analyses X alone; named built-in methods still come beside it.
TEST(ScoreFiles, ScoreFilesAloneLeaveTheBuiltInMethodsOut) {
  test::TempDir dir;
  const std::vector<store::IndexEntry> index = index_of({{"a.jpg", true}, {"b.jpg", true}, {"c.jpg", true}});
  write(dir / "quality.csv", "id,path,sharpness\n0,a.jpg,1\n1,b.jpg,2\n2,c.jpg,3\n");
  write(dir / "ext.txt", "a.jpg 3\nb.jpg 1\nc.jpg 2\n");
  std::vector<ScoreMatchReport> reports;
  ScoreRequest request;
  request.files = {ScoreFileSpec::parse("x=" + (dir / "ext.txt").string())};
  auto columns = load_scores(dir.path(), index, request, reports);
  ASSERT_EQ(columns.size(), 1u);
  EXPECT_EQ(columns[0].name, "x");
  request.methods = {"sharpness"};
  columns = load_scores(dir.path(), index, request, reports);
  ASSERT_EQ(columns.size(), 2u);
  EXPECT_EQ(columns[0].name, "sharpness");
  // A constant method cannot rank faces: load_scores refuses it, and amva run asks which.
  write(dir / "quality.csv", "id,path,sharpness,face_size\n0,a.jpg,1,112\n1,b.jpg,2,112\n2,c.jpg,3,112\n");
  request = {};
  request.methods = {"sharpness", "face_size"};
  EXPECT_THROW(load_scores(dir.path(), index, request, reports), Error);
  EXPECT_EQ(unrankable_methods(dir.path(), index, request), std::vector<std::string>{"face_size"});
}
