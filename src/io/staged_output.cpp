#include "amva/io/staged_output.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/fault_injection.hpp"
#include "amva/io/output_dir.hpp"

namespace amva::io {
namespace fs = std::filesystem;
namespace {

// Present once every output is staged: from then on the publication is completed, even by the
// next run after a kill, instead of discarded.
constexpr const char* kComplete = ".complete";
constexpr const char* kTrash = ".trash";

void fail(const std::string& what, const fs::path& path, const std::error_code& ec) {
  throw Error(ErrorCode::Io, fmt::format("{}: cannot {} ({})", path.string(), what, ec.message()));
}

// Moves staging/name over out/name. A regular file is replaced by one rename; anything else
// (a folder, a symlink, another kind) is first moved into the trash, so that a rename never
// writes through a symlink and a kill at any instant leaves either entry whole.
void move_into_place(const fs::path& staging, const fs::path& out, const std::string& name) {
  std::error_code ec;
  const fs::path target = out / name;
  const fs::path aside = staging / kTrash / name;
  const auto status = fs::symlink_status(target, ec);
  const bool set_aside = fs::exists(status) && !fs::is_regular_file(status);
  if (set_aside) {
    fs::create_directories(staging / kTrash, ec);
    fs::remove_all(aside, ec);
    fault_point("AMVA_FAULT_PUBLISH_STEP", target.string());
    fs::rename(target, aside, ec);
    if (ec) fail("move the previous output aside", target, ec);
  }
  try {
    fault_point("AMVA_FAULT_PUBLISH_STEP", target.string());
    fs::rename(staging / name, target, ec);
    if (ec) fail("move the new output into place", target, ec);
  } catch (const Error&) {
    // The previous output goes back, so that a failure leaves this entry as it was.
    if (set_aside) fs::rename(aside, target, ec);
    throw;
  }
}

void complete_publication(const fs::path& staging, const fs::path& out, const std::string& last) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(staging)) {
    const auto name = entry.path().filename().string();
    if (name != kComplete && name != kTrash && name != last) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  if (!last.empty() && fs::exists(fs::symlink_status(staging / last))) names.push_back(last);
  for (const auto& name : names) move_into_place(staging, out, name);
  std::error_code ec;
  fs::remove_all(staging, ec);
  if (ec) fail("remove the staging folder", staging, ec);
}

}  // namespace

StagedOutput::StagedOutput(fs::path out, bool force, const std::vector<std::string>& signatures)
    : out_(std::move(out)), staging_(out_ / kStagingName) {
  claim_output_dir(out_, force, signatures);
  lock_.emplace(out_, "output folder");
  std::error_code ec;
  const auto status = fs::symlink_status(staging_, ec);
  if (fs::is_directory(status) && fs::exists(staging_ / kComplete)) {
    complete_publication(staging_, out_, read_text(staging_ / kComplete));
  } else if (fs::exists(status)) {
    fs::remove_all(staging_, ec);  // an unfinished run's outputs (or a symlink: the link only)
    if (ec) fail("remove an unfinished run's staging folder", staging_, ec);
  }
  fs::create_directory(staging_, ec);
  if (ec) fail("create the staging folder", staging_, ec);
}

StagedOutput::~StagedOutput() {
  // A complete staging whose publication failed midway is left for the next run to finish;
  // an incomplete one (the run failed while writing) is discarded.
  std::error_code ec;
  if (published_ || fs::exists(staging_ / kComplete, ec)) return;
  fs::remove_all(staging_, ec);
}

void StagedOutput::publish(const std::string& last) {
  fault_point("AMVA_FAULT_PUBLISH_STEP", (staging_ / kComplete).string());
  write_text_atomically(staging_ / kComplete, last);
  complete_publication(staging_, out_, last);
  published_ = true;
}

}  // namespace amva::io
