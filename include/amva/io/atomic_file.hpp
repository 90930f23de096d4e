#pragma once
// Outputs are written to a temporary file beside the target and renamed over it, so a
// crash or a full disk never leaves a half-written store file behind.
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace amva::io {

/// Calls `write` with a stream on a temporary file, then renames it to `target`.
/// Throws Error(Io) naming `target` if writing or renaming fails; the target is untouched then.
void write_atomically(const std::filesystem::path& target, const std::function<void(std::ostream&)>& write);

/// Writes `text` to `target` atomically.
void write_text_atomically(const std::filesystem::path& target, std::string_view text);

/// Copies `source` to `target` through a temporary file and a rename: a symlink at `target`
/// is replaced, never written through.
void copy_file_atomically(const std::filesystem::path& source, const std::filesystem::path& target);

/// Removes the temporary files write_atomically left beside `target` when a kill or a full
/// disk stopped it (`<target>.tmp<pid>-<n>`). Call it only as the file's one writer (under
/// its folder's lock), when no other writer's temporary file can be live.
void remove_temporaries_of(const std::filesystem::path& target);

/// Whether `dir` holds nothing but its lock (FolderLock) and temporary files of its `name`:
/// what a folder's birth leaves when a kill or a full disk stops the first write of `name`
/// (a store's meta.json, an output folder's marker). Such a folder is amva's, not the user's.
bool holds_only_an_interrupted_write(const std::filesystem::path& dir, const std::string& name);

/// Reads a whole file as text; throws Error(Io) naming the file.
std::string read_text(const std::filesystem::path& file);

}  // namespace amva::io
