#include <gtest/gtest.h>

#include <fstream>

#include "amva/error.hpp"
#include "amva/io/csv.hpp"
#include "support.hpp"

using namespace amva::io;

TEST(Csv, QuotesOnlyWhenNeededAndSplitsBack) {
  const std::vector<std::string> fields = {"plain", "with,comma", "with \"quote\"", ""};
  const std::string line = csv_line(fields);
  EXPECT_EQ(line, "plain,\"with,comma\",\"with \"\"quote\"\"\",");
  EXPECT_EQ(split_csv_line(line), fields);
}

TEST(Csv, DetectsDelimiterAndReportsBadRows) {
  amva::test::TempDir dir;
  std::ofstream(dir / "semi.csv") << "Filename;UnifiedQualityScore.scalar\na.jpg;42\nb.jpg;7\n";
  const auto t = read_csv(dir / "semi.csv");
  EXPECT_EQ(t.delimiter, ';');
  EXPECT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.column("UnifiedQualityScore.scalar"), 1u);
  EXPECT_THROW(static_cast<void>(t.column("nope")), amva::Error);

  std::ofstream(dir / "bad.csv") << "a,b\n1,2\n3\n";
  try {
    read_csv(dir / "bad.csv");
    FAIL() << "a short row must be an error";
  } catch (const amva::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:3"), std::string::npos) << e.what();
  }
}

// RFC 4180: a quoted field may span lines; the writer quotes line breaks, the reader joins them.
TEST(Csv, QuotedLineBreaksRoundTrip) {
  amva::test::TempDir dir;
  const std::vector<std::string> row = {"a\nb.jpg", "say \"hi\"", "x,y", ""};
  std::ofstream(dir / "t.csv") << csv_line({"p", "q", "r", "s"}) << "\n"
                               << csv_line(row) << "\n\n"
                               << csv_line({"1", "2", "3", "4"}) << "\n";
  const auto t = read_csv(dir / "t.csv", ',');
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0], row);
  EXPECT_EQ(t.line_numbers[0], 2);
  EXPECT_EQ(t.line_numbers[1], 5);
  std::ofstream(dir / "open.csv") << "p,q\n\"never closed,1\n";
  EXPECT_THROW(read_csv(dir / "open.csv", ','), amva::Error);
}
