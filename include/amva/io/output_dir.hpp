#pragma once
// An output folder is amva's: amva never writes into a non-empty folder it did not make, where
// it would overwrite a user's files of the same names.
#include <filesystem>
#include <string>
#include <vector>

namespace amva::io {

/// The file that marks a folder as made by amva.
constexpr const char* kOutputMarker = ".amva-output";

/// Makes `dir` amva's output folder: creates it (or takes an empty one) and marks it. A
/// non-empty folder is accepted when it holds the marker, or one of `signatures` (paths that
/// outputs of older versions left, e.g. "summary.json"), or when `force` is set; otherwise
/// throws Error(InvalidArgument) naming it and saying what to do.
void claim_output_dir(const std::filesystem::path& dir, bool force, const std::vector<std::string>& signatures = {});

/// Makes `dir` a real folder inside an output folder: a symlink there (to anywhere) is removed,
/// the link and not what it points to, so that nothing is written through it.
void make_real_dir(const std::filesystem::path& dir);

}  // namespace amva::io
