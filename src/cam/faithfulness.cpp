#include "amva/cam/faithfulness.hpp"

#include <fmt/format.h>

#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <random>

#include "amva/cam/target.hpp"
#include "amva/error.hpp"
#include "amva/stats/random_streams.hpp"

namespace amva::cam {
namespace {

// Indices 0..n-1 in a random order, then stably sorted by `key` descending: ties stay shuffled.
std::vector<int> order_by_key(const std::vector<double>& key, std::uint64_t seed) {
  std::vector<int> order(key.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return key[static_cast<std::size_t>(a)] > key[static_cast<std::size_t>(b)]; });
  return order;
}

void check_input(const cv::Mat& input) {
  if (input.dims != 4 || input.size[0] != 1 || input.size[1] != 3 || input.type() != CV_32F) {
    throw Error(ErrorCode::InvalidArgument, "a face input must be one 1 x 3 x H x W float blob");
  }
}

cv::Mat plane(const cv::Mat& blob, int image, int channel) {
  return {blob.size[2], blob.size[3], CV_32F, const_cast<float*>(blob.ptr<float>(image, channel))};
}

double area(const std::vector<double>& curve) {
  double sum = 0;
  for (std::size_t k = 0; k + 1 < curve.size(); ++k) sum += 0.5 * (curve[k] + curve[k + 1]);
  return sum / static_cast<double>(curve.size() - 1);
}

// How many pixels step k of `steps` changes.
int pixels_at(int k, int steps, int total) {
  return static_cast<int>(static_cast<long long>(total) * k / steps);
}

}  // namespace

std::string fill_name(Fill fill) {
  return fill == Fill::Blur ? "blur" : "road";
}

std::vector<Fill> all_fills() {
  return {Fill::Blur, Fill::Road};
}

std::vector<int> order_by_map(const cv::Mat& map, cv::Size face, std::uint64_t seed) {
  if (map.empty() || map.type() != CV_32F) throw Error(ErrorCode::InvalidArgument, "a map must be a float matrix");
  cv::Mat up;
  cv::resize(map, up, face, 0, 0, cv::INTER_LINEAR);
  std::vector<double> key(up.total());
  for (std::size_t i = 0; i < key.size(); ++i) {
    const float v = up.ptr<float>()[i];
    key[i] = std::isfinite(v) ? v : -std::numeric_limits<double>::infinity();
  }
  return order_by_key(key, seed);
}

std::vector<int> random_order(cv::Size face, std::uint64_t seed) {
  return order_by_key(std::vector<double>(static_cast<std::size_t>(face.area()), 0.0), seed);
}

std::vector<int> centre_order(cv::Size face, cv::Point2f centre, std::uint64_t seed) {
  std::vector<double> key(static_cast<std::size_t>(face.area()));
  for (int y = 0; y < face.height; ++y) {
    for (int x = 0; x < face.width; ++x) {
      const double dx = x - centre.x, dy = y - centre.y;
      key[static_cast<std::size_t>(y * face.width + x)] = -(dx * dx + dy * dy);
    }
  }
  return order_by_key(key, seed);
}

cv::Mat impute_linear(const cv::Mat& input, const std::vector<std::uint8_t>& known, double noise, std::uint64_t seed) {
  check_input(input);
  const int h = input.size[2], w = input.size[3], n = h * w;
  if (known.size() != static_cast<std::size_t>(n)) throw Error(ErrorCode::InvalidArgument, "one flag per pixel");
  cv::Mat out = input.clone();
  std::vector<int> unknown_index(static_cast<std::size_t>(n), -1);
  int unknowns = 0;
  for (int i = 0; i < n; ++i) {
    if (!known[static_cast<std::size_t>(i)]) unknown_index[static_cast<std::size_t>(i)] = unknowns++;
  }
  if (unknowns == 0) return out;
  double means[3];
  for (int c = 0; c < 3; ++c) means[c] = cv::mean(plane(input, 0, c))[0];

  // For each missing pixel i: sum_j w_ij (x_i - x_j) = 0 over its neighbours j in the image,
  // the known x_j moved to the right-hand side. The weights are symmetric, so the system is the
  // graph Laplacian of the missing pixels: symmetric and, with a vanishing pull towards the
  // face's mean (which decides only a region with no known pixel), positive definite. A direct
  // factorisation: as fast as conjugate gradients at a useful precision (9 ms for half of a
  // 112 x 112 face, 34 ms for 90 %; bench RoadImputation), and exact.
  constexpr double kPull = 1e-4;
  constexpr int kDy[8] = {-1, 1, 0, 0, -1, -1, 1, 1};
  constexpr int kDx[8] = {0, 0, -1, 1, -1, 1, -1, 1};
  constexpr double kWeight[8] = {1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 12, 1.0 / 12, 1.0 / 12, 1.0 / 12};
  std::vector<Eigen::Triplet<double>> triplets;
  triplets.reserve(static_cast<std::size_t>(unknowns) * 9);
  Eigen::MatrixXd rhs = Eigen::MatrixXd::Zero(unknowns, 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const int row = unknown_index[static_cast<std::size_t>(y * w + x)];
      if (row < 0) continue;
      double diagonal = kPull;
      for (int c = 0; c < 3; ++c) rhs(row, c) = kPull * means[c];
      for (int k = 0; k < 8; ++k) {
        const int yy = y + kDy[k], xx = x + kDx[k];
        if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
        diagonal += kWeight[k];
        const int col = unknown_index[static_cast<std::size_t>(yy * w + xx)];
        if (col >= 0) {
          triplets.emplace_back(row, col, -kWeight[k]);
        } else {
          for (int c = 0; c < 3; ++c) rhs(row, c) += kWeight[k] * input.ptr<float>(0, c)[yy * w + xx];
        }
      }
      triplets.emplace_back(row, row, diagonal);
    }
  }
  Eigen::SparseMatrix<double> system(unknowns, unknowns);
  system.setFromTriplets(triplets.begin(), triplets.end());
  Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>> solver;
  // Noise of 1 % of the range follows, so a relative residual of 1e-4 is ample.
  solver.compute(system);
  if (solver.info() != Eigen::Success) throw Error(ErrorCode::InvalidArgument, "the imputation's system is singular");
  std::mt19937_64 rng(seed);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int c = 0; c < 3; ++c) {
    double a = 0, b = 0;
    cv::minMaxLoc(plane(input, 0, c), &a, &b);
    lo = std::min(lo, a);
    hi = std::max(hi, b);
  }
  std::normal_distribution<double> gauss(0.0, noise * (hi - lo));
  for (int c = 0; c < 3; ++c) {
    const Eigen::VectorXd solved = solver.solve(rhs.col(c));
    float* values = out.ptr<float>(0, c);
    for (int i = 0; i < n; ++i) {
      const int row = unknown_index[static_cast<std::size_t>(i)];
      if (row >= 0) values[i] = static_cast<float>(solved[row] + (noise > 0 ? gauss(rng) : 0.0));
    }
  }
  return out;
}

int forwards_per_order(const GameSettings& settings) {
  return 2 * (settings.steps - 1);
}

std::vector<GameCurves> play_games(const cv::Mat& input, const std::vector<float>& clean_embedding,
                                   const std::vector<std::vector<int>>& orders, Fill fill, const GameSettings& settings,
                                   const EmbedBatch& embed, int batch, std::uint64_t seed) {
  check_input(input);
  if (settings.steps < 2) throw Error(ErrorCode::InvalidArgument, "the games need at least 2 steps");
  const int h = input.size[2], w = input.size[3], n = h * w, steps = settings.steps;
  for (const auto& order : orders) {
    if (order.size() != static_cast<std::size_t>(n)) {
      throw Error(ErrorCode::InvalidArgument, fmt::format("an order must rank all {} pixels of the face", n));
    }
  }
  cv::Mat blurred;
  if (fill == Fill::Blur) {
    blurred = input.clone();
    for (int c = 0; c < 3; ++c) {
      cv::Mat p = plane(blurred, 0, c);
      cv::GaussianBlur(plane(input, 0, c), p, cv::Size(0, 0), settings.blur_sigma, settings.blur_sigma,
                       cv::BORDER_REFLECT);
    }
  }
  // The face with `changed` of `order`'s pixels taken from `source` over `base`; under ROAD the
  // pixels not taken from the face itself are imputed from those that are.
  const auto target = Target::create("self-cosine");  // the score: cos(e, clean face's e)
  const int d = static_cast<int>(clean_embedding.size());
  const auto cosine = [&](const float* e) { return target->value(e, clean_embedding.data(), d); };
  const auto step_seed = [&](bool deletion, int k) {
    return stats::stream_seed(seed, fmt::format("{}-{}-{}", fill_name(fill), deletion ? "deletion" : "insertion", k));
  };
  const auto variant = [&](const std::vector<int>& order, bool deletion, int k) {
    const int changed = pixels_at(k, steps, n);
    if (fill == Fill::Blur) {
      cv::Mat out = deletion ? input.clone() : blurred.clone();
      const cv::Mat& source = deletion ? blurred : input;
      for (int c = 0; c < 3; ++c) {
        float* dst = out.ptr<float>(0, c);
        const float* src = source.ptr<float>(0, c);
        for (int i = 0; i < changed; ++i)
          dst[order[static_cast<std::size_t>(i)]] = src[order[static_cast<std::size_t>(i)]];
      }
      return out;
    }
    std::vector<std::uint8_t> known(static_cast<std::size_t>(n), deletion ? 1 : 0);
    for (int i = 0; i < changed; ++i)
      known[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])] = deletion ? 0 : 1;
    return impute_linear(input, known, settings.road_noise, step_seed(deletion, k));
  };

  // Inputs to forward: the wholly filled face first, then each order's inner steps.
  struct Job {
    std::size_t order;
    bool deletion;
    int k;
  };
  std::vector<Job> jobs;
  for (std::size_t o = 0; o < orders.size(); ++o) {
    for (int k = 1; k < steps; ++k) {
      jobs.push_back({o, true, k});
      jobs.push_back({o, false, k});
    }
  }
  std::vector<GameCurves> curves(orders.size());
  for (auto& c : curves) {
    c.deletion.assign(static_cast<std::size_t>(steps) + 1, 1.0);
    c.insertion.assign(static_cast<std::size_t>(steps) + 1, 1.0);
  }
  {
    const cv::Mat filled = fill == Fill::Blur
                               ? blurred
                               : impute_linear(input, std::vector<std::uint8_t>(static_cast<std::size_t>(n), 0),
                                               settings.road_noise, step_seed(true, steps));
    const cv::Mat e = embed(filled);
    const double floor = cosine(e.ptr<float>(0));
    for (auto& c : curves) c.deletion[static_cast<std::size_t>(steps)] = c.insertion[0] = floor;
  }
  batch = std::max(1, batch);
  for (std::size_t first = 0; first < jobs.size(); first += static_cast<std::size_t>(batch)) {
    const std::size_t m = std::min(jobs.size() - first, static_cast<std::size_t>(batch));
    cv::Mat blob(std::vector<int>{static_cast<int>(m), 3, h, w}, CV_32F);
    for (std::size_t j = 0; j < m; ++j) {
      const Job& job = jobs[first + j];
      const cv::Mat v = variant(orders[job.order], job.deletion, job.k);
      std::copy_n(v.ptr<float>(), 3 * n, blob.ptr<float>(static_cast<int>(j)));
    }
    const cv::Mat e = embed(blob);
    for (std::size_t j = 0; j < m; ++j) {
      const Job& job = jobs[first + j];
      auto& curve = job.deletion ? curves[job.order].deletion : curves[job.order].insertion;
      curve[static_cast<std::size_t>(job.k)] = cosine(e.ptr<float>(static_cast<int>(j)));
    }
  }
  for (auto& c : curves) {
    c.deletion_area = area(c.deletion);
    c.insertion_area = area(c.insertion);
  }
  return curves;
}

}  // namespace amva::cam
