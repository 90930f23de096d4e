#include "amva/share.hpp"

#include <cstdlib>
#include <system_error>

namespace amva {
namespace fs = std::filesystem;

fs::path share_dir() {
  if (const char* env = std::getenv("AMVA_SHARE_DIR"); env && *env) return env;
  std::error_code ec;
  const fs::path program = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path dir = program.parent_path(); !dir.empty(); dir = dir.parent_path()) {
      if (fs::exists(dir / "share/amva/plots.py", ec)) return dir / "share/amva";
      if (dir == dir.root_path()) break;
    }
  }
  return AMVA_SHARE_INSTALL_DIR;
}

fs::path share_file(const std::string& name) { return share_dir() / name; }

}  // namespace amva
