#pragma once
#include <filesystem>
#include <string>

namespace amva {
/// A file amva ships in share/amva (the figure script, the report template): from
/// $AMVA_SHARE_DIR, else the source tree's share/amva, else the installed share/amva.
std::filesystem::path share_file(const std::string& name);
}  // namespace amva
