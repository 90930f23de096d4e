#include "amva/share.hpp"

#include <cstdlib>

namespace amva {

std::filesystem::path share_file(const std::string& name) {
  if (const char* env = std::getenv("AMVA_SHARE_DIR"); env && *env) return std::filesystem::path(env) / name;
  const auto source = std::filesystem::path(AMVA_SHARE_SOURCE_DIR) / name;
  if (std::filesystem::exists(source)) return source;
  return std::filesystem::path(AMVA_SHARE_INSTALL_DIR) / name;
}

}  // namespace amva
