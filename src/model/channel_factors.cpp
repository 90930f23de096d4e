#include "amva/model/channel_factors.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <Eigen/Dense>
#include <atomic>

#include "amva/error.hpp"
#include "amva/model/affine_head.hpp"

namespace amva::model {

// Block B (D x P) of channel c: its Gram matrix B^T B (P x P) has one eigenvalue when B has rank
// one; s = the top eigenvector and u = B s then give B = u s^T. The Gram matrix keeps the work
// at D*P^2 per channel (P = 49), against an SVD of the D x P block.
std::optional<ChannelFactors> factor_by_channel(const std::vector<float>& jacobian, const HeadShape& shape) {
  const int c_count = shape.channels;
  const int p_count = shape.positions();
  const int d_count = shape.embedding;
  const auto k = static_cast<std::size_t>(shape.inputs());
  if (jacobian.size() != k * static_cast<std::size_t>(d_count))
    throw Error(ErrorCode::InvalidArgument, "factor_by_channel: the Jacobian does not match the head's shape");
  ChannelFactors f;
  f.channels = c_count;
  f.positions = p_count;
  f.embedding = d_count;
  f.mix.assign(static_cast<std::size_t>(d_count) * c_count, 0.f);
  f.spatial.assign(k, 0.f);
  std::atomic<bool> rank_one{true};
  tbb::parallel_for(tbb::blocked_range<int>(0, c_count), [&](const tbb::blocked_range<int>& channels) {
    Eigen::MatrixXd block(d_count, p_count);
    for (int c = channels.begin(); c < channels.end() && rank_one; ++c) {
      for (int d = 0; d < d_count; ++d)
        for (int p = 0; p < p_count; ++p)
          block(d, p) = jacobian[static_cast<std::size_t>(d) * k + static_cast<std::size_t>(c) * p_count + p];
      const Eigen::MatrixXd gram = block.transpose() * block;
      const double energy = gram.trace();
      if (energy == 0) continue;  // a channel the head ignores: u = 0, s = 0
      const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(gram);
      const double top = eigen.eigenvalues()(p_count - 1);
      if (energy - top > kChannelFactorTolerance * energy) {
        rank_one = false;
        return;
      }
      const Eigen::VectorXd s = eigen.eigenvectors().col(p_count - 1);
      const Eigen::VectorXd u = block * s;
      for (int p = 0; p < p_count; ++p) f.spatial[static_cast<std::size_t>(c) * p_count + p] = static_cast<float>(s(p));
      for (int d = 0; d < d_count; ++d) f.mix[static_cast<std::size_t>(d) * c_count + c] = static_cast<float>(u(d));
    }
  });
  if (!rank_one) return std::nullopt;
  return f;
}

}  // namespace amva::model
