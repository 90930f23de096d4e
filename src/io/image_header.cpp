#include "amva/io/image_header.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>

namespace amva::io {
namespace {

std::uint32_t be16(const std::vector<unsigned char>& b, std::size_t i) {
  return static_cast<std::uint32_t>(b[i]) << 8 | b[i + 1];
}
std::uint32_t be32(const std::vector<unsigned char>& b, std::size_t i) {
  return be16(b, i) << 16 | be16(b, i + 2);
}
std::uint32_t le16(const std::vector<unsigned char>& b, std::size_t i) {
  return static_cast<std::uint32_t>(b[i + 1]) << 8 | b[i];
}
std::uint32_t le24(const std::vector<unsigned char>& b, std::size_t i) {
  return static_cast<std::uint32_t>(b[i + 2]) << 16 | le16(b, i);
}
std::uint32_t le32(const std::vector<unsigned char>& b, std::size_t i) {
  return le16(b, i + 2) << 16 | le16(b, i);
}

std::optional<cv::Size> size_of(std::int64_t w, std::int64_t h) {
  if (w < 0) w = -w;
  if (h < 0) h = -h;  // bottom-up BMP
  if (w > INT32_MAX || h > INT32_MAX) return cv::Size(INT32_MAX, INT32_MAX);
  return cv::Size(static_cast<int>(w), static_cast<int>(h));
}

// The frame header (SOF0..SOF15 but DHT, JPG, DAC) holds height then width.
std::optional<cv::Size> jpeg(const std::vector<unsigned char>& b) {
  std::size_t i = 2;
  while (i + 9 < b.size()) {
    if (b[i] != 0xFF) return std::nullopt;
    const unsigned marker = b[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {  // no length
      i += 2;
      continue;
    }
    const bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame) return size_of(be16(b, i + 7), be16(b, i + 5));
    i += 2 + be16(b, i + 2);
  }
  return std::nullopt;
}

// "P1".."P6", then width and height as decimal tokens, '#' comments between.
std::optional<cv::Size> pnm(const std::vector<unsigned char>& b) {
  std::size_t i = 2;
  std::int64_t v[2] = {0, 0};
  for (auto& value : v) {
    while (i < b.size() && (std::isspace(b[i]) || b[i] == '#')) {
      if (b[i] == '#') {
        while (i < b.size() && b[i] != '\n') ++i;
      } else {
        ++i;
      }
    }
    if (i >= b.size() || !std::isdigit(b[i])) return std::nullopt;
    while (i < b.size() && std::isdigit(b[i]) && value < (std::int64_t{1} << 40)) value = value * 10 + (b[i++] - '0');
  }
  return size_of(v[0], v[1]);
}

}  // namespace

std::optional<cv::Size> header_dimensions(const std::vector<unsigned char>& b) {
  const auto starts = [&](const std::string& magic, std::size_t at = 0) {
    return b.size() >= at + magic.size() &&
           std::equal(magic.begin(), magic.end(), b.begin() + static_cast<long>(at),
                      [](char m, unsigned char x) { return static_cast<unsigned char>(m) == x; });
  };
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return jpeg(b);
  if (starts("\x89PNG\r\n\x1a\n") && b.size() >= 24 && starts("IHDR", 12)) return size_of(be32(b, 16), be32(b, 20));
  if ((starts("GIF87a") || starts("GIF89a")) && b.size() >= 10) return size_of(le16(b, 6), le16(b, 8));
  if (starts("BM") && b.size() >= 26) {
    return size_of(static_cast<std::int32_t>(le32(b, 18)), static_cast<std::int32_t>(le32(b, 22)));
  }
  if (starts("RIFF") && starts("WEBP", 8) && b.size() >= 30) {
    if (starts("VP8 ", 12)) return size_of(le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF);
    if (starts("VP8L", 12) && b.size() >= 25) {
      const std::uint32_t bits = le32(b, 21);
      return size_of((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
    }
    if (starts("VP8X", 12)) return size_of(le24(b, 24) + 1, le24(b, 27) + 1);
    return std::nullopt;
  }
  if (b.size() >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6' && std::isspace(b[2])) return pnm(b);
  return std::nullopt;
}

}  // namespace amva::io
