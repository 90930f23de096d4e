#pragma once
// Names of output files and folders derived from input (an image's stem, a method's name) must
// stay one plain component inside --out: "..", ".", "", a slash or a NUL would not.
#include <string>

namespace amva::io {

/// True when `name` is one path component that names a child of its folder: not empty, not
/// "." or "..", no '/' and no NUL.
bool is_safe_name(const std::string& name);

/// `name` made safe: '/' and NUL become '_', and "", "." and ".." become "_", "_." and "_..".
std::string safe_name(std::string name);

}  // namespace amva::io
