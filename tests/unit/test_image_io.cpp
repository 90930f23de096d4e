#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "amva/error.hpp"
#include "amva/io/image_io.hpp"
#include "support.hpp"

using amva::Error;
using amva::io::load_bgr;
using amva::test::TempDir;

namespace {
cv::Mat gradient_image(int w = 64, int h = 48) {
  cv::Mat img(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 4 % 256, y * 5 % 256, (x + y) % 256);
  return img;
}

void write_bytes(const std::filesystem::path& p, const std::vector<unsigned char>& b) {
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

std::string reason_of(const std::filesystem::path& p) {
  try {
    load_bgr(p);
  } catch (const Error& e) {
    return e.reason();
  }
  return "loaded";
}
}  // namespace

TEST(ImageIo, LosslessFormatsRoundTripExactly) {
  TempDir dir;
  const cv::Mat img = gradient_image();
  for (const std::string ext : {".png", ".bmp", ".ppm", ".tiff", ".webp"}) {
    const auto file = dir / ("img" + ext);
    std::vector<int> params;
    if (ext == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, 101};  // > 100: lossless
    ASSERT_TRUE(cv::imwrite(file.string(), img, params)) << ext;
    const cv::Mat back = load_bgr(file);
    ASSERT_EQ(back.type(), CV_8UC3) << ext;
    EXPECT_EQ(cv::norm(back, img, cv::NORM_INF), 0) << ext;
  }
}

TEST(ImageIo, JpegDecodesCloseToSource) {
  TempDir dir;
  const cv::Mat img = gradient_image();
  cv::imwrite((dir / "a.jpg").string(), img, {cv::IMWRITE_JPEG_QUALITY, 100});
  EXPECT_LT(cv::norm(load_bgr(dir / "a.jpg"), img, cv::NORM_L1) / img.total() / 3, 3.0);
}

TEST(ImageIo, GrayscalePgmIsReplicatedToThreeChannels) {
  TempDir dir;
  cv::Mat gray(10, 12, CV_8UC1);
  cv::randu(gray, 0, 255);
  cv::imwrite((dir / "g.pgm").string(), gray);
  const cv::Mat bgr = load_bgr(dir / "g.pgm");
  std::vector<cv::Mat> ch;
  cv::split(bgr, ch);
  for (const auto& c : ch) EXPECT_EQ(cv::norm(c, gray, cv::NORM_INF), 0);
}

TEST(ImageIo, SixteenBitIsScaledTo8Bit) {
  TempDir dir;
  cv::Mat img16(4, 4, CV_16UC3, cv::Scalar(65535, 32896, 0));
  cv::imwrite((dir / "d.png").string(), img16);
  const cv::Mat bgr = load_bgr(dir / "d.png");
  EXPECT_EQ(bgr.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 128, 0));
}

TEST(ImageIo, AlphaIsCompositedOverWhite) {
  TempDir dir;
  cv::Mat rgba(2, 2, CV_8UC4, cv::Scalar(0, 0, 200, 255));  // opaque red
  rgba.at<cv::Vec4b>(0, 1) = cv::Vec4b(0, 0, 0, 0);         // fully transparent black
  rgba.at<cv::Vec4b>(1, 0) = cv::Vec4b(0, 0, 0, 128);       // half-transparent black
  cv::imwrite((dir / "a.png").string(), rgba);
  const cv::Mat bgr = load_bgr(dir / "a.png");
  EXPECT_EQ(bgr.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 200));
  EXPECT_EQ(bgr.at<cv::Vec3b>(0, 1), cv::Vec3b(255, 255, 255));
  EXPECT_NEAR(bgr.at<cv::Vec3b>(1, 0)[0], 127, 1);
}

// A JPEG whose EXIF says "rotate 90 degrees clockwise to display" (orientation 6).
TEST(ImageIo, ExifOrientationIsApplied) {
  cv::Mat img(20, 40, CV_8UC3, cv::Scalar::all(0));
  img(cv::Rect(20, 0, 20, 20)).setTo(cv::Scalar::all(255));  // left half black, right white
  std::vector<unsigned char> jpeg;
  cv::imencode(".jpg", img, jpeg);
  const std::vector<unsigned char> app1 = {
      0xFF, 0xE1, 0x00, 0x22, 'E',  'x',  'i',  'f',  0,    0,                 // APP1, length 34, "Exif\0\0"
      'M',  'M',  0x00, 0x2A, 0x00, 0x00, 0x00, 0x08,                          // big-endian TIFF, IFD at 8
      0x00, 0x01,                                                              // one entry
      0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00,  // Orientation = 6
      0x00, 0x00, 0x00, 0x00};                                                 // no next IFD
  jpeg.insert(jpeg.begin() + 2, app1.begin(), app1.end());
  TempDir dir;
  write_bytes(dir / "rot.jpg", jpeg);
  const cv::Mat shown = load_bgr(dir / "rot.jpg");
  ASSERT_EQ(shown.cols, 20);
  ASSERT_EQ(shown.rows, 40);
  EXPECT_LT(cv::mean(shown(cv::Rect(0, 0, 20, 20)))[0], 30);  // the black half is now on top
  EXPECT_GT(cv::mean(shown(cv::Rect(0, 20, 20, 20)))[0], 225);
}

// JPEG and PNG files without EXIF are decoded once (IMREAD_UNCHANGED honours no orientation,
// and they have none): what may_hold_exif finds, and the pixels as displayed all the same.
TEST(ImageIo, FilesWithoutExifAreReadAsDisplayed) {
  using amva::io::may_hold_exif;
  const cv::Mat colour = gradient_image();
  cv::Mat grey;
  cv::cvtColor(colour, grey, cv::COLOR_BGR2GRAY);
  TempDir dir;
  for (const auto& [name, image] : {std::pair{"c.jpg", colour}, {"g.jpg", grey}, {"c.png", colour}, {"g.png", grey}}) {
    std::vector<unsigned char> bytes;
    ASSERT_TRUE(cv::imencode(std::filesystem::path(name).extension().string(), image, bytes));
    EXPECT_FALSE(may_hold_exif(amva::io::probe_image_header(bytes).format, bytes)) << name;
    write_bytes(dir / name, bytes);
    EXPECT_EQ(cv::norm(load_bgr(dir / name), cv::imread((dir / name).string(), cv::IMREAD_COLOR), cv::NORM_INF), 0)
        << name;
  }
  std::vector<unsigned char> jpeg;
  cv::imencode(".jpg", colour, jpeg);
  auto with_exif_app1 = jpeg;  // an APP1 segment with EXIF before the frame
  const std::vector<unsigned char> exif_app1 = {0xFF, 0xE1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0};
  with_exif_app1.insert(with_exif_app1.begin() + 2, exif_app1.begin(), exif_app1.end());
  EXPECT_TRUE(may_hold_exif("JPEG", with_exif_app1));
  auto with_xmp_app1 = jpeg;  // an APP1 segment without "Exif" (XMP): the marker alone counts
  const std::vector<unsigned char> xmp_app1 = {0xFF, 0xE1, 0x00, 0x06, 'h', 't', 't', 'p'};
  with_xmp_app1.insert(with_xmp_app1.begin() + 2, xmp_app1.begin(), xmp_app1.end());
  EXPECT_TRUE(may_hold_exif("JPEG", with_xmp_app1));
  std::vector<unsigned char> png;
  cv::imencode(".png", colour, png);
  auto with_exif = png;  // an eXIf chunk after IHDR (8 + 25 bytes): length, type, no data, CRC
  const std::vector<unsigned char> chunk = {0, 0, 0, 0, 'e', 'X', 'I', 'f', 0, 0, 0, 0};
  with_exif.insert(with_exif.begin() + 33, chunk.begin(), chunk.end());
  EXPECT_TRUE(may_hold_exif("PNG", with_exif));
  std::vector<unsigned char> bmp;
  cv::imencode(".bmp", colour, bmp);
  EXPECT_TRUE(may_hold_exif(amva::io::probe_image_header(bmp).format, bmp))
      << "other formats are decoded twice, as before";
}

TEST(ImageIo, BadFilesFailWithTheirReason) {
  TempDir dir;
  write_bytes(dir / "empty.jpg", {});
  std::ofstream(dir / "notes.jpg") << "this is text, not an image\n";
  std::vector<unsigned char> jpeg;
  cv::imencode(".jpg", gradient_image(), jpeg);
  jpeg.resize(jpeg.size() / 2);
  write_bytes(dir / "half.jpg", jpeg);
  std::vector<unsigned char> png;
  cv::imencode(".png", gradient_image(), png);
  png.resize(png.size() / 2);
  write_bytes(dir / "half.png", png);

  EXPECT_EQ(reason_of(dir / "empty.jpg"), "empty_file");
  EXPECT_EQ(reason_of(dir / "notes.jpg"), "not_an_image");
  EXPECT_EQ(reason_of(dir / "half.jpg"), "truncated");
  EXPECT_EQ(reason_of(dir / "half.png"), "not_an_image");
  EXPECT_EQ(reason_of(dir / "missing.png"), "missing");
  EXPECT_EQ(reason_of(dir.path()), "not_a_file");  // a folder
  try {
    load_bgr(dir / "half.jpg");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("half.jpg"), std::string::npos) << "message names the file";
  }
}

// OpenCV reads PFM, Sun raster, Radiance HDR and OpenEXR only from a file; its imdecode left one
// file in /tmp for every such image whose header failed its size check (2,770 were found after
// the fuzz tests).
TEST(ImageIo, FormatsOpenCvReadsOnlyFromAFileLeaveNoTemporaryFile) {
  TempDir opencv_temp, amva_temp, dir;
  ASSERT_EQ(setenv("OPENCV_TEMP_PATH", opencv_temp.path().c_str(), 1), 0);
  ASSERT_EQ(setenv("TMPDIR", amva_temp.path().c_str(), 1), 0);
  const cv::Mat img = gradient_image();
  cv::Mat unit;
  img.convertTo(unit, CV_32F, 1.0 / 255.0);
  ASSERT_TRUE(cv::imwrite((dir / "a.ras").string(), img));
  ASSERT_TRUE(cv::imwrite((dir / "a.pfm").string(), unit));
  ASSERT_TRUE(cv::imwrite((dir / "a.hdr").string(), unit));
  EXPECT_EQ(cv::norm(load_bgr(dir / "a.ras"), img, cv::NORM_INF), 0);
  EXPECT_LE(cv::norm(load_bgr(dir / "a.pfm"), img, cv::NORM_INF), 1);
  EXPECT_LE(cv::norm(load_bgr(dir / "a.hdr"), img, cv::NORM_L1) / img.total() / 3, 2.0);  // RGBE: 8-bit mantissas

  // amva's header reader takes "#c" for a comment and reads 9 x 9; OpenCV's reads a height of 0.
  const std::string header = "PF\n9 #c\n9\n-1.0\n";
  std::vector<unsigned char> damaged(header.begin(), header.end());
  damaged.resize(damaged.size() + 9 * 9 * 3 * 4);
  write_bytes(dir / "damaged.pfm", damaged);
  EXPECT_EQ(reason_of(dir / "damaged.pfm"), "not_an_image");
  EXPECT_TRUE(std::filesystem::is_empty(opencv_temp.path())) << "OpenCV's temporary file was left behind";
  EXPECT_TRUE(std::filesystem::is_empty(amva_temp.path())) << "amva's temporary file was left behind";
}
