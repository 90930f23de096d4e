#pragma once
// Comparisons between stored images: which pairs to compare and whether they are mated.
#include <filesystem>
#include <string>
#include <vector>

namespace amva::eval {

struct Pair {
  std::string a;  // image keys as the store names them (path relative to the image root)
  std::string b;
  bool mated = false;
  int fold = 0;                        // LFW fold (0-based); 0 for lists without folds
  std::string identity_a, identity_b;  // the people, where the format names them (LFW); else empty
};

/// Reads LFW's pairs.txt (header "folds pairs_per_class", then per fold the mated lines
/// `name n1 n2` and the non-mated lines `name1 n1 name2 n2`). Keys follow LFW's layout,
/// `Name/Name_0001.jpg`. Throws Error(Parse) naming the file and line of a malformed line.
std::vector<Pair> read_lfw_pairs(const std::filesystem::path& file);

}  // namespace amva::eval
