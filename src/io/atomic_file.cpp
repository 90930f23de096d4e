#include "amva/io/atomic_file.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "amva/error.hpp"
#include "amva/io/input_file.hpp"

namespace amva::io {
namespace fs = std::filesystem;

void write_atomically(const fs::path& target, const std::function<void(std::ostream&)>& write) {
  static std::atomic<unsigned> counter{0};
  fs::path temp = target;
  temp += fmt::format(".tmp{}-{}", ::getpid(), counter++);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(ErrorCode::Io, fmt::format("{}: cannot create file", temp.string()));
    try {
      write(out);
    } catch (...) {
      out.close();
      fs::remove(temp);
      throw;
    }
    out.flush();
    if (!out) {
      out.close();
      fs::remove(temp);
      throw Error(ErrorCode::Io, fmt::format("{}: write failed (disk full?)", target.string()));
    }
  }
  std::error_code ec;
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp);
    throw Error(ErrorCode::Io, fmt::format("{}: cannot replace file ({})", target.string(), ec.message()));
  }
}

void write_text_atomically(const fs::path& target, std::string_view text) {
  write_atomically(target,
                   [&](std::ostream& out) { out.write(text.data(), static_cast<std::streamsize>(text.size())); });
}

void copy_file_atomically(const fs::path& source, const fs::path& target) {
  auto in = open_input(source, "file", std::ios::binary);
  write_atomically(target, [&](std::ostream& out) {
    if (in.peek() != std::ifstream::traits_type::eof()) out << in.rdbuf();
  });
}

std::string read_text(const fs::path& file) {
  auto in = open_input(file, "file", std::ios::binary);
  std::ostringstream s;
  if (in.peek() != std::ifstream::traits_type::eof()) s << in.rdbuf();
  if (in.bad() || s.bad()) throw Error(ErrorCode::Io, fmt::format("{}: read failed", file.string()));
  return s.str();
}

}  // namespace amva::io
