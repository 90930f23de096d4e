#pragma once
// Which images a run reads: a folder (recursive) or a list file.
#include <filesystem>
#include <string>
#include <vector>

namespace amva::io {

struct ImageEntry {
  std::filesystem::path file;  // where to read it
  std::string key;             // stable name in the store: path relative to the root or list
};

/// A folder gives every regular, non-hidden file below it (non-images are kept so that the
/// run records them as failures), sorted by key. A file is read as a list: one path per line,
/// relative to the list's own folder unless absolute; blank lines and lines starting with '#'
/// are skipped; a tab ends the path, so `path<TAB>identity` lists work.
/// In a folder, symlinked folders are followed once (a loop is not walked again), unreadable
/// folders and non-regular files (FIFOs, sockets) are skipped, each with a line in `skipped`
/// when given, and dangling symlinks are listed so that the run records them. A file named
/// twice (a repeated list line, or the same file reached through a symlink) is listed once,
/// under its first key, with a line in `skipped`.
/// Throws Error(NotFound) if `source` does not exist.
std::vector<ImageEntry> list_images(const std::filesystem::path& source, std::vector<std::string>* skipped = nullptr);

/// The file behind a key that list_images(source) produced.
std::filesystem::path resolve_key(const std::filesystem::path& source, const std::string& key);

/// The file extensions OpenCV decodes, lower case with the dot.
bool has_image_extension(const std::filesystem::path& file);

}  // namespace amva::io
