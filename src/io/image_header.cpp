#include "amva/io/image_header.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

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
  // Negative: a bottom-up BMP; the lowest value has no positive counterpart, and is huge.
  const auto magnitude = [](std::int64_t v) { return v == INT64_MIN ? INT64_MAX : v < 0 ? -v : v; };
  w = magnitude(w);
  h = magnitude(h);
  if (w > INT32_MAX || h > INT32_MAX) return cv::Size(INT32_MAX, INT32_MAX);
  return cv::Size(static_cast<int>(w), static_cast<int>(h));
}

// The frame header (SOF0..SOF15 but DHT, JPG, DAC) holds height then width.
std::optional<cv::Size> jpeg(const std::vector<unsigned char>& b) {
  std::size_t i = 2;
  while (i + 9 < b.size()) {
    // libjpeg skips bytes that are not a marker ("extraneous bytes before marker") and reads
    // the frame header it finds after them, so the probe does too.
    if (b[i] != 0xFF) {
      ++i;
      continue;
    }
    const unsigned marker = b[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0x00 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {  // no length
      i += 2;
      continue;
    }
    const bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame) return size_of(be16(b, i + 7), be16(b, i + 5));
    i += 2 + be16(b, i + 2);
  }
  return std::nullopt;
}

// "P1".."P6" or PFM's "PF"/"Pf", then width and height as decimal tokens, '#' comments
// between.
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

// TIFF: byte order, the first IFD's offset, then 12-byte entries; ImageWidth (256) and
// ImageLength (257) are SHORT or LONG values stored in the entry itself.
std::optional<cv::Size> tiff(const std::vector<unsigned char>& b) {
  const bool little = b[0] == 'I';
  const auto u16 = [&](std::size_t i) { return little ? le16(b, i) : be16(b, i); };
  const auto u32 = [&](std::size_t i) { return little ? le32(b, i) : be32(b, i); };
  const std::size_t ifd = u32(4);
  if (ifd > b.size() || b.size() - ifd < 2) return std::nullopt;
  const std::size_t entries = u16(ifd);
  std::optional<std::int64_t> width, height;
  for (std::size_t k = 0; k < entries; ++k) {
    const std::size_t at = ifd + 2 + 12 * k;
    if (at > b.size() || b.size() - at < 12) break;
    const auto tag = u16(at);
    const auto type = u16(at + 2);
    if (tag != 256 && tag != 257) continue;
    const std::int64_t value = type == 3 ? u16(at + 8) : type == 4 ? u32(at + 8) : -1;
    if (value < 0) return std::nullopt;
    (tag == 256 ? width : height) = value;
  }
  if (!width || !height) return std::nullopt;
  return size_of(*width, *height);
}

// PAM ("P7"): header lines of KEY VALUE up to ENDHDR; WIDTH and HEIGHT among them.
std::optional<cv::Size> pam(const std::vector<unsigned char>& b) {
  const std::string text(b.begin(), b.begin() + static_cast<long>(std::min<std::size_t>(b.size(), 4096)));
  const auto value = [&](const std::string& key) -> std::int64_t {
    const auto at = text.find("\n" + key);
    if (at == std::string::npos) return -1;
    std::int64_t v = 0;
    std::size_t i = at + key.size() + 1;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && v < (std::int64_t{1} << 40)) {
      v = v * 10 + (text[i++] - '0');
    }
    return v;
  };
  const auto w = value("WIDTH"), h = value("HEIGHT");
  if (w < 0 || h < 0) return std::nullopt;
  return size_of(w, h);
}

// Radiance HDR: header lines up to a blank line, then the resolution line "-Y h +X w" (any
// of the four orientations, in either order).
std::optional<cv::Size> hdr(const std::vector<unsigned char>& b) {
  const std::string text(b.begin(), b.begin() + static_cast<long>(std::min<std::size_t>(b.size(), 8192)));
  const auto blank = text.find("\n\n");
  if (blank == std::string::npos) return std::nullopt;
  char a[3] = {}, c[3] = {};
  long long first = 0, second = 0;
  if (std::sscanf(text.c_str() + blank + 2, "%2s %lld %2s %lld", a, &first, c, &second) != 4 || first < 0 ||
      second < 0) {
    return std::nullopt;
  }
  const bool y_first = a[1] == 'Y';
  return size_of(y_first ? second : first, y_first ? first : second);
}

// JPEG 2000: a JP2 file's image header box (ihdr: height, width), or a raw codestream's SIZ
// marker segment (image area minus offsets).
std::optional<cv::Size> jpeg2000(const std::vector<unsigned char>& b) {
  if (b[0] == 0xFF && b[1] == 0x4F) {
    if (b.size() < 24) return std::nullopt;
    const std::int64_t width = static_cast<std::int64_t>(be32(b, 8)) - be32(b, 16);
    const std::int64_t height = static_cast<std::int64_t>(be32(b, 12)) - be32(b, 20);
    // An offset past the image area is no size (size_of's sign rule is BMP's bottom-up rows).
    if (width < 0 || height < 0) return std::nullopt;
    return size_of(width, height);
  }
  for (std::size_t i = 0; i + 12 <= b.size(); ++i) {
    if (b[i] == 'i' && b[i + 1] == 'h' && b[i + 2] == 'd' && b[i + 3] == 'r')
      return size_of(be32(b, i + 8), be32(b, i + 4));
  }
  return std::nullopt;
}

}  // namespace

HeaderProbe probe_image_header(const std::vector<unsigned char>& b) {
  const auto starts = [&](const std::string& magic, std::size_t at = 0) {
    return b.size() >= at + magic.size() &&
           std::equal(magic.begin(), magic.end(), b.begin() + static_cast<long>(at),
                      [](char m, unsigned char x) { return static_cast<unsigned char>(m) == x; });
  };
  const auto sized = [&](std::size_t least, const auto& read) -> std::optional<cv::Size> {
    return b.size() >= least ? read() : std::nullopt;
  };
  // DICOM ("DICM" after a 128-byte preamble): OpenCV hands it to GDCM, which aborts the whole
  // process on malformed input (an assert, found by fuzzing); it is never decoded.
  if (starts("DICM", 128)) return {"DICOM", std::nullopt};
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return {"JPEG", jpeg(b)};
  if (starts("\x89PNG\r\n\x1a\n")) {
    return {"PNG", starts("IHDR", 12) ? sized(24, [&] { return size_of(be32(b, 16), be32(b, 20)); }) : std::nullopt};
  }
  if (starts("GIF87a") || starts("GIF89a")) return {"GIF", sized(10, [&] { return size_of(le16(b, 6), le16(b, 8)); })};
  if (starts("BM")) {
    return {"BMP", sized(26, [&] {
              return size_of(static_cast<std::int32_t>(le32(b, 18)), static_cast<std::int32_t>(le32(b, 22)));
            })};
  }
  if (starts("RIFF") && starts("WEBP", 8)) {
    if (b.size() < 30) return {"WebP", std::nullopt};
    if (starts("VP8 ", 12)) return {"WebP", size_of(le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF)};
    if (starts("VP8L", 12)) {
      const std::uint32_t bits = le32(b, 21);
      return {"WebP", size_of((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)};
    }
    if (starts("VP8X", 12)) return {"WebP", size_of(le24(b, 24) + 1, le24(b, 27) + 1)};
    return {"WebP", std::nullopt};
  }
  if (starts(std::string("II*\0", 4)) || starts(std::string("MM\0*", 4)))
    return {"TIFF", sized(8, [&] { return tiff(b); })};
  if (b.size() >= 2 && b[0] == 'P' && ((b[1] >= '1' && b[1] <= '6') || b[1] == 'F' || b[1] == 'f')) {
    return {b[1] == 'F' || b[1] == 'f' ? "PFM" : "PNM", b.size() >= 3 && std::isspace(b[2]) ? pnm(b) : std::nullopt};
  }
  if (starts("P7")) return {"PAM", b.size() >= 3 && std::isspace(b[2]) ? pam(b) : std::nullopt};
  if (starts("\x59\xa6\x6a\x95")) return {"Sun raster", sized(12, [&] { return size_of(be32(b, 4), be32(b, 8)); })};
  if (starts("#?RADIANCE") || starts("#?RGBE")) return {"Radiance HDR", hdr(b)};
  if (starts(std::string("\0\0\0\x0cjP  \r\n\x87\n", 12)) || starts("\xff\x4f\xff\x51")) {
    return {"JPEG 2000", jpeg2000(b)};
  }
  return {};
}

std::optional<cv::Size> header_dimensions(const std::vector<unsigned char>& bytes) {
  return probe_image_header(bytes).size;
}

bool may_hold_exif(const std::string& format, const std::vector<unsigned char>& bytes) {
  // Compared as bytes: a char of 0xFF is negative where char is signed.
  const auto contains = [&](std::string_view what) {
    return std::search(bytes.begin(), bytes.end(), what.begin(), what.end(),
                       [](unsigned char b, char c) { return b == static_cast<unsigned char>(c); }) != bytes.end();
  };
  // A JPEG's compressed data stuffs every 0xFF with 0x00 or a restart marker, so 0xFF 0xE1 is
  // an APP1 marker wherever it appears (or a byte pair inside another segment: a harmless yes).
  if (format == "JPEG") return contains("\xFF\xE1") || contains("Exif");
  if (format == "PNG") return contains("eXIf");
  return true;
}

}  // namespace amva::io
