#pragma once
// Where do the low- and high-quality groups differ in variation beyond noise (beyond the
// paper, DESIGN.md "Groups and per-pixel statistics")? One Brown-Forsythe test per cell of
// the map's native grid, where the cells are the real units of a map (a 7x7 map has 49
// independent values; its 12,544 upsampled pixels are not independent), and the
// Benjamini-Hochberg procedure over the cells. The 112x112 version repeats each cell's value
// over the pixels nearest to it (cv::resize INTER_NEAREST), for display only.
#include <array>
#include <cstddef>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace amva::analysis {

struct CellSignificance {
  std::string test;       // "brown-forsythe" (q: Benjamini-Hochberg) or "permutation" (q: max-T family-wise p)
  cv::Mat statistic;      // h x w CV_64F: F of each cell (NaN when undefined)
  cv::Mat p;              // h x w: p-value (NaN when undefined)
  cv::Mat q;              // h x w: Benjamini-Hochberg adjusted p (undefined cells count as p = 1)
  cv::Mat minus_log10_q;  // h x w
  cv::Mat significant;    // h x w CV_8U: 255 where q <= fdr
  cv::Mat inside;         // h x w CV_8U: 255 for cells whose centre lies in the central face box
  std::size_t cells_inside = 0, cells_outside = 0;
  std::size_t significant_inside = 0, significant_outside = 0;
  std::size_t undefined = 0;
  double fdr = 0.05;
};

/// Tests low against high, cell by cell, over normalised maps at native resolution (n x h*w
/// row-major each). `box` is the central face rectangle in 112x112 pixel-centre coordinates;
/// a cell (i, j) is inside when its centre ((j + 0.5) 112 / w - 0.5, (i + 0.5) 112 / h - 0.5)
/// lies in it. Throws Error(InvalidArgument) when a group has fewer than two maps.
CellSignificance variance_significance(const std::vector<float>& low, std::size_t n_low, const std::vector<float>& high,
                                       std::size_t n_high, int h, int w, double fdr, const std::array<double, 4>& box);

struct PermutationTests;
/// The same outputs from the block permutation test (permutation_tests.hpp): p of each cell
/// alone, and its max-T family-wise p as q.
CellSignificance cell_significance(const PermutationTests& tests, double level, const std::array<double, 4>& box);

/// A native-resolution map repeated over the 112x112 pixels nearest to each cell.
cv::Mat cells_for_display(const cv::Mat& cells, int size = 112);

}  // namespace amva::analysis
