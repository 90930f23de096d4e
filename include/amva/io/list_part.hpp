#pragma once
// One part of an image listing, for job arrays: `--part i/N` runs take every N-th image, so
// that N jobs together read each image once and `amva merge` joins what they wrote.
#include <string>
#include <vector>

#include "amva/io/image_list.hpp"

namespace amva::io {

struct ListPart {
  int index = 1;  // 1-based, as SLURM_ARRAY_TASK_ID usually counts
  int count = 1;
  [[nodiscard]] bool whole() const { return count == 1; }
  [[nodiscard]] std::string to_string() const;
};

/// Parses "i/N" (1 <= i <= N). Throws Error(InvalidArgument) naming the text otherwise.
ListPart parse_list_part(const std::string& text);

/// The entries of part `part`: positions i-1, i-1+N, i-1+2N... of the listing. Taking
/// every N-th image rather than a contiguous block spreads folders of costly images (large
/// photos, many faces) over all parts.
std::vector<ImageEntry> select_part(const std::vector<ImageEntry>& entries, const ListPart& part);

}  // namespace amva::io
