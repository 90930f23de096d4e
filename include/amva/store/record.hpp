#pragma once
// One row of a store's index.csv: an image (or one face of it) and what extraction made of it.
#include <cstdint>
#include <string>
#include <vector>

#include "amva/face/face.hpp"

namespace amva::store {

struct Record {
  std::int64_t id = 0;  // row in index.csv and in every .npy of the store
  std::string path;     // image key: relative to the image folder or as the list gives it
  int face = 0;         // face number within the image (largest first); -1 when none
  bool ok = false;
  std::string reason;    // short failure class: no_face, empty_file, truncated, ...; empty if ok
  std::string error;     // full message; empty if ok
  face::Face detection;  // box, score and the 5 landmarks in source-image pixels
  int image_width = 0;
  int image_height = 0;
};

/// index.csv columns, in order.
const std::vector<std::string>& index_columns();
std::vector<std::string> to_fields(const Record& r);
/// Throws Error(Parse) with `where` (file:line) for a malformed row.
Record record_from_fields(const std::vector<std::string>& fields, const std::string& where);

/// Orders records by path, then face: the store's canonical order.
bool canonical_less(const Record& a, const Record& b);

}  // namespace amva::store
