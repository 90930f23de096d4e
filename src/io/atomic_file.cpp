#include "amva/io/atomic_file.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "amva/error.hpp"
#include "amva/io/fault_injection.hpp"
#include "amva/io/folder_lock.hpp"
#include "amva/io/input_file.hpp"

namespace amva::io {
namespace fs = std::filesystem;
namespace {
// The temporary file names of write_atomically: "<target name>.tmp<pid>-<n>".
std::string temporary_prefix(const std::string& name) {
  return name + ".tmp";
}
}  // namespace

void write_atomically(const fs::path& target, const std::function<void(std::ostream&)>& write) {
  static std::atomic<unsigned> counter{0};
  const fs::path temp =
      target.parent_path() / fmt::format("{}{}-{}", temporary_prefix(target.filename().string()), ::getpid(), counter++);
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
  // The worst instant: the new content whole beside the old. A kill here leaves a temporary
  // file that the file's next writer removes (remove_temporaries_of) or that a staging folder
  // discards.
  std::error_code ec;
  try {
    fault_point("AMVA_FAULT_WRITE_STEP", target.string());
  } catch (const Error&) {
    fs::remove(temp, ec);  // as a real full disk's failed write is
    throw;
  }
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

void remove_temporaries_of(const fs::path& target) {
  const auto prefix = temporary_prefix(target.filename().string());
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(target.parent_path(), ec)) {
    if (entry.path().filename().string().starts_with(prefix)) fs::remove(entry.path(), ec);
  }
}

bool holds_only_an_interrupted_write(const fs::path& dir, const std::string& name) {
  const auto prefix = temporary_prefix(name);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto entry_name = entry.path().filename().string();
    if (entry_name != kLockName && !entry_name.starts_with(prefix)) return false;
  }
  return !ec;
}

}  // namespace amva::io
