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
  EXPECT_THROW(t.column("nope"), amva::Error);

  std::ofstream(dir / "bad.csv") << "a,b\n1,2\n3\n";
  try {
    read_csv(dir / "bad.csv");
    FAIL() << "a short row must be an error";
  } catch (const amva::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:3"), std::string::npos) << e.what();
  }
}
