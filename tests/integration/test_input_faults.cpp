// Bad inputs at listing and decoding (issue 11, items 4-5): every one becomes a record with its
// reason or a printed skip, and the run goes on; nothing hangs or allocates what a header claims.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/image_header.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/image_list.hpp"
#include "amva/store/store.hpp"
#include "support.hpp"

using namespace amva;
namespace fs = std::filesystem;

namespace {
std::vector<unsigned char> bytes_of(const fs::path& f) {
  const auto text = io::read_text(f);
  return {text.begin(), text.end()};
}

// sample1.jpg with its frame header claiming 30000 x 30000 pixels.
std::vector<unsigned char> jpeg_bomb() {
  auto b = bytes_of(test::sources_dir() / "sample1.jpg");
  for (std::size_t i = 2; i + 9 < b.size(); ++i) {
    if (b[i] == 0xFF && (b[i + 1] == 0xC0 || b[i + 1] == 0xC2)) {
      for (const std::size_t at : {i + 5, i + 7}) {
        b[at] = 30000 >> 8;
        b[at + 1] = 30000 & 0xFF;
      }
      return b;
    }
  }
  return {};
}

std::string reasons_of(const fs::path& store) {
  return io::read_text(store / "index.csv");
}
}  // namespace

TEST(InputFaults, HeaderDimensionsOfEveryCommonFormat) {
  test::TempDir dir;
  // Every format OpenCV 4.6 decodes here (JPEG 2000 needs a size its encoder accepts).
  const cv::Mat image(53, 37, CV_8UC3, cv::Scalar(10, 200, 30));
  for (const char* ext :
       {".jpg", ".png", ".bmp", ".webp", ".ppm", ".pgm", ".tiff", ".jp2", ".pfm", ".ras", ".hdr", ".pam"}) {
    const auto file = dir / (std::string("a") + ext);
    const std::string e = ext;
    cv::Mat written = image;
    if (e == ".pgm") cv::extractChannel(image, written, 0);
    if (e == ".pfm" || e == ".hdr") image.convertTo(written, CV_32F, 1.0 / 255);
    ASSERT_TRUE(cv::imwrite(file.string(), written)) << ext;
    ASSERT_EQ(cv::imread(file.string()).size(), cv::Size(37, 53)) << ext;
    const auto size = io::header_dimensions(bytes_of(file));
    ASSERT_TRUE(size.has_value()) << ext;
    EXPECT_EQ(size->width, 37) << ext;
    EXPECT_EQ(size->height, 53) << ext;
  }
  // GIF: OpenCV 4.6 writes none; its logical screen size follows the signature.
  const std::vector<unsigned char> gif = {'G', 'I', 'F', '8', '9', 'a', 37, 0, 23, 0, 0, 0, 0};
  EXPECT_EQ(io::header_dimensions(gif), cv::Size(37, 23));
  EXPECT_FALSE(io::header_dimensions({'n', 'o', 'p', 'e'}).has_value());
  EXPECT_EQ(io::header_dimensions(jpeg_bomb()), cv::Size(30000, 30000));
  // Bytes that are no marker before the frame header: libjpeg skips them and so does the probe
  // (the fuzzer's find: such a file took 5.4 GB).
  auto hidden = jpeg_bomb();
  hidden.insert(hidden.begin() + 20, {0x06, 0xBB, 0xBB, 0x02});
  EXPECT_EQ(io::header_dimensions(hidden), cv::Size(30000, 30000));
}

// A few hundred bytes that claim 30000 x 30000 pixels are refused from the header: nothing is
// decoded (the old decode took 5.4 GB and 14 s).
TEST(InputFaults, DecompressionBombIsRecordedAsTooLarge) {
  const auto bomb = jpeg_bomb();
  ASSERT_FALSE(bomb.empty());
  try {
    io::decode_bgr(bomb, "bomb.jpg");
    FAIL() << "decoded a bomb";
  } catch (const Error& e) {
    EXPECT_EQ(e.reason(), "too_large");
    EXPECT_NE(std::string(e.what()).find("30000 x 30000"), std::string::npos) << e.what();
  }
  // A real photo passes the default limit and is refused by a small one.
  EXPECT_NO_THROW(io::load_bgr(test::sources_dir() / "sample1.jpg"));
  EXPECT_THROW(io::load_bgr(test::sources_dir() / "sample1.jpg", 1000), Error);
}

// Through the command line: a list naming a FIFO, a folder, a missing file and a bomb beside a
// real photo; a folder with a dangling symlink and a symlink loop. The run finishes, each bad
// entry a record with its reason, the loop a printed skip.
TEST(InputFaults, ListingAndDecodingFaultsBecomeRecords) {
  test::TempDir dir;
  fs::create_directories(dir / "in" / "sub");
  fs::copy(test::sources_dir() / "sample1.jpg", dir / "in" / "photo.jpg");
  {
    std::ofstream out(dir / "in" / "bomb.jpg", std::ios::binary);
    const auto b = jpeg_bomb();
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  ASSERT_EQ(::mkfifo((dir / "fifo.jpg").c_str(), 0644), 0);
  std::ofstream(dir / "list.txt") << "in/photo.jpg\nin/bomb.jpg\nfifo.jpg\nin/sub\nin/absent.jpg\n";
  const auto cmd = [&](const fs::path& images, const fs::path& out) {
    return test::run(fmt::format("timeout 120 {} extract --images {} --out {} --models {}", test::cli().string(),
                                 images.string(), out.string(), test::models_dir().string()));
  };
  const auto [rc, out] = cmd(dir / "list.txt", dir / "s1");
  ASSERT_EQ(rc, 0) << out;
  const auto index = reasons_of(dir / "s1");
  for (const char* reason : {"too_large", "not_a_file", "missing"}) {
    EXPECT_NE(index.find(reason), std::string::npos) << reason << "\n" << index;
  }
  EXPECT_NE(out.find("too_large"), std::string::npos) << out;

  fs::create_symlink("../nowhere.jpg", dir / "in" / "dangling.jpg");
  fs::create_directory_symlink("..", dir / "in" / "sub" / "loop");
  fs::remove(dir / "in" / "bomb.jpg");
  const auto [rc2, out2] = cmd(dir / "in", dir / "s2");
  ASSERT_EQ(rc2, 0) << out2;
  EXPECT_NE(out2.find("skipped: "), std::string::npos) << out2;
  EXPECT_NE(out2.find("symbolic link loop"), std::string::npos) << out2;
  const auto index2 = reasons_of(dir / "s2");
  EXPECT_NE(index2.find("dangling.jpg"), std::string::npos) << index2;
  EXPECT_NE(index2.find("missing"), std::string::npos) << index2;
}

// Damaged compressed data in a JPEG (a third of the scan overwritten, a marker in the middle):
// libjpeg decoded it into grey and garbage, printed "Corrupt JPEG data" naming no file even
// under -q, and the image was stored as ok. Now it is a record with libjpeg's words, and
// nothing reaches the terminal but amva's own lines.
TEST(InputFaults, DamagedJpegDataIsRecordedNotAnalysed) {
  test::TempDir dir;
  fs::create_directories(dir / "in");
  fs::copy(test::sources_dir() / "sample2.jpg", dir / "in" / "intact.jpg");
  auto b = bytes_of(test::sources_dir() / "sample1.jpg");
  std::size_t scan = 0;
  for (std::size_t i = 2; i + 4 < b.size(); ++i) {
    if (b[i] == 0xFF && b[i + 1] == 0xDA) {
      scan = i + 2 + (static_cast<std::size_t>(b[i + 2]) << 8 | b[i + 3]);
      break;
    }
  }
  ASSERT_GT(scan, 0u);
  const std::size_t from = scan + (b.size() - scan) / 3;
  std::mt19937 random(1);
  for (std::size_t i = from; i < from + 400; ++i) b[i] = static_cast<unsigned char>(random() % 255);
  b[from + 200] = 0xFF;
  b[from + 201] = 0xD9;  // an end-of-image marker inside the scan
  {
    std::ofstream out(dir / "in" / "damaged.jpg", std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  const auto [rc, out] =
      test::run(fmt::format("{} extract -q --images {} --out {} --models {}", test::cli().string(),
                            (dir / "in").string(), (dir / "s").string(), test::models_dir().string()));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out.find("Corrupt JPEG data"), std::string::npos) << "libjpeg's own line reached the terminal:\n" << out;
  EXPECT_NE(out.find("corrupt"), std::string::npos) << out;
  const auto store = store::read_store(dir / "s");
  ASSERT_EQ(store.table.records.size(), 2u);
  for (const auto& r : store.table.records) {
    if (r.path == "damaged.jpg") {
      EXPECT_FALSE(r.ok);
      EXPECT_EQ(r.reason, "corrupt");
      EXPECT_NE(r.error.find("damaged.jpg: damaged JPEG data (Corrupt JPEG data"), std::string::npos) << r.error;
    } else {
      EXPECT_TRUE(r.ok) << r.path;
    }
  }
}

// A folder nested beyond the system's path limit (4,096 characters) is named as such when the
// folder is walked, never dropped without a word (it was: 0 images listed, exit 0).
TEST(InputFaults, AFolderBeyondThePathLimitIsNamed) {
  test::TempDir dir;
  fs::create_directories(dir / "in");
  fs::copy(test::sources_dir() / "sample1.jpg", dir / "in" / "photo.jpg");
  // Made one level at a time from inside, since the whole path is too long for one call.
  const std::string level(100, 'd');
  const int parent = ::open((dir / "in").c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(parent, 0);
  int at = parent;
  for (int depth = 0; depth < 45; ++depth) {
    ASSERT_EQ(::mkdirat(at, level.c_str(), 0755), 0) << depth;
    const int next = ::openat(at, level.c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(next, 0) << depth;
    if (at != parent) ::close(at);
    at = next;
  }
  ::close(at);
  ::close(parent);
  const auto [rc, out] =
      test::run(fmt::format("{} extract --images {} --out {} --models {}", test::cli().string(), (dir / "in").string(),
                            (dir / "s").string(), test::models_dir().string()));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("longer than the system allows; not read"), std::string::npos) << out.substr(0, 3000);
  EXPECT_NE(out.find("images listed 1"), std::string::npos) << out.substr(0, 3000);
  // std::filesystem cannot remove what it cannot name; rm walks the tree level by level.
  EXPECT_EQ(test::run(fmt::format("rm -rf '{}'", (dir / "in").string())).first, 0);
}

// A newline and a byte that is not UTF-8 in file names: the store reads back (the CSV reader
// joins a quoted field's lines), resuming finds both images done, and every JSON output is
// written (the invalid byte as U+FFFD) instead of failing with a JSON library error.
TEST(InputFaults, NewlinesAndNonUtf8BytesInFileNames) {
  test::TempDir dir;
  fs::create_directories(dir / "in");
  const std::string newline = "new\nline.jpg", latin1 = std::string("caf") + char(0xE9) + ".jpg";
  fs::copy(test::sources_dir() / "sample1.jpg", dir / "in" / newline);
  fs::copy(test::sources_dir() / "grace_hopper.jpg", dir / "in" / latin1);
  fs::copy(test::sources_dir() / "sample2.jpg", dir / "in" / "plain.jpg");
  // Four faces, so that top:50 gives the reference two (explain needs their variation).
  fs::copy(test::sources_dir() / "sample3.jpg", dir / "in" / "plain2.jpg");
  const auto amva = [&](const std::string& args) {
    return test::run(fmt::format("{} {} --models {}", test::cli().string(), args, test::models_dir().string()));
  };
  const auto store = (dir / "store").string();
  const auto in = (dir / "in").string();
  auto [rc, out] = amva(fmt::format("extract --images {} --out {} --cam gradcam", in, store));
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = amva(fmt::format("extract --images {} --out {} --cam gradcam", in, store));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("already in store 4"), std::string::npos) << out;
  std::tie(rc, out) = amva(fmt::format("quality --store {} --methods sharpness,brightness", store));
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = test::run(
      fmt::format("{} analyze --store {} --out {} --no-figures --permutations 99 --null-controls 2 --group top:50",
                  test::cli().string(), store, (dir / "analysis").string()));
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = amva(fmt::format("explain --reference {} --image '{}' --out {}",
                                       (dir / "analysis" / "reference_sharpness").string(),
                                       (dir / "in" / latin1).string(), (dir / "explained").string()));
  ASSERT_EQ(rc, 0) << out;
  bool found = false;
  for (const auto& e : fs::recursive_directory_iterator(dir / "explained")) {
    if (e.path().filename() != "explain.json") continue;
    const auto text = io::read_text(e.path());
    EXPECT_NE(text.find("caf\xEF\xBF\xBD"), std::string::npos) << text.substr(0, 400);  // U+FFFD
    found = true;
  }
  EXPECT_TRUE(found);

  // Outputs stay inside --out: the stem of "...jpg" is "..", and a method may not be named so.
  fs::copy(test::sources_dir() / "sample2.jpg", dir / "in" / "...jpg");
  std::tie(rc, out) = amva(fmt::format("explain --reference {} --image {} --out {}",
                                       (dir / "analysis" / "reference_sharpness").string(),
                                       (dir / "in" / "...jpg").string(), (dir / "dots" / "out").string()));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(fs::exists(dir / "dots" / "out" / "_.." / "explain.json")) << out;
  EXPECT_FALSE(fs::exists(dir / "dots" / "explain.json"));
  std::ofstream(dir / "s.csv") << "path,score\nplain.jpg,1\n";
  std::tie(rc, out) = test::run(
      fmt::format("{} analyze --store {} --out {} --scores '..={}' --min-match 0 --permutations 99 --null-controls 2",
                  test::cli().string(), store, (dir / "a2").string(), (dir / "s.csv").string()));
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("cannot name a method"), std::string::npos) << out;
}

// One file named twice (a repeated list line, and through a symlinked folder) is read once
// with a note; the store stays readable, and growing it with the list fixed works.
TEST(InputFaults, AliasesOfOneFileAreReadOnce) {
  test::TempDir dir;
  fs::create_directories(dir / "in");
  fs::copy(test::sources_dir() / "sample1.jpg", dir / "in" / "a.jpg");
  fs::copy(test::sources_dir() / "sample2.jpg", dir / "in" / "b.jpg");
  fs::create_directory_symlink(dir / "in", dir / "alias");
  std::ofstream(dir / "list.txt") << "in/a.jpg\nin/a.jpg\nalias/a.jpg\n./in/a.jpg\n";
  const auto extract = [&](const std::string& list) {
    return test::run(fmt::format("{} extract --images {} --out {} --models {}", test::cli().string(),
                                 (dir / list).string(), (dir / "store").string(), test::models_dir().string()));
  };
  auto [rc, out] = extract("list.txt");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("in/a.jpg: listed again; read once"), std::string::npos) << out;
  EXPECT_NE(out.find("alias/a.jpg: the same file as in/a.jpg"), std::string::npos) << out;
  EXPECT_NE(out.find("./in/a.jpg: the same file as in/a.jpg"), std::string::npos) << out;
  EXPECT_EQ(store::read_index_entries(dir / "store").size(), 1u);
  std::ofstream(dir / "fixed.txt") << "in/a.jpg\nin/b.jpg\n";
  std::tie(rc, out) = extract("fixed.txt");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(store::read_index_entries(dir / "store").size(), 2u);
}
