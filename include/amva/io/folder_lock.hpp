#pragma once
// One writer per folder: a store, or a command's output folder (--out of analyze, edc,
// explain, cam and run). Two commands writing into one folder at once ended with the first
// reporting results the folder no longer held.
#include <filesystem>
#include <string>

namespace amva::io {

/// An exclusive flock on <dir>/.lock, released when the holder ends, however it ends (a lock
/// left by a killed process never blocks). Taken once per process and counted, so that a step
/// inside a run that locks the same folder again does not refuse its own run. Throws
/// Error(InvalidArgument) "<dir>: <what> in use by process N" when another process holds it,
/// and Error(Io) naming the folder and the system's reason when the lock file cannot be made
/// (a read-only file system says so).
class FolderLock {
 public:
  FolderLock(const std::filesystem::path& dir, const std::string& what);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  std::filesystem::path file_;
  int fd_ = -1;
};

/// The lock file's name inside a locked folder.
constexpr const char* kLockName = ".lock";

}  // namespace amva::io
