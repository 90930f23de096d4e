#pragma once
// Plain NumPy .npy files (format 1.0, little-endian float32, C order), readable by numpy.load.
#include <cstdint>
#include <filesystem>
#include <fstream>
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

/// Reads a float32, C-order .npy file a block of rows at a time, so that arrays larger than
/// memory can be streamed. Throws Error(Parse) naming the file for anything else.
class NpyRowReader {
 public:
  explicit NpyRowReader(const std::filesystem::path& file);
  [[nodiscard]] const std::vector<std::int64_t>& shape() const { return shape_; }
  [[nodiscard]] std::int64_t rows() const;
  [[nodiscard]] std::int64_t row_size() const;
  /// Reads rows [first, first + count) into `out` (count x row_size() floats).
  void read_rows(std::int64_t first, std::int64_t count, float* out);

 private:
  std::filesystem::path file_;
  std::ifstream in_;
  std::vector<std::int64_t> shape_;
  std::streampos data_offset_;
};

/// Reads a float32, C-order .npy file. Throws Error(Parse) naming the file for anything else.
NpyArray read_npy(const std::filesystem::path& file);

}  // namespace amva::io
