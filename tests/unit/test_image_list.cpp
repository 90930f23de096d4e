#include <gtest/gtest.h>

#include <fstream>

#include "amva/error.hpp"
#include "amva/io/image_list.hpp"
#include "support.hpp"

using namespace amva;

TEST(ImageList, FolderIsRecursiveSortedAndSkipsHidden) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "b/c");
  std::filesystem::create_directories(dir / ".hidden");
  for (const char* f : {"z.jpg", "b/a.png", "b/c/x.pgm", ".hidden/h.jpg", ".dot.jpg", "readme.txt"}) {
    std::ofstream(dir / f) << "x";
  }
  const auto entries = io::list_images(dir.path());
  std::vector<std::string> keys;
  for (const auto& e : entries) keys.push_back(e.key);
  // Non-images stay in the list so that the run records them as failures.
  EXPECT_EQ(keys, (std::vector<std::string>{"b/a.png", "b/c/x.pgm", "readme.txt", "z.jpg"}));
}

TEST(ImageList, ListFileResolvesRelativePaths) {
  test::TempDir dir;
  std::ofstream(dir / "list.txt") << "# comment\n\nimgs/a.jpg\tAlice\n  /abs/b.png  \n";
  const auto entries = io::list_images(dir / "list.txt");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].key, "imgs/a.jpg");
  EXPECT_EQ(entries[0].file, dir / "imgs/a.jpg");
  EXPECT_EQ(entries[1].file, "/abs/b.png");
  EXPECT_THROW(io::list_images(dir / "missing"), Error);
}
