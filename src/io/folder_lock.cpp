#include "amva/io/folder_lock.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "amva/error.hpp"

namespace amva::io {
namespace fs = std::filesystem;

namespace {
// The locks this process holds, by lock file: a lock is taken once per process and counted,
// so that a step inside a run (quality scores after extraction, a reader completing a commit)
// does not find its own run's lock and refuse.
struct HeldLock {
  int fd = -1;
  int count = 0;
};
std::mutex held_mutex;
std::map<std::string, HeldLock>& held_locks() {
  static std::map<std::string, HeldLock> held;
  return held;
}
std::string lock_key(const fs::path& file) {
  std::error_code ec;
  const auto canonical = fs::weakly_canonical(fs::absolute(file), ec);
  return ec ? fs::absolute(file).lexically_normal().string() : canonical.string();
}
}  // namespace

FolderLock::FolderLock(const fs::path& dir, const std::string& what) : file_(dir / kLockName) {
  const std::lock_guard guard(held_mutex);
  auto& held = held_locks()[lock_key(file_)];
  if (held.count > 0) {
    ++held.count;
    fd_ = held.fd;
    return;
  }
  fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const int error = errno;  // before anything else can change it (EROFS read "Invalid argument")
    held_locks().erase(lock_key(file_));
    throw Error(ErrorCode::Io,
                fmt::format("{}: cannot lock the {} ({})", dir.string(), what, std::strerror(error)));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {0};
    const auto n = ::pread(fd_, pid, sizeof pid - 1, 0);
    ::close(fd_);
    fd_ = -1;
    held_locks().erase(lock_key(file_));
    const std::string who = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : std::string("another process");
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{}: {} in use by process {}; wait for it to end (a lock left by a killed process "
                            "does not count)",
                            dir.string(), what, who.substr(0, who.find_first_of("\n "))));
  }
  held = {fd_, 1};
  // The lock is the flock, held until this process ends; the pid is only for the message.
  const auto text = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, text.data(), text.size(), 0) < 0) {
    // A lock whose pid could not be written still locks; the message then names no process.
  }
}

FolderLock::~FolderLock() {
  if (fd_ < 0) return;
  const std::lock_guard guard(held_mutex);
  const auto key = lock_key(file_);
  auto it = held_locks().find(key);
  if (it != held_locks().end() && --it->second.count > 0) return;
  ::close(fd_);
  if (it != held_locks().end()) held_locks().erase(it);
}

}  // namespace amva::io
