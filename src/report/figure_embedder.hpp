#pragma once
// The report's figures: each PNG embedded (the report stays one file that opens offline),
// copied with its SVG into figures/ and linked; and for map figures, the maps themselves,
// embedded once each, so that the page can show the value under the pointer.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace amva::report {

class FigureEmbedder {
 public:
  explicit FigureEmbedder(std::filesystem::path figures_dir);
  /// A <figure> for `png` named `name` in figures/, or a line saying that it is missing. When
  /// `png` has a sibling .axes.json (written by plots.py), the image carries where each map
  /// lies and which embedded map it shows.
  std::string embed(const std::filesystem::path& png, const std::string& name, const std::string& caption);
  /// The embedded maps as a JSON <script>: per map its size, value range and the values as
  /// 16-bit steps of that range (little-endian, base64): within 1/65535 of the range.
  [[nodiscard]] std::string maps_script() const;

 private:
  std::string map_cells(const std::filesystem::path& png);
  std::filesystem::path dir_;
  std::map<std::filesystem::path, std::size_t> map_index_;  // canonical .npy -> position in maps_
  std::vector<std::string> maps_;                           // JSON objects
};

}  // namespace amva::report
