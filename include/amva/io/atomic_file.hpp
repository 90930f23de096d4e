#pragma once
// Outputs are written to a temporary file beside the target and renamed over it, so a
// crash or a full disk never leaves a half-written store file behind.
#include <filesystem>
#include <functional>
#include <iosfwd>
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

/// Reads a whole file as text; throws Error(Io) naming the file.
std::string read_text(const std::filesystem::path& file);

}  // namespace amva::io
