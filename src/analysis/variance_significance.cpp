#include "amva/analysis/variance_significance.hpp"

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "amva/analysis/permutation_tests.hpp"
#include "amva/error.hpp"
#include "amva/stats/variance_tests.hpp"

namespace amva::analysis {

namespace {
// q, -log10 q, the significant cells and the inside/outside counts from the adjusted p-values.
void finish(CellSignificance& s, const std::vector<double>& q, int h, int w, const std::array<double, 4>& box) {
  s.q = cv::Mat(h, w, CV_64F);
  s.minus_log10_q = cv::Mat(h, w, CV_64F);
  s.significant = cv::Mat(h, w, CV_8U, cv::Scalar(0));
  s.inside = cv::Mat(h, w, CV_8U, cv::Scalar(0));
  for (int i = 0; i < h; ++i) {
    for (int j = 0; j < w; ++j) {
      const auto k = static_cast<std::size_t>(i) * static_cast<std::size_t>(w) + static_cast<std::size_t>(j);
      s.q.at<double>(i, j) = q[k];
      s.minus_log10_q.at<double>(i, j) = -std::log10(std::max(q[k], 1e-300));
      const double x = (j + 0.5) * 112.0 / w - 0.5;
      const double y = (i + 0.5) * 112.0 / h - 0.5;
      const bool in = x >= box[0] && x <= box[2] && y >= box[1] && y <= box[3];
      const bool sig = q[k] <= s.fdr;
      s.inside.at<std::uint8_t>(i, j) = in ? 255 : 0;
      s.significant.at<std::uint8_t>(i, j) = sig ? 255 : 0;
      (in ? s.cells_inside : s.cells_outside) += 1;
      if (sig) (in ? s.significant_inside : s.significant_outside) += 1;
    }
  }
}
}  // namespace

CellSignificance variance_significance(const std::vector<float>& low, std::size_t n_low, const std::vector<float>& high,
                                       std::size_t n_high, int h, int w, double fdr, const std::array<double, 4>& box) {
  const auto d = static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
  if (low.size() != n_low * d || high.size() != n_high * d) {
    throw Error(ErrorCode::InvalidArgument, "variance tests need n x h x w maps per group");
  }
  if (n_low < 2 || n_high < 2) {
    throw Error(ErrorCode::InvalidArgument, "variance tests need at least two maps in each group");
  }
  CellSignificance s;
  s.fdr = fdr;
  s.statistic = cv::Mat(h, w, CV_64F);
  s.p = cv::Mat(h, w, CV_64F);
  std::vector<double> a(n_low), b(n_high), p(d);
  for (std::size_t k = 0; k < d; ++k) {
    for (std::size_t i = 0; i < n_low; ++i) a[i] = low[i * d + k];
    for (std::size_t i = 0; i < n_high; ++i) b[i] = high[i * d + k];
    const auto t = stats::brown_forsythe(a, b);
    s.statistic.ptr<double>()[k] = t.statistic;
    s.p.ptr<double>()[k] = p[k] = t.p;
    s.undefined += std::isnan(t.p) ? 1 : 0;
  }
  s.test = "brown-forsythe";
  finish(s, stats::benjamini_hochberg(p), h, w, box);
  return s;
}

CellSignificance cell_significance(const PermutationTests& tests, double level, const std::array<double, 4>& box) {
  CellSignificance s;
  s.test = "permutation";
  s.fdr = level;
  s.statistic = tests.statistic.clone();
  s.p = tests.p.clone();
  for (auto it = s.p.begin<double>(); it != s.p.end<double>(); ++it) s.undefined += std::isnan(*it) ? 1 : 0;
  const auto* q = tests.p_family.ptr<double>();
  finish(s, std::vector<double>(q, q + tests.p_family.total()), tests.p_family.rows, tests.p_family.cols, box);
  return s;
}

cv::Mat cells_for_display(const cv::Mat& cells, int size) {
  cv::Mat out;
  cv::resize(cells, out, cv::Size(size, size), 0, 0, cv::INTER_NEAREST);
  return out;
}

}  // namespace amva::analysis
