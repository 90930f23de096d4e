#pragma once
// A folder's outputs as two runs of a command can compare them: after a fault and a rerun, the
// folder must equal an uninterrupted run's (the fault matrix, and the study's faults while its
// analysis and EDC run together).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>

#include "amva/io/atomic_file.hpp"
#include "amva/io/folder_lock.hpp"

namespace amva::test {
namespace fs = std::filesystem;

// A file name as a message can show it: bytes outside printable ASCII as \xNN.
inline std::string printable(const std::string& name) {
  std::string out;
  for (const unsigned char c : name)
    out += c >= 0x20 && c < 0x7f ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02x}", c);
  return out;
}

// A folder's files by relative path, as much of each as two uninterrupted runs share: lock
// files (a pid), drawn figures and the report (a date each; their presence still counts) and
// the "created" and "seconds" (what a step cost) lines of JSON files are left out.
inline std::map<std::string, std::string> contents(const fs::path& dir) {
  std::map<std::string, std::string> files;
  if (!fs::exists(dir)) return files;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    const fs::path& path = it->path();
    const std::string name = path.filename().string();
    if (name == ".figures") {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || name == io::kLockName) continue;
    const std::string key = printable(path.lexically_relative(dir).generic_string());
    if (path.extension() == ".svg" || name == "report.html") {
      files[key] = "(present)";
      continue;
    }
    std::string text = io::read_text(path);
    if (path.extension() == ".json") {
      std::string kept;
      std::size_t start = 0;
      while (start < text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const auto line = text.substr(start, end - start);
        if (line.find("\"created\"") == std::string::npos && line.find("\"seconds\"") == std::string::npos) {
          kept += line + "\n";
        }
        start = end + 1;
      }
      text = kept;
    }
    files[key] = text;
  }
  return files;
}

// Names the files where two snapshots differ (the contents are too long to print).
inline std::string differences(const std::map<std::string, std::string>& a,
                               const std::map<std::string, std::string>& b) {
  std::string out;
  for (const auto& [k, v] : a) {
    if (!b.contains(k))
      out += "  only after the fault: " + k + "\n";
    else if (b.at(k) != v)
      out += "  differs: " + k + "\n";
  }
  for (const auto& [k, v] : b) {
    if (!a.contains(k)) out += "  missing after the fault: " + k + "\n";
  }
  return out;
}

}  // namespace amva::test
