#include "amva/io/input_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "amva/error.hpp"

namespace amva::io {
namespace fs = std::filesystem;

std::ifstream open_input(const fs::path& file, std::string_view what, std::ios::openmode mode) {
  std::error_code ec;
  const auto status = fs::status(file, ec);
  if (!fs::exists(status)) {
    const bool dangling = fs::is_symlink(fs::symlink_status(file, ec));
    throw Error(ErrorCode::NotFound,
                fmt::format("{}: {} not found{}", file.string(), what, dangling ? " (a dangling symbolic link)" : ""));
  }
  if (!fs::is_regular_file(status)) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{}: {} is {}, not a file", file.string(), what,
                            fs::is_directory(status) ? "a folder" : "a FIFO, socket or device"));
  }
  std::ifstream in(file, mode);
  if (!in)
    throw Error(ErrorCode::Io, fmt::format("{}: cannot open {} ({})", file.string(), what, std::strerror(errno)));
  return in;
}

}  // namespace amva::io
