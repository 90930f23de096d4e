#pragma once
// Decoding any image OpenCV reads into the one form the pipeline uses: 8-bit BGR.
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "amva/io/image_header.hpp"

namespace amva::io {

/// Loads an image as 8-bit, 3-channel BGR. Grayscale is replicated, 16-bit is scaled by
/// 255/65535, float is taken as [0, 1], and an alpha channel is composited over white.
/// EXIF orientation is applied. Only regular files are opened (a FIFO would block forever).
/// Throws Error (Image or Io) naming the file, with the reason a store records: `missing`
/// (absent, or a dangling symlink), `not_a_file` (folder, FIFO, device), `unreadable`,
/// `empty_file`, `truncated`, `corrupt` (damaged JPEG data), `too_large` (the header claims more than `max_pixels`;
/// nothing is decoded) or `not_an_image`.
cv::Mat load_bgr(const std::filesystem::path& file, std::size_t max_pixels = kDefaultMaxPixels);

/// As load_bgr, from bytes already in memory; `name` only labels errors.
cv::Mat decode_bgr(const std::vector<unsigned char>& bytes, const std::string& name,
                   std::size_t max_pixels = kDefaultMaxPixels);

/// Encodes `image` in the format its extension names and writes it atomically (write_atomically).
/// Throws Error(Io) naming the file when it cannot be encoded or written (a full disk, a
/// read-only folder): cv::imwrite's false was ignored in places, and a lost figure went unsaid.
void write_image(const std::filesystem::path& file, const cv::Mat& image);

/// Converts any decoded Mat (1, 3 or 4 channels; 8U, 16U or 32F) to 8-bit BGR.
cv::Mat to_bgr8(const cv::Mat& image);

}  // namespace amva::io
