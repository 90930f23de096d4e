#pragma once
// Maps made elsewhere (pytorch-grad-cam, the official AMVA code, any framework) as a store, so
// that analyze, edc and explain read them like maps amva computed. No model runs: the store
// holds the maps as given (any H x W; the analysis resamples them bilinearly to 112 x 112 and
// normalises each map as --normalize says, as it does amva's own), the image paths, and the
// embeddings when given.
#include <filesystem>
#include <string>

#include "amva/store/store.hpp"

namespace amva::store {

struct MapsImport {
  /// An N x H x W (or N x 1 x H x W) float32 .npy, or a folder of one H x W (or 1 x H x W)
  /// .npy per image, named after the image ("alice/001.jpg.npy" or "alice/001.npy").
  std::filesystem::path maps;
  /// With a single .npy: the images of its rows, one path per line in row order ('#' lines and
  /// blank lines skipped; a tab ends the path).
  std::filesystem::path list;
  /// Optional: an N x D float32 .npy of embeddings in the same row order (for amva edc).
  std::filesystem::path embeddings;
  std::string cam = "external";  // the maps' name in the store: maps_<cam>.npy, --cam of analyze
  std::filesystem::path out;     // a new store folder
};

/// Writes the store (record i is row i of the stack, or the i-th file in sorted order; every
/// face ok) and returns it. Throws
/// Error naming the file and the row for a wrong shape, a row count that differs from the
/// list's, a map with NaN or infinite values, an image listed twice, or a non-float32 array.
StoreContent import_maps(const MapsImport& options);

/// The official AMVA code's layout: per FIQA method, <METHOD>_high.npy and <METHOD>_low.npy
/// (N x H x W stacks, groups already chosen). Each map becomes a record
/// "<METHOD>/high/00000.npy" (or low), and quality.csv gets a column per method: 1 for its high
/// maps, 0 for its low maps, empty elsewhere, so that `amva analyze --group thresholds:0.5`
/// gives each method's two groups as they were chosen. Throws Error naming what is missing.
StoreContent import_group_stacks(const std::filesystem::path& dir, const std::string& cam,
                                 const std::filesystem::path& out);

}  // namespace amva::store
