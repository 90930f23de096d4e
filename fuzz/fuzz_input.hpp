#pragma once
// What every fuzz target shares: the input as a file (amva's parsers read files), and the
// property each target checks: a parser given any bytes returns or throws amva::Error with a
// message; any other exception (a raw library message reaching the user) is a finding, as is
// every crash, leak of a sanitizer report or hang.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "amva/error.hpp"

namespace amva::fuzz {

/// A scratch folder of this process, removed at exit.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("amva-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  // Registered once `dir` is built, so that the handler runs before its destructor: registered
  // inside the initialiser, it ran after and removed nothing (a folder was left per run).
  static const bool removed_at_exit = [] {
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    });
    return true;
  }();
  (void)removed_at_exit;
  return dir;
}

/// Writes `size` bytes to scratch()/name and returns its path.
inline std::filesystem::path write_input(const std::uint8_t* data, std::size_t size, const std::string& name) {
  const auto file = scratch() / name;
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return file;
}

/// Runs `parse`; amva::Error is an accepted outcome, anything else aborts with its message.
template <typename Parse>
void expect_amva_errors_only(Parse&& parse) {
  try {
    parse();
  } catch (const amva::Error& e) {
    if (std::string_view(e.what()).empty()) {
      std::fprintf(stderr, "amva::Error without a message\n");
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "raw exception escaped an amva parser: %s\n", e.what());
    std::abort();
  }
}

}  // namespace amva::fuzz
