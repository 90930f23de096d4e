#include "amva/io/image_list.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "amva/error.hpp"
#include "amva/io/input_file.hpp"
#include "amva/io/output_dir.hpp"

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

// Every regular file below root, following symlinked folders once: a folder reached again
// (a symlink loop, or two links to one folder) is not walked twice; an unreadable folder is
// skipped. Both go to `skipped` with the reason. A dangling symlink is listed, so that the
// run records it (`missing`) instead of dropping it silently.
// A folder amva wrote: a study, analysis or other output (its marker) or a store (meta.json
// beside index.csv, its lock or its shards). An --out inside --images is one on a second run,
// and its figures, thumbnails and arrays are no input images.
bool is_amva_output(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / kOutputMarker, ec)) return true;
  return fs::exists(dir / "meta.json", ec) &&
         (fs::exists(dir / "index.csv", ec) || fs::exists(dir / ".lock", ec) || fs::exists(dir / "shards", ec));
}

std::vector<ImageEntry> list_folder(const fs::path& root, std::vector<std::string>* skipped) {
  std::vector<ImageEntry> entries;
  const auto skip = [&](const std::string& what) {
    if (skipped) skipped->push_back(what);
  };
  std::error_code ec;
  std::set<fs::path> walked = {fs::canonical(root, ec)};
  fs::recursive_directory_iterator it(
      root, fs::directory_options::follow_directory_symlink | fs::directory_options::skip_permission_denied, ec);
  if (ec) throw Error(ErrorCode::Io, fmt::format("{}: cannot read folder ({})", root.string(), ec.message()));
  for (const fs::recursive_directory_iterator end; it != end;) {
    const fs::path path = it->path();
    const fs::path relative = path.lexically_relative(root);
    std::error_code status_ec;
    const auto link = it->symlink_status(status_ec);
    const auto target = it->status(status_ec);
    if (status_ec && status_ec != std::errc::no_such_file_or_directory && status_ec != std::errc::not_a_directory) {
      // A path beyond PATH_MAX (a folder nested too deep) or one the system cannot stat: named
      // with the reason, never dropped without a word (a dangling link is not_found: listed below).
      skip(status_ec == std::errc::filename_too_long
               ? fmt::format("{}: a path of {} characters, longer than the system allows; not read", path.string(),
                             path.native().size())
               : fmt::format("{}: cannot be read ({}); skipped", path.string(), status_ec.message()));
      it.disable_recursion_pending();
    } else if (is_hidden(relative)) {
      if (fs::is_directory(target)) it.disable_recursion_pending();
    } else if (fs::is_directory(target)) {
      if (::access(path.c_str(), R_OK | X_OK) != 0) {
        skip(fmt::format("{}: folder cannot be read ({}); skipped", path.string(), std::strerror(errno)));
        it.disable_recursion_pending();
      } else if (is_amva_output(path)) {
        skip(fmt::format("{}: a folder of amva's outputs (a study, analysis or store); not read as images",
                         path.string()));
        it.disable_recursion_pending();
      } else if (!walked.insert(fs::canonical(path, status_ec)).second) {
        skip(
            fmt::format("{}: folder already listed (a symbolic link loop or a second link to it); not walked "
                        "again",
                        path.string()));
        it.disable_recursion_pending();
      }
    } else if (fs::is_regular_file(target) || (fs::is_symlink(link) && !fs::exists(target))) {
      entries.push_back({path, relative.generic_string()});
    } else if (fs::exists(target)) {
      skip(fmt::format("{}: not a regular file (FIFO, socket or device); not read", path.string()));
    }
    it.increment(ec);
    if (ec) {
      skip(fmt::format("{}: listing stopped here ({})", path.string(), ec.message()));
      break;
    }
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
  auto in = open_input(list, "image list");
  std::vector<ImageEntry> entries;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (auto tab = line.find('\t'); tab != std::string::npos) line.resize(tab);
    line = trim(line);
    if (line.empty() || line.starts_with('#')) continue;
    fs::path p(line);
    entries.push_back({p.is_absolute() ? p : list.parent_path() / p, p.generic_string()});
  }
  return entries;
}

// One entry per file: a list line given twice, or a file reached through a symlinked folder
// or link as well as directly, is read once (under its first key), with a note. Files that
// do not exist are told apart by key; the run records them.
std::vector<ImageEntry> without_aliases(std::vector<ImageEntry> entries, std::vector<std::string>* skipped) {
  std::map<std::string, std::string> first_key;  // canonical path or key -> first key
  std::vector<ImageEntry> kept;
  kept.reserve(entries.size());
  for (auto& e : entries) {
    std::error_code ec;
    const auto canonical = fs::canonical(e.file, ec);
    const std::string identity = ec ? "key:" + e.key : canonical.string();
    const auto [it, inserted] = first_key.emplace(identity, e.key);
    if (inserted) {
      kept.push_back(std::move(e));
    } else if (skipped) {
      skipped->push_back(e.key == it->second ? fmt::format("{}: listed again; read once", e.key)
                                             : fmt::format("{}: the same file as {}; read once", e.key, it->second));
    }
  }
  return kept;
}

}  // namespace

fs::path resolve_key(const fs::path& source, const std::string& key) {
  const fs::path k(key);
  if (k.is_absolute()) return k;
  return fs::is_directory(source) ? source / k : source.parent_path() / k;
}

std::vector<ImageEntry> list_images(const fs::path& source, std::vector<std::string>* skipped) {
  std::error_code ec;
  if (!fs::exists(source, ec)) {
    throw Error(ErrorCode::NotFound, fmt::format("{}: no such folder or image list", source.string()));
  }
  auto entries = fs::is_directory(source) ? list_folder(source, skipped) : list_file(source);
  return without_aliases(std::move(entries), skipped);
}

}  // namespace amva::io
