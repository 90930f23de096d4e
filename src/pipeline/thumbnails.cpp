#include "amva/pipeline/thumbnails.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "amva/error.hpp"
#include "amva/io/image_io.hpp"
#include "amva/pipeline/extract.hpp"
#include "amva/store/store.hpp"
#include "amva/viz/text.hpp"

namespace amva::pipeline {
namespace fs = std::filesystem;
namespace {

constexpr int kFace = 112;
constexpr int kCaption = 18;
constexpr int kRowLabel = 56;
constexpr int kTitle = 28;
constexpr int kGap = 4;

struct Member {
  double score = 0;
  std::int64_t id = 0;
};

// `count` members at evenly spaced ranks of the group ordered best first (all when fewer).
std::vector<Member> spread(std::vector<Member> group, int count) {
  std::sort(group.begin(), group.end(), [](const Member& a, const Member& b) { return a.score > b.score; });
  const auto n = group.size();
  const auto k = std::min(n, static_cast<std::size_t>(std::max(count, 0)));
  std::vector<Member> picked;
  for (std::size_t i = 0; i < k; ++i) picked.push_back(group[k > 1 ? i * (n - 1) / (k - 1) : 0]);
  return picked;
}

}  // namespace

std::map<std::string, fs::path> write_group_thumbnails(const fs::path& store_dir,
                                                       const analysis::AnalysisResult& analysis,
                                                       const fs::path& out_dir, int per_group) {
  const auto store = store::read_store(store_dir);
  fs::create_directories(out_dir);
  std::map<std::string, fs::path> written;
  for (const auto& m : analysis.methods) {
    const auto& method = m.name;
    if (m.groups.size() < 2) continue;
    const std::vector<const analysis::GroupSummary*> shown = {&m.groups.back(), &m.groups.front()};
    std::map<std::string, std::vector<Member>> members;
    for (const auto* g : shown) {
      for (std::size_t i = 0; i < g->rows.size(); ++i) {
        if (g->rows[i] >= 0 && static_cast<std::size_t>(g->rows[i]) < store.table.records.size()) {
          members[g->name].push_back({g->scores[i], g->rows[i]});
        }
      }
    }
    const int width = kRowLabel + per_group * (kFace + kGap);
    const int height = kTitle + static_cast<int>(shown.size()) * (kFace + kCaption + kGap);
    cv::Mat sheet(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
    viz::put_text(sheet,
                  fmt::format("{}: example faces of the {} and {} groups, evenly spaced by score", method,
                              shown[0]->name, shown[1]->name),
                  {4, 18}, 0.5);
    for (std::size_t g = 0; g < shown.size(); ++g) {
      const int y = kTitle + static_cast<int>(g) * (kFace + kCaption + kGap);
      viz::put_text(sheet, shown[g]->name, {4, y + kFace / 2});
      const auto picked = spread(members[shown[g]->name], per_group);
      for (std::size_t i = 0; i < picked.size(); ++i) {
        const int x = kRowLabel + static_cast<int>(i) * (kFace + kGap);
        cv::Mat face;
        try {
          face = aligned_face_of(store.meta, store.table.records[static_cast<std::size_t>(picked[i].id)]);
        } catch (const Error&) {
          face = cv::Mat(kFace, kFace, CV_8UC3, cv::Scalar(200, 200, 200));  // the image is gone or unreadable
        }
        if (face.size() != cv::Size(kFace, kFace)) cv::resize(face, face, cv::Size(kFace, kFace));
        face.copyTo(sheet(cv::Rect(x, y, kFace, kFace)));
        viz::put_text(sheet, fmt::format("{:.4g}", picked[i].score), {x + 2, y + kFace + 14}, 0.42);
      }
    }
    const fs::path file = out_dir / fmt::format("thumbnails_{}.png", method);
    io::write_image(file, sheet);
    written[method] = file;
  }
  return written;
}

}  // namespace amva::pipeline
