#include "amva/report/faithfulness_section.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "amva/report/html_report.hpp"

namespace amva::report {
namespace {

std::string area_text(double v) {
  return std::isfinite(v) ? fmt::format("{:.3f}", v) : "n/a";
}

std::string interval_text(const cam::Interval& i) {
  if (!std::isfinite(i.lo)) return area_text(i.mean);
  return fmt::format("{} [{}, {}]", area_text(i.mean), area_text(i.lo), area_text(i.hi));
}

// A fixed palette for up to eight CAM methods; the controls are grey.
std::string order_colour(const cam::FaithfulnessResult& s, const std::string& order) {
  static const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                  "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
  const auto it = std::find(s.cams.begin(), s.cams.end(), order);
  if (it == s.cams.end()) return order == cam::kRandomOrder ? "#999999" : "#444444";
  return palette[static_cast<std::size_t>(it - s.cams.begin()) % 8];
}

// The method's verdicts against `control` under each fill.
std::string versus_words(const cam::FaithfulnessResult& s, const std::string& cam, const std::string& control) {
  std::vector<std::string> words;
  for (const auto& fill : s.fills) words.push_back(s.versus(cam, control, fill));
  return fmt::format("{}", fmt::join(words, " / "));
}

}  // namespace

std::vector<std::string> faithfulness_lines(const cam::FaithfulnessResult& s) {
  std::vector<std::string> lines;
  const auto& fills = s.fills;
  for (const auto& cam : s.cams) {
    std::vector<std::string> del, ins;
    for (const auto& fill : fills) {
      const auto& score = s.score(cam, fill);
      del.push_back(interval_text(score.deletion));
      ins.push_back(interval_text(score.insertion));
    }
    lines.push_back(fmt::format("{}: deletion {}, insertion {} ({}); against the centre prior {}, against random {}",
                                cam, fmt::join(del, " / "), fmt::join(ins, " / "), fmt::join(fills, " / "),
                                versus_words(s, cam, cam::kCentreOrder), versus_words(s, cam, cam::kRandomOrder)));
  }
  for (const std::string control : {cam::kRandomOrder, cam::kCentreOrder}) {
    std::vector<std::string> del, ins;
    for (const auto& fill : fills) {
      const auto& score = s.score(control, fill);
      del.push_back(interval_text(score.deletion));
      ins.push_back(interval_text(score.insertion));
    }
    lines.push_back(
        fmt::format("{} (control): deletion {}, insertion {}", control, fmt::join(del, " / "), fmt::join(ins, " / ")));
  }
  std::vector<std::string> rankings;
  for (const auto& fill : fills) {
    rankings.push_back(fmt::format("{}: {}", fill, fmt::join(s.ranking(fill), " > ")));
  }
  std::string agreement = "the fills agree";
  if (const auto ranked = s.ranking_agreement(); !ranked.agrees) {
    std::vector<std::string> pairs;
    for (const auto& [x, y] : ranked.swapped) pairs.push_back(fmt::format("{} and {}", x, y));
    agreement =
        fmt::format("the fills order all but {} of the pairs of methods alike (Kendall tau {:.2f}; swapped: {})",
                    pairs.size(), ranked.kendall_tau, fmt::join(pairs, ", "));
  }
  lines.push_back(fmt::format("ranking by insertion - deletion ({}); {}", fmt::join(rankings, "; "), agreement));
  return lines;
}

std::string faithfulness_curves_svg(const cam::FaithfulnessResult& s) {
  constexpr double kPanelW = 300, kPanelH = 190, kLeft = 46, kTop = 46, kGap = 34, kLegend = 130;
  const auto& fills = s.fills;
  const auto& orders = s.orders;
  const double width = kLeft + 2 * (kPanelW + kGap) + kLegend;
  const double height = kTop + static_cast<double>(fills.size()) * (kPanelH + kGap + 14) + 10;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"faithfulness\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      width, height);
  for (std::size_t f = 0; f < fills.size(); ++f) {
    for (std::size_t g = 0; g < std::size(cam::kGames); ++g) {
      const double x0 = kLeft + static_cast<double>(g) * (kPanelW + kGap);
      const double y0 = kTop + static_cast<double>(f) * (kPanelH + kGap + 14);
      const auto x_of = [&](double t) { return x0 + t * kPanelW; };
      const auto y_of = [&](double v) { return y0 + (1 - std::clamp(v, -0.2, 1.0)) / 1.2 * kPanelH; };
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-weight=\"bold\">{} ({} fill)</text>\n", x0, y0 - 8,
                         cam::kGames[g], html_escape(fills[f]));
      svg += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" "
          "stroke=\"#888\"/>\n",
          x0, y0, kPanelW, kPanelH);
      for (const double v : {0.0, 0.5, 1.0}) {
        svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}</text>\n", x0 - 4, y_of(v) + 4, v);
        svg += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eee\"/>\n", x0,
                           x0 + kPanelW, y_of(v), y_of(v));
      }
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">share of pixels {}</text>\n",
                         x0 + kPanelW / 2, y0 + kPanelH + 14, g == 0 ? "removed" : "inserted");
      for (const auto& order : orders) {
        const auto& score = s.score(order, fills[f]);
        const auto& curve = g == 0 ? score.deletion_curve : score.insertion_curve;
        std::string points;
        for (std::size_t k = 0; k < curve.size(); ++k) {
          points += fmt::format("{:.1f},{:.1f} ", x_of(static_cast<double>(k) / static_cast<double>(curve.size() - 1)),
                                y_of(curve[k]));
        }
        const bool control = s.is_control(order);
        svg += fmt::format(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\"{}><title>{}: "
            "area {}</title></polyline>\n",
            points, order_colour(s, order), control ? " stroke-dasharray=\"5,3\"" : "", html_escape(order),
            area_text((g == 0 ? score.deletion : score.insertion).mean));
      }
    }
  }
  const double lx = kLeft + 2 * (kPanelW + kGap);
  for (std::size_t o = 0; o < orders.size(); ++o) {
    const double y = kTop + 10 + static_cast<double>(o) * 16;
    const bool control = s.is_control(orders[o]);
    svg += fmt::format(
        "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
        "stroke-width=\"2\"{}/><text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
        lx, lx + 22, y, y, order_colour(s, orders[o]), control ? " stroke-dasharray=\"5,3\"" : "", lx + 27, y + 4,
        html_escape(orders[o]) + (control ? " (control)" : ""));
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"14\">cosine with the clean face's embedding</text>\n", kLeft);
  return svg + "</svg>\n";
}

std::string faithfulness_finding(const cam::FaithfulnessResult& s) {
  std::vector<std::string> parts;
  for (const auto& cam : s.cams) {
    parts.push_back(fmt::format("{} {}", cam, versus_words(s, cam, cam::kCentreOrder)));
  }
  return fmt::format("faithfulness on {} faces, against the centre prior ({} fill): {}", s.faces,
                     fmt::join(s.fills, " / "), fmt::join(parts, "; "));
}

std::string faithfulness_brief(const cam::FaithfulnessResult& s, const std::string& cam) {
  if (s.is_control(cam)) return {};
  std::vector<std::string> del, ins;
  for (const auto& fill : s.fills) {
    const auto& score = s.score(cam, fill);
    del.push_back(area_text(score.deletion.mean));
    ins.push_back(area_text(score.insertion.mean));
  }
  return fmt::format("deletion {}, insertion {}; against the centre prior {}", fmt::join(del, " / "),
                     fmt::join(ins, " / "), versus_words(s, cam, cam::kCentreOrder));
}

std::string faithfulness_section(const std::optional<cam::FaithfulnessResult>& result) {
  if (!result) {
    return "<p>Not measured in this study. <code>amva run --faithfulness</code> or <code>amva faithfulness --store "
           "STORE --out DIR</code> plays the deletion and insertion games for every CAM method on a sample of the "
           "faces (it costs forward passes: see docs).</p>\n";
  }
  const auto& s = *result;
  const auto& fills = s.fills;
  std::string html = fmt::format(
      "<p>Which maps reflect what the FR model uses: each CAM method's map (before its ReLU) ranks the pixels of "
      "{} faces{}; they are removed (deletion: a faithful map makes the cosine with the clean face's embedding "
      "fall fast, a low area) or inserted into the filled face (insertion: a high area), in steps of 1/{} of the "
      "face, under two fills ({}). Two controls play the same games: a random order and a centre prior (pixels "
      "nearest the face's centre first). Intervals: {} % percentile bootstrap, {} as units. Cost: {} forward "
      "passes per face ({} per order and fill), {:.0f} s.</p>\n",
      s.faces, s.identities > 0 ? fmt::format(" of {} people", s.identities) : "", s.steps, fmt::join(fills, " and "),
      std::lround(100 * s.confidence), s.bootstrap_unit == "identity" ? "people" : "images", s.forwards_per_face,
      s.forwards_per_face_and_order() / std::max<std::size_t>(1, fills.size()), s.seconds);
  html += "<ul class=\"lines\">\n";
  for (const auto& line : faithfulness_lines(s)) html += "<li>" + html_escape(line) + "</li>\n";
  html += "</ul>\n<figure>" + faithfulness_curves_svg(s) +
          "<figcaption>Mean curves over the faces; the controls dashed.</figcaption></figure>\n";
  html += "<table class=\"sortable\"><thead><tr><th class=l>order</th>";
  for (const auto& fill : fills) {
    html += fmt::format(
        "<th>deletion ({0})</th><th>insertion ({0})</th><th>vs centre ({0})</th><th>vs random "
        "({0})</th>",
        html_escape(fill));
  }
  html += "</tr></thead><tbody>\n";
  for (const auto& order : s.orders) {
    const bool control = s.is_control(order);
    html += "<tr><td class=l>" + html_escape(order) + (control ? " (control)" : "") + "</td>";
    for (const auto& fill : fills) {
      const auto& score = s.score(order, fill);
      html += "<td>" + interval_text(score.deletion) + "</td><td>" + interval_text(score.insertion) + "</td>";
      if (control) {
        html += "<td></td><td></td>";
      } else {
        html += "<td>" + html_escape(s.versus(order, cam::kCentreOrder, fill)) + "</td><td>" +
                html_escape(s.versus(order, cam::kRandomOrder, fill)) + "</td>";
      }
    }
    html += "</tr>\n";
  }
  return html + "</tbody></table>\n";
}

}  // namespace amva::report
