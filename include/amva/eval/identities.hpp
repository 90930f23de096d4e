#pragma once
// Who is in each image: identities from a labels file, from parent folders, or from a pairs
// file. Comparisons from labels need them, and so do the bootstraps that resample people
// rather than images (images of one person are not independent).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "amva/eval/pairs.hpp"
#include "amva/store/store.hpp"

namespace amva::eval {

struct IdentitySource {
  std::filesystem::path labels;  // `path identity` lines (or CSV path,identity)
  bool from_folders = false;     // each image's parent folder
  std::filesystem::path pairs;   // LFW pairs.txt (names its people) or an `a b is_same` list
  [[nodiscard]] bool empty() const { return labels.empty() && !from_folders && pairs.empty(); }
};

struct Identities {
  // One per store row: the identity's number (0..count-1, numbered in the sorted order of the
  // identity names), or -1 when unknown.
  std::vector<std::int64_t> of_row;
  std::vector<std::string> names;  // names[k] of identity k
  std::string description;         // where they came from, in words
  [[nodiscard]] std::size_t count() const { return names.size(); }
  [[nodiscard]] std::size_t known_rows() const;
  /// The resampling unit of a store row: its identity, or a unit of its own (a negative
  /// number) when it has none.
  [[nodiscard]] std::int64_t unit_of(std::size_t row) const;
};

/// What a bootstrap resamples: images, or people and then their images.
enum class BootstrapUnit { Auto, Image, Identity };
/// "auto", "image" or "identity"; throws Error(InvalidArgument) otherwise.
BootstrapUnit parse_bootstrap_unit(const std::string& text);
/// Whether a bootstrap resamples identities: when asked (Identity; an Error(InvalidArgument)
/// saying what to give when none are known), or when any are known (Auto).
bool resamples_identities(BootstrapUnit unit, const Identities& identities);

/// Whether the images' folders evidently name their people: every readable image lies in a
/// sub-folder, there is more than one sub-folder, and some sub-folder holds two or more
/// images (LFW's layout). amva analyze and amva run then take identities from the folders
/// unless told otherwise.
bool folders_name_people(const std::vector<store::IndexEntry>& index);
/// The identities `source` names; when it names none and `from_evident_folders`, those of the
/// folders if they evidently name people (folders_name_people); otherwise none.
Identities find_identities(const std::vector<store::IndexEntry>& index, IdentitySource source,
                           bool from_evident_folders);

/// Identities of the store's rows. From a pairs file: the people LFW's format names; for a
/// pair list, images joined by a mated pair are one person (connected components), the others
/// their own. Labels that match no store image are ignored. Throws Error(NotFound/Parse)
/// naming the file and line.
Identities read_identities(const std::vector<store::IndexEntry>& index, const IdentitySource& source);

/// The identities of pairs already read from `file` (as read_identities does with a pairs source).
Identities identities_from_pairs(const std::vector<store::IndexEntry>& index, const std::vector<Pair>& pairs,
                                 const std::filesystem::path& file);

}  // namespace amva::eval
