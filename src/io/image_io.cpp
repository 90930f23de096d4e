#include "amva/io/image_io.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "jpeg_check.hpp"

namespace amva::io {
namespace {

bool is_jpeg(const std::vector<unsigned char>& b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

// libjpeg decodes a truncated file with only a warning and grey rows, so the end-of-image
// marker is checked explicitly (some writers append a few bytes after it).
bool jpeg_has_end_marker(const std::vector<unsigned char>& b) {
  const std::size_t tail = std::min<std::size_t>(b.size(), 64);
  for (std::size_t i = b.size() - tail; i + 1 < b.size(); ++i) {
    if (b[i] == 0xFF && b[i + 1] == 0xD9) return true;
  }
  return false;
}

cv::Mat to_8bit(const cv::Mat& image) {
  cv::Mat out;
  switch (image.depth()) {
    case CV_8U:
      return image;
    case CV_8S:
      image.convertTo(out, CV_8U, 1.0, 128.0);
      return out;
    case CV_16U:
      image.convertTo(out, CV_8U, 255.0 / 65535.0);
      return out;
    case CV_16S:
      image.convertTo(out, CV_8U, 255.0 / 65535.0, 128.0);
      return out;
    default:
      image.convertTo(out, CV_8U, 255.0);
      return out;  // float: [0, 1]
  }
}

// OpenCV reads these formats only from a file: imdecode writes the bytes to a temporary file
// of its own, and leaves it behind in /tmp when the decoded header fails its size check (one
// file per damaged image, found by fuzzing). amva writes that file itself and always removes it.
bool decoded_from_file_only(const std::string& format, const std::vector<unsigned char>& b) {
  const bool openexr = b.size() >= 4 && b[0] == 0x76 && b[1] == 0x2F && b[2] == 0x31 && b[3] == 0x01;
  return openexr || format == "PFM" || format == "Sun raster" || format == "Radiance HDR";
}

class ScratchImageFile {
 public:
  explicit ScratchImageFile(const std::vector<unsigned char>& bytes) {
    std::string name = (std::filesystem::temp_directory_path() / "amva-decode-XXXXXX").string();
    const int fd = ::mkstemp(name.data());
    if (fd < 0) throw Error(ErrorCode::Io, fmt::format("{}: cannot make a temporary file to decode from", name));
    path_ = name;
    const bool written = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
    ::close(fd);
    if (!written) {
      remove();
      throw Error(ErrorCode::Io, fmt::format("{}: cannot write a temporary file to decode from", name));
    }
  }
  ScratchImageFile(const ScratchImageFile&) = delete;
  ScratchImageFile& operator=(const ScratchImageFile&) = delete;
  ~ScratchImageFile() { remove(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  void remove() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  std::filesystem::path path_;
};

}  // namespace

cv::Mat to_bgr8(const cv::Mat& image) {
  cv::Mat eight = to_8bit(image);
  cv::Mat bgr;
  switch (eight.channels()) {
    case 1:
      cv::cvtColor(eight, bgr, cv::COLOR_GRAY2BGR);
      return bgr;
    case 3:
      return eight;
    case 4: {
      cv::Mat f;
      eight.convertTo(f, CV_32F, 1.0 / 255.0);
      std::vector<cv::Mat> ch;
      cv::split(f, ch);
      for (int c = 0; c < 3; ++c) ch[c] = ch[c].mul(ch[3]) + (1.0f - ch[3]);  // over white
      ch.pop_back();
      cv::merge(ch, f);
      f.convertTo(bgr, CV_8U, 255.0);
      return bgr;
    }
    default:
      throw Error(ErrorCode::Image, fmt::format("unsupported channel count {}", eight.channels()));
  }
}

cv::Mat decode_bgr(const std::vector<unsigned char>& bytes, const std::string& name, std::size_t max_pixels) {
  if (bytes.empty()) throw Error(ErrorCode::Image, fmt::format("{}: empty file", name), "empty_file");
  const auto header = probe_image_header(bytes);
  if (header.format == "DICOM") {
    throw Error(ErrorCode::Image,
                fmt::format("{}: DICOM files are not read (OpenCV's DICOM decoder can abort on a damaged one); "
                            "convert it to PNG",
                            name),
                "not_an_image");
  }
  if (!header.format.empty() && !header.size) {
    // A file of a known format whose size cannot be read is not decoded: a decoder reading
    // the same header more leniently could allocate whatever it claims.
    throw Error(ErrorCode::Image,
                fmt::format("{}: {} file whose header states no readable size; not decoded", name, header.format),
                "not_an_image");
  }
  if (const auto& size = header.size) {
    const auto pixels = static_cast<double>(size->width) * static_cast<double>(size->height);
    if (pixels > static_cast<double>(max_pixels)) {
      throw Error(ErrorCode::Image,
                  fmt::format("{}: the header claims {} x {} pixels, more than --max-pixels {}; not decoded", name,
                              size->width, size->height, max_pixels),
                  "too_large");
    }
  }
  if (is_jpeg(bytes)) {
    if (!jpeg_has_end_marker(bytes)) {
      throw Error(ErrorCode::Image, fmt::format("{}: truncated JPEG (no end-of-image marker)", name), "truncated");
    }
    // A damaged scan decodes to grey or garbage behind one line on the terminal that names no
    // file: such an image is recorded with libjpeg's words instead of analysed.
    if (const auto damage = jpeg_data_damage(bytes)) {
      throw Error(ErrorCode::Image, fmt::format("{}: damaged JPEG data ({}); not used", name, *damage), "corrupt");
    }
  }
  cv::Mat image;
  try {
    std::optional<ScratchImageFile> file;
    if (decoded_from_file_only(header.format, bytes)) file.emplace(bytes);
    const auto decode = [&](int flags) {
      return file ? cv::imread(file->path().string(), flags) : cv::imdecode(bytes, flags);
    };
    // IMREAD_UNCHANGED keeps alpha and 16-bit samples but skips EXIF orientation, so a
    // second decode that honours orientation is used whenever there is no alpha. An image of
    // one or three channels in a file without EXIF decodes to the same pixels either way: it
    // is decoded once (most face data sets: decoding was 6 % of extracting aligned PNGs).
    image = decode(cv::IMREAD_UNCHANGED);
    const bool as_displayed = (image.channels() == 1 || image.channels() == 3) && !may_hold_exif(header.format, bytes);
    if (!image.empty() && image.channels() != 4 && !as_displayed)
      image = decode(cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR);
  } catch (const cv::Exception& e) {
    if (e.func.find("validateInputImageSize") != std::string::npos) {
      // The size check fails for an empty size too ("size.height > 0"), which a decoder can read
      // from a header that amva's reader takes otherwise.
      if (e.err.find("> 0") != std::string::npos) {
        throw Error(ErrorCode::Image, fmt::format("{}: the decoder reads a zero width or height from the header", name),
                    "not_an_image");
      }
      throw Error(ErrorCode::Image,
                  fmt::format("{}: the header claims more than {} pixels; not decoded", name, max_pixels), "too_large");
    }
    throw Error(ErrorCode::Image, fmt::format("{}: cannot decode image ({})", name, e.err), "not_an_image");
  }
  if (image.empty() || image.rows == 0 || image.cols == 0) {
    throw Error(ErrorCode::Image, fmt::format("{}: not a readable image", name), "not_an_image");
  }
  return to_bgr8(image);
}

cv::Mat load_bgr(const std::filesystem::path& file, std::size_t max_pixels) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (!std::filesystem::exists(status)) {
    const bool dangling = std::filesystem::is_symlink(std::filesystem::symlink_status(file, ec));
    throw Error(ErrorCode::Io,
                fmt::format("{}: {}", file.string(), dangling ? "dangling symbolic link" : "no such file"), "missing");
  }
  if (!std::filesystem::is_regular_file(status)) {
    throw Error(ErrorCode::Image, fmt::format("{}: not a regular file (a folder, FIFO or device)", file.string()),
                "not_a_file");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::Io, fmt::format("{}: cannot open file", file.string()), "unreadable");
  std::vector<unsigned char> bytes;
  try {
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure&) {  // an I/O error while reading (EIO)
    throw Error(ErrorCode::Io, fmt::format("{}: read failed", file.string()), "unreadable");
  }
  return decode_bgr(bytes, file.string(), max_pixels);
}

void write_image(const std::filesystem::path& file, const cv::Mat& image) {
  std::vector<unsigned char> bytes;
  bool encoded = false;
  try {
    encoded = cv::imencode(file.extension().string(), image, bytes);
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::Io, fmt::format("{}: cannot encode the image ({})", file.string(), e.what()));
  }
  if (!encoded) throw Error(ErrorCode::Io, fmt::format("{}: cannot encode the image", file.string()));
  write_text_atomically(file, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace amva::io
