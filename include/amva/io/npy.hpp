#pragma once
// Plain NumPy .npy files (format 1.0, little-endian float32, C order), readable by numpy.load.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace amva::io {

struct NpyArray {
  std::vector<std::int64_t> shape;
  std::vector<float> data;  // C order
  [[nodiscard]] std::int64_t rows() const { return shape.empty() ? 0 : shape.front(); }
  /// Number of floats per leading-axis row.
  [[nodiscard]] std::int64_t row_size() const;
};

/// Writes `data` with `shape` atomically. Throws Error if the sizes disagree or writing fails.
void write_npy(const std::filesystem::path& file, const std::vector<std::int64_t>& shape, const float* data);
inline void write_npy(const std::filesystem::path& file, const NpyArray& a) {
  write_npy(file, a.shape, a.data.data());
}

/// Reads a float32, C-order .npy file. Throws Error(Parse) naming the file for anything else.
NpyArray read_npy(const std::filesystem::path& file);

}  // namespace amva::io
