#pragma once
// Opening a file a user named: every way it can be wrong (absent, a folder, a FIFO that would
// block forever, unreadable) becomes a message naming it, before the standard library reads
// from it and fails with its own words ("basic_filebuf::underflow error reading the file").
#include <filesystem>
#include <fstream>
#include <string_view>

namespace amva::io {

/// Opens `file` for reading. `what` names it in messages ("pairs file"). Throws
/// Error(NotFound) when it is absent, Error(InvalidArgument) when it is not a regular file,
/// Error(Io) when it cannot be opened.
std::ifstream open_input(const std::filesystem::path& file, std::string_view what = "file",
                         std::ios::openmode mode = std::ios::in);

}  // namespace amva::io
