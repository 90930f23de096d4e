#include "amva/explain/explain_face.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "amva/explain/explanation_folder.hpp"
#include "amva/analysis/group_maps.hpp"
#include "amva/analysis/reference.hpp"
#include "amva/analysis/regions.hpp"
#include "amva/face/alignment.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/json_values.hpp"
#include "amva/io/npy.hpp"
#include "amva/version.hpp"
#include "amva/viz/overlay.hpp"
#include "amva/viz/text.hpp"

namespace amva::explain {
namespace fs = std::filesystem;
using analysis::FacePart;
using analysis::kFaceParts;
using analysis::Reference;
using analysis::Upsampler;
using analysis::face_part_labels;
using analysis::normalize_maps;
namespace {

constexpr int kPanel = 224;
// A region's mean |Z| must exceed the image's by this factor to be called where the deviation
// is concentrated.
constexpr double kConcentrated = 1.25;
// Below this probability of being open, the eye model is sure enough to say "closed or covered".
constexpr double kClosedEye = 0.2;
// A pose estimate whose bins spread this many degrees or more is a guess.
constexpr double kUncertainPoseSd = 15;

double percentile_of(const std::vector<double>& sorted, double v) {
  if (sorted.empty()) return std::nan("");
  return 100.0 * static_cast<double>(std::upper_bound(sorted.begin(), sorted.end(), v) - sorted.begin()) /
         static_cast<double>(sorted.size());
}

// A face or map panel with its title, and for a map its colour bar from min to max.
cv::Mat labelled(const cv::Mat& bgr, const std::string& title, const cv::Mat* values = nullptr,
                 viz::Colormap colormap = viz::Colormap::Jet) {
  constexpr int kTitle = 22, kBar = 10, kBarLabels = 18;
  cv::Mat big;
  cv::resize(bgr, big, cv::Size(kPanel, kPanel), 0, 0, cv::INTER_LINEAR);
  cv::Mat panel(kPanel + kTitle + kBar + kBarLabels, kPanel, CV_8UC3, cv::Scalar(255, 255, 255));
  big.copyTo(panel(cv::Rect(0, 0, kPanel, kPanel)));
  viz::put_text(panel, title, {4, kPanel + 16});
  if (values != nullptr) {
    double lo = 0, hi = 0;
    cv::minMaxLoc(*values, &lo, &hi);
    const cv::Rect bar(8, kPanel + kTitle, kPanel - 16, kBar);
    viz::colour_bar(bar.width, bar.height, colormap).copyTo(panel(bar));
    const int y = bar.y + kBar + 14;
    const std::string low = fmt::format("{:.2f}", lo), high = fmt::format("{:.2f}", hi);
    viz::put_text(panel, low, {bar.x, y});
    viz::put_text(panel, high, {bar.x + bar.width - viz::text_width(high), y});
  }
  return panel;
}

struct SheetMaps {
  const cv::Mat& am;
  const cv::Mat& mam;
  const cv::Mat& d;
  const cv::Mat& z;
  const cv::Mat& loss;
  cv::Point peak;  // of the loss
};

cv::Mat sheet(const cv::Mat& face, const SheetMaps& m, const std::string& line1, const std::string& line2,
              viz::Colormap colormap) {
  const cv::Mat absz = cv::abs(m.z);
  const auto heat = [&](const cv::Mat& map, const std::string& title) {
    return labelled(viz::overlay_heatmap(face, map, colormap), title, &map, colormap);
  };
  cv::Mat loss_face = viz::overlay_heatmap(face, m.loss, colormap);
  const double s = static_cast<double>(loss_face.cols) / m.loss.cols;
  cv::drawMarker(loss_face, cv::Point(static_cast<int>((m.peak.x + 0.5) * s), static_cast<int>((m.peak.y + 0.5) * s)),
                 cv::Scalar(255, 255, 255), cv::MARKER_CROSS, 14, 2, cv::LINE_AA);
  std::vector<cv::Mat> panels = {labelled(face, "aligned face"),
                                 heat(m.am, "map (AM)"),
                                 heat(m.mam, "reference MAM (high)"),
                                 heat(m.d, "D = |MAM - AM|"),
                                 heat(absz, "|Z|"),
                                 labelled(loss_face, "loss = MAM - AM (+: peak)", &m.loss, colormap)};
  panels[0].push_back(cv::Mat(panels[1].rows - panels[0].rows, kPanel, CV_8UC3, cv::Scalar(255, 255, 255)));
  cv::Mat row;
  cv::hconcat(panels, row);
  constexpr int kLine = 20, kMargin = 6;
  std::vector<std::pair<std::string, cv::Scalar>> lines;
  for (const auto& l : viz::wrap_text(line1, row.cols - 2 * kMargin)) lines.emplace_back(l, cv::Scalar(0, 0, 0));
  for (const auto& l : viz::wrap_text(line2, row.cols - 2 * kMargin)) lines.emplace_back(l, cv::Scalar(0, 0, 160));
  cv::Mat out(row.rows + kLine * static_cast<int>(lines.size()) + kMargin, row.cols, CV_8UC3,
              cv::Scalar(255, 255, 255));
  row.copyTo(out(cv::Rect(0, 0, row.cols, row.rows)));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    viz::put_text(out, lines[i].first, {kMargin, row.rows + kLine * static_cast<int>(i) + 14}, viz::kTextScale,
                  lines[i].second);
  }
  return out;
}

}  // namespace

void write_regions_legend(const fs::path& file) {
  static const cv::Scalar kColours[] = {{60, 180, 75}, {48, 130, 245},  {180, 30, 145},
                                        {40, 40, 230}, {200, 200, 200}, {90, 90, 90}};
  const auto& labels = face_part_labels();
  cv::Mat img(112, 112, CV_8UC3);
  for (int r = 0; r < 112; ++r) {
    for (int c = 0; c < 112; ++c) {
      const auto& s = kColours[labels.at<std::uint8_t>(r, c)];
      img.at<cv::Vec3b>(r, c) = cv::Vec3b(static_cast<uchar>(s[0]), static_cast<uchar>(s[1]), static_cast<uchar>(s[2]));
    }
  }
  cv::Mat big;
  cv::resize(img, big, cv::Size(kPanel, kPanel), 0, 0, cv::INTER_NEAREST);
  cv::Mat out(kPanel, kPanel + 170, CV_8UC3, cv::Scalar(255, 255, 255));
  big.copyTo(out(cv::Rect(0, 0, kPanel, kPanel)));
  for (std::size_t i = 0; i < kFaceParts.size(); ++i) {
    const int y = 24 + static_cast<int>(i) * 30;
    cv::rectangle(out, cv::Rect(kPanel + 10, y - 12, 16, 16), kColours[i], cv::FILLED);
    viz::put_text(out, to_string(kFaceParts[i]), {kPanel + 32, y + 2});
  }
  io::write_image(file, out);
}

namespace {

// The face landmark nearest to an aligned pixel (eyes, nose tip, mouth centre, the forehead
// above the eyes), or "elsewhere" farther than 0.6 inter-eye distances from all of them: a
// 7x7 map peaks at cell centres, which can fall just outside a region's pixels.
std::string nearest_landmark(cv::Point p) {
  const auto& t = face::arcface_template();
  const cv::Point2f eyes = (t[0] + t[1]) * 0.5f, mouth = (t[3] + t[4]) * 0.5f;
  const std::pair<const char*, cv::Point2f> marks[] = {{"left_eye", t[0]},
                                                       {"right_eye", t[1]},
                                                       {"nose", t[2]},
                                                       {"mouth", mouth},
                                                       {"forehead", eyes + (eyes - mouth) * 0.6f}};
  const double reach = 0.6 * cv::norm(t[1] - t[0]);
  std::string best = "elsewhere";
  double best_distance = reach;
  for (const auto& [name, at] : marks) {
    const double distance = cv::norm(cv::Point2f(static_cast<float>(p.x), static_cast<float>(p.y)) - at);
    if (distance <= best_distance) {
      best_distance = distance;
      best = name;
    }
  }
  return best;
}

std::string part_words(const std::string& part) {
  static const std::map<std::string, std::string> kWords = {{"left_eye", "the eye on the image's left"},
                                                            {"right_eye", "the eye on the image's right"},
                                                            {"nose", "the nose"},
                                                            {"mouth", "the mouth"},
                                                            {"rest_of_face", "the rest of the face"},
                                                            {"outside", "outside the central face"},
                                                            {"forehead", "the forehead"}};
  const auto it = kWords.find(part);
  return it == kWords.end() ? part : it->second;
}

// A pose angle worth naming, qualified by the model's spread over its bins.
void pose_hint(double v, double sd, const char* angle, double at_least, std::vector<std::string>& causes) {
  if (std::abs(v) < at_least) return;
  causes.push_back(
      sd < kUncertainPoseSd
          ? fmt::format("{} {:.0f} degrees (pose model, spread {:.0f})", angle, v, sd)
          : fmt::format("possibly {} {:.0f} degrees (an unsure pose estimate, spread {:.0f})", angle, v, sd));
}

// What the eye-state model says, in words no stronger than its probability: a covered eye
// scores as closed, so "closed" is never claimed alone.
void eye_hint(double open, const char* which, std::vector<std::string>& causes) {
  if (open < kClosedEye) {
    causes.push_back(
        fmt::format("the eye on the image's {} looks closed or covered (eye model: {:.0f} % open)", which, 100 * open));
  } else if (open < 0.5) {
    causes.push_back(fmt::format("the eye on the image's {} may be closed or covered (eye model unsure: {:.0f} % open)",
                                 which, 100 * open));
  }
}

// Where the deviation of a deviating face lies: first where the face gives less (it localises
// covered parts best, bench/occlusion_hits.py), then where |Z| concentrates, named only where
// a region's mean |Z| stands out from the image's.
void location_hints(const ExplanationFacts& x, std::vector<std::string>& causes) {
  if (const auto& l = x.largest_loss) {
    causes.push_back(
        l->near == "elsewhere"
            ? fmt::format("the largest loss of activation against the reference is at ({}, {}), "
                          "away from the eyes, nose and mouth",
                          l->x, l->y)
            : fmt::format("the largest loss of activation against the reference is at {}", part_words(l->near)));
  }
  // By name, so that a tie goes to the same region as it always has.
  std::vector<const RegionDeviation*> by_name;
  for (const auto& r : x.regions) by_name.push_back(&r);
  std::stable_sort(by_name.begin(), by_name.end(),
                   [](const auto* a, const auto* b) { return to_string(a->part) < to_string(b->part); });
  std::string top;
  double top_z = -1;
  double outside_pixels = 0;
  for (const auto* r : by_name) {
    if (r->mean_abs_z > top_z) {
      top_z = r->mean_abs_z;
      top = to_string(r->part);
    }
    if (r->part == FacePart::Outside) outside_pixels = r->pixels;
  }
  const double ratio = x.deviation > 0 ? top_z / x.deviation : 0.0;
  if (ratio < kConcentrated) {
    causes.push_back(
        fmt::format("deviation spread over the image ({:.0f} % of it outside the central face, which "
                    "is {:.0f} % of the pixels)",
                    100 * x.share_outside, 100 * outside_pixels / (112.0 * 112.0)));
  } else if (top == "outside") {
    causes.push_back(
        fmt::format("deviation concentrated outside the central face ({:.0f} % of it, mean |Z| {:.1f}x "
                    "the image's)",
                    100 * x.share_outside, ratio));
  } else {
    causes.push_back(
        fmt::format("deviation concentrated on {} (mean |Z| {:.1f}x the image's)", part_words(top), ratio));
  }
}

}  // namespace

std::string likely_causes(const ExplanationFacts& x) {
  std::vector<std::string> causes;
  const bool ranked = std::isfinite(x.percentile_high);
  // A typical face's largest region is noise: where the deviation lies is said only of a face
  // that deviates.
  if (!(ranked && x.percentile_high <= 50)) location_hints(x, causes);
  if (const auto& p = x.pose) {
    pose_hint(p->yaw, p->yaw_sd, "yaw", 20, causes);
    pose_hint(p->pitch, p->pitch_sd, "pitch", 20, causes);
    pose_hint(p->roll, p->roll_sd, "roll", 15, causes);
  }
  if (const auto& e = x.eyes) {
    eye_hint(e->image_left, "left", causes);
    eye_hint(e->image_right, "right", causes);
  }
  if (ranked) {
    const double v = x.percentile_high;
    if (v >= 100) {
      causes.push_back("deviates more than every high-quality reference face");
    } else if (v > 50) {
      causes.push_back(fmt::format("deviates more than {:.0f} % of the high-quality reference faces", v));
    } else {
      causes.push_back("as close to the reference as a typical high-quality face");
    }
  }
  std::string line;
  for (const auto& c : causes) line += (line.empty() ? "" : "; ") + c;
  return line;
}

namespace {

// The region breakdown, the largest loss and the deviation with its rank among the
// reference's high group.
ExplanationFacts facts_of(const FaceToExplain& f, const Reference& ref, const cv::Mat& d, const cv::Mat& absz,
                          const cv::Mat& loss) {
  const auto& parts = face_part_labels();
  const double total_z = cv::sum(absz)[0];
  ExplanationFacts facts;
  for (const auto part : kFaceParts) {
    const cv::Mat mask = parts == static_cast<int>(part);
    const int pixels = cv::countNonZero(mask);
    facts.regions.push_back({part, pixels, cv::mean(absz, mask)[0], cv::mean(d, mask)[0], cv::mean(loss, mask)[0],
                             cv::mean(absz, mask)[0] * pixels / total_z});
    if (part == FacePart::Outside) facts.share_outside = facts.regions.back().share_of_abs_z;
  }
  cv::Point peak;
  double peak_loss = 0;
  cv::minMaxLoc(loss, nullptr, &peak_loss, nullptr, &peak);
  facts.largest_loss = LargestLoss{peak.x, peak.y, peak_loss, static_cast<FacePart>(parts.at<std::uint8_t>(peak)),
                                   nearest_landmark(peak)};
  facts.deviation = cv::mean(absz)[0];
  facts.percentile_high = percentile_of(ref.high_deviations, facts.deviation);
  facts.pose = f.pose;
  facts.eyes = f.eyes;
  return facts;
}

// explain.json.
nlohmann::json explanation_json(const FaceToExplain& f, const Reference& ref, const ExplainedImage& x,
                                const ExplanationFacts& facts) {
  nlohmann::json j = {{"image", x.path},
                      {"amva_version", version()},
                      {"reference", f.reference},
                      {"fiqa_method", ref.json.value("fiqa_method", "")},
                      {"cam", ref.cam},
                      {"normalization", to_string(ref.normalization)},
                      {"eps", ref.eps},
                      {"definitions",
                       {{"d", "|MAM_high - AM|"},
                        {"z", "(AM - MAM_high) / (AM-V_high + eps)"},
                        {"loss", "MAM_high - AM: where the face gives the model less than high-quality faces do"},
                        {"deviation", "mean |Z| over the 112x112 pixels"}}},
                      {"map",
                       {{"cam", ref.cam},
                        {"native_resolution", {f.map_height, f.map_width}},
                        {"upsampled_to", {112, 112}},
                        {"normalization", to_string(ref.normalization)}}}};
  nlohmann::json regions = nlohmann::json::object();
  for (const auto& r : facts.regions) {
    regions[to_string(r.part)] = {{"pixels", r.pixels},
                                  {"mean_abs_z", r.mean_abs_z},
                                  {"mean_d", r.mean_d},
                                  {"mean_loss", r.mean_loss},
                                  {"share_of_abs_z", r.share_of_abs_z}};
  }
  j["regions"] = regions;
  const auto& l = *facts.largest_loss;
  j["largest_loss"] = {{"x", l.x}, {"y", l.y}, {"value", l.value}, {"part", to_string(l.part)}, {"near", l.near}};
  j["share_outside_central_face"] = x.share_outside;
  j["deviation"] = x.deviation;
  j["deviation_percentile_high"] = io::json_number(x.percentile_high);
  j["deviation_percentile_all"] = io::json_number(x.percentile_all);
  j["fiqa"] = nlohmann::json::object();
  for (const auto& [name, v] : f.fiqa) j["fiqa"][name] = io::json_number(v);
  if (f.pose) {
    j["pose"] = {{"yaw", f.pose->yaw},
                 {"pitch", f.pose->pitch},
                 {"roll", f.pose->roll},
                 {"yaw_sd", f.pose->yaw_sd},
                 {"pitch_sd", f.pose->pitch_sd},
                 {"roll_sd", f.pose->roll_sd},
                 {"convention", "degrees; yaw > 0: nose to the image's left; roll > 0: clockwise; pitch > 0: chin up"}};
  }
  if (f.eyes) j["eyes"] = {{"image_left_open", f.eyes->image_left}, {"image_right_open", f.eyes->image_right}};
  j["causes"] = x.causes;
  return j;
}

}  // namespace

ExplainedImage explain_face(const FaceToExplain& f, const Reference& ref, const fs::path& dir, viz::Colormap colormap) {
  const Upsampler up(f.map_height, f.map_width);
  std::vector<float> native(f.map, f.map + static_cast<std::ptrdiff_t>(f.map_height) * f.map_width);
  normalize_maps(native.data(), 1, ref.normalization, up);
  cv::Mat am32(112, 112, CV_32F);
  up.apply(native.data(), am32.ptr<float>());
  cv::Mat am;
  am32.convertTo(am, CV_64F);
  const cv::Mat d = cv::abs(ref.mam - am);
  const cv::Mat z = (am - ref.mam) / (ref.amv + ref.eps);
  // Where the face gives the model less than high-quality faces do: a covered or turned-away
  // part loses the activation it usually holds (bench/occlusion_hits.py measures this).
  const cv::Mat loss = ref.mam - am;

  const ImageExplanationFiles files{dir};
  fs::create_directories(dir);
  for (const auto& [stem, m] :
       {std::pair<const char*, const cv::Mat*>{"am", &am}, {"d", &d}, {"z", &z}, {"loss", &loss}}) {
    cv::Mat m32;
    m->convertTo(m32, CV_32F);
    io::write_npy(files.map(stem), {112, 112}, m32.ptr<float>());
  }

  const auto facts = facts_of(f, ref, d, cv::abs(z), loss);
  ExplainedImage x;
  x.path = f.image;
  x.folder = dir.filename().string();
  x.deviation = facts.deviation;
  x.share_outside = facts.share_outside;
  x.percentile_high = facts.percentile_high;
  x.percentile_all = percentile_of(ref.all_deviations, x.deviation);
  x.causes = likely_causes(facts);
  x.json = explanation_json(f, ref, x, facts);
  io::write_text_atomically(files.explanation(), io::json_text(x.json, 2) + "\n");
  const auto& peak = *facts.largest_loss;
  io::write_image(files.sheet(),
              sheet(f.aligned, {am, ref.mam, d, z, loss, cv::Point(peak.x, peak.y)},
                    fmt::format("{}: deviation {:.3f} (percentile {:.0f} among high, {:.0f} among all); {} maps "
                                "{}x{}, upsampled to 112x112",
                                fs::path(f.image).filename().string(), x.deviation, x.percentile_high, x.percentile_all,
                                ref.cam, f.map_height, f.map_width),
                    x.causes, colormap));
  x.ok = true;
  return x;
}

void write_ranking(const fs::path& file, const std::vector<ExplainedImage>& images) {
  std::vector<const ExplainedImage*> ranked;
  for (const auto& x : images) ranked.push_back(&x);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto* a, const auto* b) { return a->ok != b->ok ? a->ok : a->deviation > b->deviation; });
  std::string csv = io::csv_line({"rank", "image", "folder", "deviation", "percentile_high", "percentile_all",
                                  "share_outside", "causes", "error"}) +
                    "\n";
  int rank = 0;
  for (const auto* x : ranked) {
    csv += io::csv_line({std::to_string(++rank), x->path, x->folder, x->ok ? fmt::format("{:.6g}", x->deviation) : "",
                         x->ok ? fmt::format("{:.1f}", x->percentile_high) : "",
                         x->ok ? fmt::format("{:.1f}", x->percentile_all) : "",
                         x->ok ? fmt::format("{:.4f}", x->share_outside) : "", x->causes, x->error}) +
           "\n";
  }
  io::write_text_atomically(file, csv);
}

}  // namespace amva::explain
