#include "amva/viz/text.hpp"

#include <opencv2/imgproc.hpp>

namespace amva::viz {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

void put_text(cv::Mat& image, const std::string& text, cv::Point at, double scale, cv::Scalar colour) {
  cv::putText(image, text, at, kFont, scale, colour, 1, cv::LINE_AA);
}

int text_width(const std::string& text, double scale) {
  int baseline = 0;
  return cv::getTextSize(text, kFont, scale, 1, &baseline).width;
}

std::vector<std::string> wrap_text(const std::string& text, int width, double scale) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t next = text.find(' ', pos);
    if (next == std::string::npos) next = text.size();
    const std::string word = text.substr(pos, next - pos);
    const std::string candidate = line.empty() ? word : line + ' ' + word;
    if (!line.empty() && text_width(candidate, scale) > width) {
      lines.push_back(line);
      line = word;
    } else {
      line = candidate;
    }
    pos = next + 1;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace amva::viz
