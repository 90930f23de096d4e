#pragma once
// Image dimensions read from the file's header, before any decoding: a 629-byte JPEG may
// claim 30000 x 30000 pixels, and decoding it would allocate gigabytes (a decompression bomb).
#include <cstddef>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

namespace amva::io {

/// Pixels above which an image is not decoded but recorded as `too_large`: Pillow's
/// decompression-bomb limit (2 x 89,478,485), above every camera's frame.
constexpr std::size_t kDefaultMaxPixels = 178956970;

/// What the first bytes say: the format (empty when it is none amva knows) and, when its header
/// states them readably, the width and height.
struct HeaderProbe {
  std::string format;
  std::optional<cv::Size> size;
};
HeaderProbe probe_image_header(const std::vector<unsigned char>& bytes);

/// Width and height as probe_image_header reads them; nullopt for other formats or a header
/// that does not state them readably (decode_bgr then decodes only files of a format amva does
/// not know, within OpenCV's own limit of 2^30 pixels).
std::optional<cv::Size> header_dimensions(const std::vector<unsigned char>& bytes);

/// Whether the file may hold EXIF metadata, whose orientation OpenCV applies when it decodes
/// with any flags but IMREAD_UNCHANGED: false only for a JPEG with no APP1 marker and no
/// "Exif" anywhere and for a PNG with no "eXIf" anywhere; true for every other format.
/// `format` is the file's as probe_image_header read it.
bool may_hold_exif(const std::string& format, const std::vector<unsigned char>& bytes);

}  // namespace amva::io
