// The documentation and the code cannot drift apart: every command line in the README and the
// CLI reference (docs/cli.md) uses options its subcommand has, the reference names every
// subcommand, the README stays short enough to read in five minutes and links documents that
// exist, and the layout table of docs/development.md gives each area the dependencies that its
// folder's CMakeLists.txt declares.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "amva/io/atomic_file.hpp"
#include "support.hpp"

using namespace amva;
namespace {

const std::filesystem::path kSource(AMVA_TEST_SOURCE_DIR);

std::string read_source(const std::filesystem::path& relative) {
  return io::read_text(kSource / relative);
}

// The options of every `amva SUBCOMMAND` line in the fenced blocks of `markdown` (a line
// without `amva` continues the command above it; a trailing # comment is prose).
std::map<std::string, std::set<std::string>> documented_options(const std::string& markdown) {
  std::map<std::string, std::set<std::string>> documented;
  std::size_t at = 0;
  while (true) {
    const auto open = markdown.find("```", at);
    if (open == std::string::npos) break;
    const auto close = markdown.find("```", open + 3);
    if (close == std::string::npos) break;
    std::istringstream block(markdown.substr(open + 3, close - open - 3));
    std::string command;
    for (std::string line; std::getline(block, line);) {
      const auto code = line.substr(0, line.find('#'));
      std::smatch m;
      if (std::regex_search(code, m, std::regex(R"((^|\s)amva (model \w+|\w+))"))) command = m[2];
      if (command.empty()) continue;
      const std::regex option(R"(--[a-z][a-z0-9-]*)");
      for (auto it = std::sregex_iterator(code.begin(), code.end(), option); it != std::sregex_iterator(); ++it) {
        documented[command].insert(it->str());
      }
    }
    at = close + 3;
  }
  return documented;
}

void expect_options_exist(const std::map<std::string, std::set<std::string>>& documented, const std::string& where) {
  for (const auto& [sub, options] : documented) {
    const auto [rc, help] = test::run(fmt::format("{} {} --help", test::cli().string(), sub));
    EXPECT_EQ(rc, 0) << where << ": amva " << sub << ": " << help;
    for (const auto& o : options) {
      EXPECT_TRUE(std::regex_search(help, std::regex(o + R"(([^a-z0-9-]|$))")))
          << where << ": amva " << sub << " has no " << o;
    }
  }
}

std::vector<std::string> words(const std::string& list) {
  std::vector<std::string> out;
  const std::regex word(R"([a-z]+)");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), word); it != std::sregex_iterator(); ++it) {
    out.push_back(it->str());
  }
  return out;
}

}  // namespace

TEST(Readme, CommandsBlockMatchesTheCli) {
  const auto readme = read_source("README.md");
  const auto documented = documented_options(readme);
  for (const char* tour : {"run", "extract", "analyze", "edc", "explain"}) {
    EXPECT_TRUE(documented.count(tour)) << "the README's tour shows amva " << tour;
  }
  expect_options_exist(documented, "README.md");
}

TEST(Readme, CliReferenceNamesEverySubcommandWithItsOptions) {
  const auto reference = read_source("docs/cli.md");
  const auto documented = documented_options(reference);
  EXPECT_EQ(documented.size(), 14u) << "every subcommand is in docs/cli.md";
  expect_options_exist(documented, "docs/cli.md");
}

TEST(Readme, IsShortAndLinksDocumentsThatExist) {
  const auto readme = read_source("README.md");
  EXPECT_LE(std::count(readme.begin(), readme.end(), '\n'), 150) << "the README is read in five minutes";
  const std::regex link(R"(\]\(([^)#:]+)\))");
  int links = 0;
  for (auto it = std::sregex_iterator(readme.begin(), readme.end(), link); it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(std::filesystem::exists(kSource / (*it)[1].str())) << (*it)[1];
    ++links;
  }
  EXPECT_GE(links, 8);
}

TEST(Readme, LayoutTableGivesEachAreaItsCMakeDependencies) {
  // Each area declares itself in its folder; core, in src/ itself.
  std::string cmake = read_source("src/CMakeLists.txt");
  for (const auto& entry : std::filesystem::directory_iterator(kSource / "src")) {
    if (std::filesystem::exists(entry.path() / "CMakeLists.txt")) cmake += io::read_text(entry.path() / "CMakeLists.txt");
  }
  std::map<std::string, std::set<std::string>> declared;
  const std::regex area(R"(amva_area\((\w+)([^)]*)\))");
  for (auto it = std::sregex_iterator(cmake.begin(), cmake.end(), area); it != std::sregex_iterator(); ++it) {
    const std::string body = (*it)[2];
    const auto depends = body.find("DEPENDS");
    const auto uses = body.find("USES");
    const auto names = depends == std::string::npos
                           ? std::vector<std::string>{}
                           : words(body.substr(depends + 7, uses == std::string::npos ? std::string::npos
                                                                                      : uses - depends - 7));
    declared[(*it)[1]] = {names.begin(), names.end()};
  }
  ASSERT_GE(declared.size(), 14u);

  const auto doc = read_source("docs/development.md");
  std::map<std::string, std::set<std::string>> tabled;
  const std::regex row(R"(\n\| (\w+) \| ([a-z, -]+) \|)");
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator(); ++it) {
    if ((*it)[1] == "area") continue;  // the header
    const auto names = words((*it)[2]);
    tabled[(*it)[1]] = {names.begin(), names.end()};
  }
  EXPECT_EQ(tabled, declared) << "docs/development.md's layout table against src/*/CMakeLists.txt";
}
