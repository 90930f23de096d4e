#include "amva/io/output_dir.hpp"

#include <fmt/format.h>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"

namespace amva::io {
namespace fs = std::filesystem;

void claim_output_dir(const fs::path& dir, bool force, const std::vector<std::string>& signatures) {
  std::error_code ec;
  if (fs::exists(dir / kOutputMarker, ec)) return;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw Error(ErrorCode::InvalidArgument, fmt::format("{}: --out names a file, not a folder", dir.string()));
  }
  bool ours = !fs::exists(dir, ec) || fs::is_empty(dir, ec) || force;
  for (const auto& s : signatures) ours = ours || fs::exists(dir / s, ec);
  if (!ours) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{}: folder exists, is not empty and was not made by amva; its files could be "
                            "overwritten (choose another --out, or pass --force)",
                            dir.string()));
  }
  fs::create_directories(dir);
  write_text_atomically(dir / kOutputMarker, "This folder holds amva outputs; amva may overwrite its files.\n");
}

}  // namespace amva::io
