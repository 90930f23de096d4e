#pragma once
// A head's Jacobian J (D x C*h*w) often factors by channel: the columns of channel c form a
// D x (h*w) block of rank one, u_c s_c^T. That holds whenever each channel is first reduced over
// its positions by a linear map of its own (global depthwise convolution, as MobileFaceNet's
// GDC, or global average pooling) and a linear map of the C results follows. Then
// J a = U (s_c . a_c)_c, which costs C*h*w + D*C multiplications instead of D*C*h*w: for
// SER-FIQ's 100 passes on a 512 x 7 x 7 layer, 28 million instead of 1.3 billion.
#include <optional>
#include <vector>

namespace amva::model {

struct HeadShape;

struct ChannelFactors {
  int channels = 0;
  int positions = 0;           // h*w
  int embedding = 0;           // D
  std::vector<float> mix;      // U, D x C, row-major
  std::vector<float> spatial;  // s, C x (h*w), row-major: channel c's weights over its positions
};

/// The largest relative energy a block may hold outside its rank-one part, ||B - u s^T||^2 /
/// ||B||^2: 1e-10, a singular-value ratio of 1e-5 (the default model's blocks reach 2e-7, float
/// rounding of the probed J).
inline constexpr double kChannelFactorTolerance = 1e-10;

/// J (D rows of C*h*w, row-major, column c*h*w + y*w + x) as U and s, or nothing when some
/// channel's block is not of rank one within kChannelFactorTolerance.
std::optional<ChannelFactors> factor_by_channel(const std::vector<float>& jacobian, const HeadShape& shape);

}  // namespace amva::model
