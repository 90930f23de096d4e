#pragma once
// An output folder written as one unit: a command writes into a fresh staging folder inside
// --out, and only a finished run moves its entries into place. A run killed while writing
// leaves the previous outputs untouched (never new maps beside an old reference.json), and a
// symlink already in --out is replaced, never written through: everything is written into
// folders amva has just made.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "amva/io/folder_lock.hpp"

namespace amva::io {

class StagedOutput {
 public:
  /// Claims `out` as claim_output_dir does (`force`, `signatures`), locks it against a second
  /// writer (FolderLock: "output folder in use by process N"), completes the publication
  /// of an earlier run that was killed while publishing (or discards its unfinished staging),
  /// and makes an empty staging folder.
  StagedOutput(std::filesystem::path out, bool force, const std::vector<std::string>& signatures = {});
  /// Discards the staging folder unless published (a run that failed changes nothing).
  ~StagedOutput();
  StagedOutput(const StagedOutput&) = delete;
  StagedOutput& operator=(const StagedOutput&) = delete;

  /// Where the command writes.
  [[nodiscard]] const std::filesystem::path& dir() const { return staging_; }
  /// The folder the outputs end up in.
  [[nodiscard]] const std::filesystem::path& out() const { return out_; }
  /// Moves every staged entry into `out`, replacing same-named entries (files by an atomic
  /// rename; folders and symlinks are moved aside first); `last` (e.g. "summary.json") goes
  /// last, so that its presence says the rest is in place. Idempotent after a kill.
  void publish(const std::string& last = {});

 private:
  std::filesystem::path out_;
  std::filesystem::path staging_;
  std::optional<FolderLock> lock_;
  bool published_ = false;
};

/// The staging folder's name inside an output folder.
constexpr const char* kStagingName = ".amva-staging";

}  // namespace amva::io
