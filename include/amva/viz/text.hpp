#pragma once
// Text drawn into the sheets amva makes with OpenCV (explanation sheets, the regions legend,
// example faces): one font, anti-aliased, black unless asked.
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace amva::viz {

constexpr double kTextScale = 0.45;

/// Draws `text` with its baseline starting at `at`.
void put_text(cv::Mat& image, const std::string& text, cv::Point at, double scale = kTextScale,
              cv::Scalar colour = cv::Scalar(0, 0, 0));

/// Width in pixels of `text` as put_text draws it.
int text_width(const std::string& text, double scale = kTextScale);

/// Breaks `text` at spaces into lines no wider than `width` pixels (a longer word stays whole).
std::vector<std::string> wrap_text(const std::string& text, int width, double scale = kTextScale);

}  // namespace amva::viz
