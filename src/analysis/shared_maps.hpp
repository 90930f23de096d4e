#pragma once
// The store's maps as the ranks of a team share them during an analysis (docs/cluster.md).
// The root runs the analysis and asks for each group's statistics; every rank, the root
// included, reads and normalises its own slice of the group, and the exact partial results
// meet on the root (group_maps.hpp). A team of one reads everything itself, with the numbers
// one process always had.
#include <cstdint>
#include <opencv2/core.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "amva/analysis/group_maps.hpp"
#include "amva/io/npy.hpp"
#include "amva/team.hpp"

namespace amva::analysis {

struct GroupRequest {
  std::vector<std::int64_t> rows;      // store ids, ascending
  bool region = false;                 // region statistics with bootstrap intervals
  std::uint64_t stream_seed = 0;       // the group's bootstrap stream
  std::vector<std::int64_t> clusters;  // one bootstrap cluster per row, or empty (images)
  bool keep_maps = false;              // the normalised native maps, on the root
  GroupStatisticsOptions statistics;
  BootstrapOptions bootstrap;
};

struct GroupMaps {
  GroupStatistics statistics;
  std::optional<RegionStatistics> region;
  std::vector<float> maps;  // rows x low_pixels, when kept
};

class SharedMaps {
 public:
  SharedMaps(Team& team, io::NpyRowReader& reader, Normalization normalization, const Upsampler& up);
  /// On the root, releases the other ranks: serve() returns, or throws RootError when the root
  /// is leaving through an exception.
  ~SharedMaps();
  SharedMaps(const SharedMaps&) = delete;
  SharedMaps& operator=(const SharedMaps&) = delete;

  // The root's requests: each one is collective, the other ranks answering it in serve().
  /// The smallest and largest finite value of the maps of the readable records (`ok`, one
  /// flag per row of the maps file), with hi > lo.
  std::pair<double, double> value_range(const std::vector<bool>& ok);
  GroupMaps group(const GroupRequest& request);
  /// deviation_scores of `rows` (ascending store ids) against a reference.
  std::vector<double> deviations(const std::vector<std::int64_t>& rows, const cv::Mat& mam, const cv::Mat& amv,
                                 double eps);

  /// The normalised native maps of `rows` (ascending store ids), rows x low_pixels, on the
  /// root: what the null controls' permutation tests deal from.
  std::vector<float> maps(const std::vector<std::int64_t>& rows);

  /// The other ranks: answer the root's requests until it is done.
  void serve();

 private:
  std::pair<double, double> run_value_range(const std::vector<bool>& ok);
  GroupMaps run_group(const GroupRequest& request);
  std::vector<double> run_deviations(const std::vector<std::int64_t>& rows, const cv::Mat& mam, const cv::Mat& amv,
                                     double eps);
  std::vector<float> run_maps(const std::vector<std::int64_t>& rows);
  [[nodiscard]] std::pair<std::size_t, std::size_t> my_slice(std::size_t total) const;
  [[nodiscard]] std::vector<float> read_maps(const std::vector<std::int64_t>& rows) const;

  Team& team_;
  io::NpyRowReader& reader_;
  Normalization normalization_;
  const Upsampler& up_;
  bool released_ = false;
};

}  // namespace amva::analysis
