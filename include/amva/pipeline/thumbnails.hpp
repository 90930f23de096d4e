#pragma once
// Example faces of each FIQA method's lowest and highest quality groups, so that a reader sees
// what the groups hold before reading their maps.
#include <filesystem>
#include <map>
#include <string>

#include "amva/analysis/analyze.hpp"

namespace amva::pipeline {

/// For each method of an analysis, writes `out_dir`/thumbnails_<method>.png: the highest group above the lowest,
/// `per_group` aligned faces each, spread evenly over the group's scores (best first), each with its score. The faces
/// are re-made from the store's images and landmarks; a face whose image is gone is a grey cell. Returns method -> PNG.
std::map<std::string, std::filesystem::path> write_group_thumbnails(const std::filesystem::path& store_dir,
                                                                    const analysis::AnalysisResult& analysis,
                                                                    const std::filesystem::path& out_dir,
                                                                    int per_group = 8);

}  // namespace amva::pipeline
