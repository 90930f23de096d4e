#include "amva/io/npy.hpp"

#include <fmt/format.h>

#include <bit>
#include <fstream>
#include <numeric>
#include <regex>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/input_file.hpp"
#include "amva/io/numbers.hpp"

namespace amva::io {
namespace {
static_assert(std::endian::native == std::endian::little, "npy writer assumes little-endian");
constexpr char kMagic[] = "\x93NUMPY";

std::int64_t product(const std::vector<std::int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}
}  // namespace

std::int64_t NpyArray::row_size() const {
  return shape.empty() ? 0 : product(std::vector<std::int64_t>(shape.begin() + 1, shape.end()));
}

void write_npy(const std::filesystem::path& file, const std::vector<std::int64_t>& shape, const float* data) {
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': {}, }}", shape_text(shape));
  // magic(6) + version(2) + length(2) + header + '\n' must be a multiple of 64.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  const auto count = static_cast<std::size_t>(product(shape));
  write_atomically(file, [&](std::ostream& out) {
    out.write(kMagic, 6);
    const char version[2] = {1, 0};
    out.write(version, 2);
    const auto len = static_cast<std::uint16_t>(header.size());
    out.write(reinterpret_cast<const char*>(&len), 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(float)));
  });
}

NpyRowReader::NpyRowReader(const std::filesystem::path& file)
    : file_(file), in_(open_input(file, ".npy file", std::ios::binary)) {
  const auto fail = [&](const std::string& why) {
    return Error(ErrorCode::Parse, fmt::format("{}: not a float32 C-order .npy file ({})", file.string(), why));
  };
  char magic[6];
  unsigned char version[2];
  in_.read(magic, 6);
  in_.read(reinterpret_cast<char*>(version), 2);
  if (!in_ || std::string(magic, 6) != std::string(kMagic, 6)) throw fail("bad magic");
  std::uint32_t header_len = 0;
  if (version[0] == 1) {
    std::uint16_t len16 = 0;
    in_.read(reinterpret_cast<char*>(&len16), 2);
    header_len = len16;
  } else {
    in_.read(reinterpret_cast<char*>(&header_len), 4);
  }
  const auto header_start = static_cast<std::int64_t>(in_.tellg());
  in_.seekg(0, std::ios::end);
  const auto file_bytes = static_cast<std::int64_t>(in_.tellg());
  in_.seekg(header_start);
  if (header_start < 0 || header_len > file_bytes - header_start) throw fail("header longer than the file");
  std::string header(header_len, '\0');
  in_.read(header.data(), header_len);
  if (!in_) throw fail("short header");
  if (header.find("'<f4'") == std::string::npos) throw fail("dtype is not <f4");
  if (header.find("'fortran_order': False") == std::string::npos) throw fail("Fortran order");
  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('shape':\s*\(([^)]*)\))"))) throw fail("no shape");
  const std::string dims = m[1];
  std::regex number(R"(\d+)");
  std::int64_t count = 1;
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), number); it != std::sregex_iterator(); ++it) {
    const auto dim = to_integer(it->str());
    // A shape whose element count overflows cannot describe a file that exists.
    if (!dim || __builtin_mul_overflow(count, *dim, &count) || count > file_bytes) {
      throw fail(fmt::format("shape ({}) larger than the file", dims));
    }
    shape_.push_back(*dim);
  }
  data_offset_ = in_.tellg();
  in_.seekg(0, std::ios::end);
  const auto bytes = static_cast<std::int64_t>(in_.tellg()) - static_cast<std::int64_t>(data_offset_);
  if (bytes < product(shape_) * static_cast<std::int64_t>(sizeof(float))) throw fail("data shorter than its shape");
}

std::int64_t NpyRowReader::rows() const {
  return shape_.empty() ? 0 : shape_.front();
}

std::int64_t NpyRowReader::row_size() const {
  return shape_.empty() ? 0 : product(std::vector<std::int64_t>(shape_.begin() + 1, shape_.end()));
}

void NpyRowReader::read_rows(std::int64_t first, std::int64_t count, float* out) {
  if (first < 0 || count < 0 || first + count > rows()) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{}: rows [{}, {}) outside its {} rows", file_.string(), first, first + count, rows()));
  }
  const auto row_bytes = row_size() * static_cast<std::int64_t>(sizeof(float));
  in_.clear();
  in_.seekg(data_offset_ + static_cast<std::streamoff>(first * row_bytes));
  in_.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(count * row_bytes));
  if (!in_) throw Error(ErrorCode::Io, fmt::format("{}: read failed at row {}", file_.string(), first));
}

NpyArray read_npy(const std::filesystem::path& file) {
  NpyRowReader reader(file);
  NpyArray a;
  a.shape = reader.shape();
  a.data.resize(static_cast<std::size_t>(product(a.shape)));
  if (!a.data.empty()) reader.read_rows(0, reader.rows(), a.data.data());
  return a;
}

}  // namespace amva::io
