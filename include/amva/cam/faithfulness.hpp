#pragma once
// Whether a map ranks pixels the way the model uses them: the deletion and insertion games
// (Petsiuk et al., RISE, 2018) played on the face embedding. The face's pixels are removed
// (deletion) or inserted into a filled face (insertion) in the order a map ranks them, most
// important first, in steps of 1/steps of the face; at each step the score is the cosine of the
// embedding with the clean face's. A faithful map makes the deletion curve fall fast (low area)
// and the insertion curve rise fast (high area). Two fills, so that an out-of-distribution fill
// does not decide the ranking: a Gaussian blur of the face (RISE's substrate), and ROAD's noisy
// linear imputation (Rong et al., 2022), where every missing pixel is the weighted mean of its
// eight neighbours (direct 1/6, diagonal 1/12) plus a little noise, so that the shape of the
// removed set leaks as little as possible into the image.
#include <cstdint>
#include <functional>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace amva::cam {

enum class Fill { Blur, Road };
/// "blur" or "road".
std::string fill_name(Fill fill);
/// Both fills, in the order they are reported.
std::vector<Fill> all_fills();

struct GameSettings {
  int steps = 20;            // pixels change in steps of 1/steps of the face (5 %)
  double blur_sigma = 5.0;   // the blur fill's Gaussian, in pixels of the model input
  double road_noise = 0.01;  // ROAD: the noise's standard deviation, a share of the input's value range
};

/// The face's pixels (row-major indices of a `face`-sized image), most important first, as
/// `map` (raw, any size) upsampled bilinearly to the face ranks them; equal values (plateaus,
/// a map that is zero in places) in an order drawn from `seed`.
std::vector<int> order_by_map(const cv::Mat& map, cv::Size face, std::uint64_t seed);
/// A random order of the face's pixels (the control that knows nothing).
std::vector<int> random_order(cv::Size face, std::uint64_t seed);
/// Pixels nearest `centre` first (the control that knows only where faces are); equal
/// distances in an order drawn from `seed`.
std::vector<int> centre_order(cv::Size face, cv::Point2f centre, std::uint64_t seed);

/// ROAD's noisy linear imputation of one face input (1 x 3 x H x W, the model's input space):
/// the pixels where `known` is 0 are solved from their neighbours, channel by channel (a
/// sparse symmetric system; with no known pixel at all, the face's mean colour), then get
/// Gaussian noise of standard deviation `noise`.
cv::Mat impute_linear(const cv::Mat& input, const std::vector<std::uint8_t>& known, double noise, std::uint64_t seed);

/// The embedding of each input of a batch (N x 3 x H x W -> N x D, CV_32F).
using EmbedBatch = std::function<cv::Mat(const cv::Mat&)>;

struct GameCurves {
  std::vector<double> deletion;   // steps + 1 cosines: after removing 0, 1/steps, ..., all of the pixels
  std::vector<double> insertion;  // steps + 1 cosines: after inserting 0, ..., all of them into the filled face
  double deletion_area = 0;       // trapezoid area under the deletion curve over [0, 1] (lower is better)
  double insertion_area = 0;      // the same for insertion (higher is better)
};

/// Both games for each of `orders` on one face under one fill. The steps every order shares
/// (the clean face, the wholly filled one) are forwarded once; the noise of a ROAD step is the
/// same for every order (common random numbers, so that orders differ only in their pixels).
/// `batch` inputs per call of `embed`.
std::vector<GameCurves> play_games(const cv::Mat& input, const std::vector<float>& clean_embedding,
                                   const std::vector<std::vector<int>>& orders, Fill fill, const GameSettings& settings,
                                   const EmbedBatch& embed, int batch, std::uint64_t seed);

/// Forward passes per face, per order and fill (both games).
int forwards_per_order(const GameSettings& settings);

}  // namespace amva::cam
