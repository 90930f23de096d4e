#include "amva/io/image_list.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <fstream>

#include "amva/error.hpp"

namespace amva::io {
namespace fs = std::filesystem;

bool has_image_extension(const fs::path& file) {
  static constexpr std::array<std::string_view, 16> kExtensions = {".jpg",  ".jpeg", ".jpe", ".png", ".pgm",  ".ppm",
                                                                   ".pbm",  ".pnm",  ".bmp", ".dib", ".webp", ".tif",
                                                                   ".tiff", ".jp2",  ".sr",  ".ras"};
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

namespace {

bool is_hidden(const fs::path& relative) {
  return std::any_of(relative.begin(), relative.end(),
                     [](const fs::path& part) { return part.string().starts_with('.'); });
}

std::vector<ImageEntry> list_folder(const fs::path& root) {
  std::vector<ImageEntry> entries;
  for (const auto& item : fs::recursive_directory_iterator(root, fs::directory_options::follow_directory_symlink)) {
    if (!item.is_regular_file()) continue;
    fs::path relative = fs::relative(item.path(), root);
    if (is_hidden(relative)) continue;
    entries.push_back({item.path(), relative.generic_string()});
  }
  std::sort(entries.begin(), entries.end(), [](const ImageEntry& a, const ImageEntry& b) { return a.key < b.key; });
  return entries;
}

std::string trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

std::vector<ImageEntry> list_file(const fs::path& list) {
  std::ifstream in(list);
  if (!in) throw Error(ErrorCode::Io, fmt::format("{}: cannot open image list", list.string()));
  std::vector<ImageEntry> entries;
  std::string line;
  while (std::getline(in, line)) {
    if (auto tab = line.find('\t'); tab != std::string::npos) line.resize(tab);
    line = trim(line);
    if (line.empty() || line.starts_with('#')) continue;
    fs::path p(line);
    entries.push_back({p.is_absolute() ? p : list.parent_path() / p, p.generic_string()});
  }
  return entries;
}

}  // namespace

fs::path resolve_key(const fs::path& source, const std::string& key) {
  const fs::path k(key);
  if (k.is_absolute()) return k;
  return fs::is_directory(source) ? source / k : source.parent_path() / k;
}

std::vector<ImageEntry> list_images(const fs::path& source) {
  std::error_code ec;
  if (!fs::exists(source, ec)) {
    throw Error(ErrorCode::NotFound, fmt::format("{}: no such folder or image list", source.string()));
  }
  return fs::is_directory(source) ? list_folder(source) : list_file(source);
}

}  // namespace amva::io
