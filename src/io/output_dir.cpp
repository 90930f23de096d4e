#include "amva/io/output_dir.hpp"

#include <fmt/format.h>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/folder_lock.hpp"

namespace amva::io {
namespace fs = std::filesystem;

void claim_output_dir(const fs::path& dir, bool force, const std::vector<std::string>& signatures) {
  std::error_code ec;
  if (fs::exists(dir / kOutputMarker, ec)) return;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw Error(ErrorCode::InvalidArgument, fmt::format("{}: --out names a file, not a folder", dir.string()));
  }
  // A folder whose claim a kill or a full disk interrupted (its lock and the marker's temporary
  // file) is amva's, not the user's.
  bool ours = !fs::exists(dir, ec) || fs::is_empty(dir, ec) || force ||
              holds_only_an_interrupted_write(dir, kOutputMarker);
  for (const auto& s : signatures) ours = ours || fs::exists(dir / s, ec);
  if (!ours) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{}: folder exists, is not empty and was not made by amva; its files could be "
                            "overwritten (choose another --out, or pass --force)",
                            dir.string()));
  }
  fs::create_directories(dir);
  // Marked under the folder's lock: a second command refused for a folder in use writes nothing.
  const FolderLock one_writer(dir, "output folder");
  if (!fs::exists(dir / kOutputMarker, ec)) {
    remove_temporaries_of(dir / kOutputMarker);  // of a claim killed while writing the marker
    write_text_atomically(dir / kOutputMarker, "This folder holds amva outputs; amva may overwrite its files.\n");
  }
}

void make_real_dir(const fs::path& dir) {
  std::error_code ec;
  const auto status = fs::symlink_status(dir, ec);
  if (fs::is_symlink(status) || (fs::exists(status) && !fs::is_directory(status))) {
    fs::remove(dir, ec);
    if (ec)
      throw Error(ErrorCode::Io, fmt::format("{}: cannot replace it by a folder ({})", dir.string(), ec.message()));
  }
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorCode::Io, fmt::format("{}: cannot create the folder ({})", dir.string(), ec.message()));
}

}  // namespace amva::io
