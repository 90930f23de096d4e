// The README's Commands block and the CLI cannot drift apart: every subcommand it names
// answers --help, and every option it documents for a subcommand is one that subcommand has.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "amva/io/atomic_file.hpp"
#include "support.hpp"

using namespace amva;

TEST(Readme, CommandsBlockMatchesTheCli) {
  const auto readme = io::read_text(std::filesystem::path(AMVA_TEST_SOURCE_DIR) / "README.md");
  const auto start = readme.find("## Commands");
  ASSERT_NE(start, std::string::npos);
  const auto open = readme.find("```", start);
  const auto close = readme.find("```", open + 3);
  ASSERT_NE(close, std::string::npos);
  std::istringstream block(readme.substr(open + 3, close - open - 3));
  std::map<std::string, std::set<std::string>> documented;
  std::string command;
  for (std::string line; std::getline(block, line);) {
    const auto code = line.substr(0, line.find('#'));  // a trailing comment is prose
    std::smatch m;
    if (std::regex_search(code, m, std::regex(R"(^amva (\w+))"))) command = m[1];
    if (command.empty()) continue;
    const std::regex option(R"(--[a-z][a-z0-9-]*)");
    for (auto it = std::sregex_iterator(code.begin(), code.end(), option); it != std::sregex_iterator(); ++it) {
      documented[command].insert(it->str());
    }
  }
  ASSERT_EQ(documented.size(), 13u) << "every subcommand is in the block";
  for (const auto& [sub, options] : documented) {
    const auto [rc, help] = test::run(fmt::format("{} {} --help", test::cli().string(), sub));
    EXPECT_EQ(rc, 0) << sub << ": " << help;
    for (const auto& o : options) {
      EXPECT_TRUE(std::regex_search(help, std::regex(o + R"(([^a-z0-9-]|$))"))) << "amva " << sub << " has no " << o;
    }
  }
}
