#pragma once
#include <fmt/format.h>

#include "amva/pipeline/extract.hpp"

namespace amva::cli {
/// The end-of-run lines every extraction prints.
inline void print_extract_summary(const pipeline::ExtractSummary& s, const std::filesystem::path& store) {
  for (const auto& note : s.skipped) fmt::print("skipped: {}\n", note);
  fmt::print("images listed {}, already in store {}, read now {}\n", s.listed, s.resumed, s.processed);
  if (!s.finished) {
    fmt::print("stopped early; run the same command again to resume\n");
    return;
  }
  std::size_t failed = 0;
  for (const auto& [reason, n] : s.failures) failed += n;
  fmt::print("store {}: {} records, {} faces aligned and embedded, {} failures\n", store.string(), s.records, s.faces,
             failed);
  for (const auto& [reason, n] : s.failures) fmt::print("  {:<14} {}\n", reason, n);
  fmt::print("{:.1f} s, {:.1f} images/s (commit {:.2f} s)\n", s.seconds, s.images_per_second(), s.commit_seconds);
}
}  // namespace amva::cli
