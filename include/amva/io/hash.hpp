#pragma once
#include <filesystem>
#include <string>

namespace amva::io {
/// Lower-case hex SHA-256 of a file's bytes. Throws Error(Io) naming the file.
std::string sha256_file(const std::filesystem::path& file);
}  // namespace amva::io
