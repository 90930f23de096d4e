#include "robustness_section.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "amva/report/faithfulness_section.hpp"
#include "amva/report/html_report.hpp"
#include "html_text.hpp"

namespace amva::report {
namespace {

using analysis::Specification;

std::string colour_of(const std::string& verdict) {
  if (verdict == "reproduced") return "#1a7f37";
  if (verdict == "reversed") return "#b42318";
  if (verdict == "inconclusive") return "#9a6700";
  if (verdict == "negligible") return "#57606a";
  return "#aaaaaa";
}

std::string number(double v, int digits = 3) {
  return num(v, digits);
}

// The rows of the choice matrix: every value of every dimension, in the grid's order.
struct ChoiceRow {
  std::string dimension, value;
  bool (*matches)(const Specification&, const std::string&);
};

std::vector<ChoiceRow> choice_rows(const analysis::RobustnessGrid& g) {
  std::vector<ChoiceRow> rows;
  for (const auto& c : g.cams) {
    rows.push_back({"CAM", c, [](const Specification& s, const std::string& v) { return s.cam == v; }});
  }
  for (const auto n : g.normalizations) {
    rows.push_back({"normalisation", analysis::to_string(n), [](const Specification& s, const std::string& v) {
                      return analysis::to_string(s.normalization) == v;
                    }});
  }
  for (const double k : g.group_percents) {
    rows.push_back({"group", fmt::format("top:{:g}", k), [](const Specification& s, const std::string& v) {
                      return fmt::format("top:{:g}", s.group_percent) == v;
                    }});
  }
  for (const double m : g.margins) {
    rows.push_back({"margin", analysis::margin_label(m), [](const Specification& s, const std::string& v) {
                      return analysis::margin_label(s.margin) == v;
                    }});
  }
  return rows;
}

}  // namespace

std::string specification_curve_svg(const analysis::Robustness& r, const std::string& method, double smallest_effect) {
  std::vector<const Specification*> specs;
  for (const auto& s : r.specifications) {
    if (s.method == method) specs.push_back(&s);
  }
  // Sorted by effect; undefined effects (groups too small) last.
  std::stable_sort(specs.begin(), specs.end(), [](const Specification* a, const Specification* b) {
    const double x = a->log_ratio.value, y = b->log_ratio.value;
    if (std::isfinite(x) != std::isfinite(y)) return std::isfinite(x);
    return std::isfinite(x) && x < y;
  });
  // The scale follows the effects; intervals reach at most half that span beyond them (a group
  // of a few faces can have an interval twenty times wider) and are cut at the edge.
  double lo = -smallest_effect, hi = smallest_effect;
  for (const auto* s : specs) {
    if (std::isfinite(s->log_ratio.value)) {
      lo = std::min(lo, s->log_ratio.value);
      hi = std::max(hi, s->log_ratio.value);
    }
  }
  const double reach = 0.5 * (hi - lo);
  double ilo = lo, ihi = hi;
  for (const auto* s : specs) {
    if (std::isfinite(s->log_ratio.lo)) ilo = std::min(ilo, std::max(s->log_ratio.lo, lo - reach));
    if (std::isfinite(s->log_ratio.hi)) ihi = std::max(ihi, std::min(s->log_ratio.hi, hi + reach));
  }
  const double pad = 0.05 * (ihi - ilo);
  lo = ilo - pad;
  hi = ihi + pad;
  const auto rows = choice_rows(r.grid);
  constexpr double kLeft = 190, kRight = 10, kTop = 10, kCurve = 170, kGap = 16, kRow = 11;
  const double width = 760;
  const double plot = width - kLeft - kRight;
  const double step = specs.empty() ? 0 : plot / static_cast<double>(specs.size());
  const double height = kTop + kCurve + kGap + kRow * static_cast<double>(rows.size()) + 6;
  const auto x_of = [&](std::size_t i) { return kLeft + step * (static_cast<double>(i) + 0.5); };
  const auto y_of = [&](double v) { return kTop + kCurve * (hi - std::clamp(v, lo, hi)) / (hi - lo); };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"speccurve\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\" aria-label=\"specification curve of {}\" "
      "font-family=\"sans-serif\" font-size=\"10\">\n",
      width, height, width, height, html_escape(method));
  // Axes: zero, the smallest effect either way, and the effect's scale.
  svg += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#444\"/>\n", kLeft,
                     width - kRight, y_of(0), y_of(0));
  for (const double e : {-smallest_effect, smallest_effect}) {
    svg += fmt::format(
        "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\n",
        kLeft, width - kRight, y_of(e), y_of(e));
  }
  for (const double v : {ilo, 0.0, ihi}) {
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 4, y_of(v) + 3,
                       number(v, 2));
  }
  svg +=
      fmt::format("<text x=\"4\" y=\"{:.1f}\">log(outside AM-V</text><text x=\"4\" y=\"{:.1f}\">low / high)</text>\n",
                  kTop + kCurve / 2 - 6, kTop + kCurve / 2 + 6);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto& s = *specs[i];
    const auto colour = colour_of(s.verdict);
    if (std::isfinite(s.log_ratio.lo) && std::isfinite(s.log_ratio.hi)) {
      svg += fmt::format(
          "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\" "
          "stroke-opacity=\"0.45\"/>\n",
          x_of(i), y_of(s.log_ratio.lo), y_of(s.log_ratio.hi), colour);
    }
    if (std::isfinite(s.log_ratio.value)) {
      svg += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.2\" fill=\"{}\"><title>{} {} {} {}: {} [{}, {}], p {} -> "
          "{}</title></circle>\n",
          x_of(i), y_of(s.log_ratio.value), colour, html_escape(s.cam), analysis::to_string(s.normalization),
          fmt::format("top:{:g}", s.group_percent), analysis::margin_label(s.margin), number(s.log_ratio.value),
          number(s.log_ratio.lo), number(s.log_ratio.hi), number(s.p_family), html_escape(s.verdict));
    }
  }
  // The choice matrix: a mark where the specification above took the row's value.
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const double y = kTop + kCurve + kGap + kRow * (static_cast<double>(k) + 0.5);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}: {}</text>\n", kLeft - 4, y + 3,
                       rows[k].dimension, html_escape(rows[k].value));
    if (k % 2 == 0) {
      svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#f3f3f3\"/>\n",
                         kLeft, y - kRow / 2, plot, kRow);
    }
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (!rows[k].matches(*specs[i], rows[k].value)) continue;
      svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"6\" fill=\"{}\"/>\n",
                         x_of(i) - std::max(step * 0.35, 0.5), y - 3, std::max(step * 0.7, 1.0),
                         colour_of(specs[i]->verdict));
    }
  }
  return svg + "</svg>\n";
}

// Per CAM method of the grid: how many specifications reproduce, beside how faithful its maps
// are (issue 33), so that a verdict that holds only with unfaithful maps shows as such.
std::string cam_table(const analysis::Robustness& r, const std::optional<cam::FaithfulnessResult>& faithfulness) {
  std::string html =
      "<table><tr><th class=l>CAM method</th><th>reproduced</th><th>specifications</th><th class=l>faithfulness of "
      "its maps (blur / road fill)</th></tr>\n";
  for (const auto& cam : r.grid.cams) {
    std::size_t total = 0, reproduced = 0;
    for (const auto& s : r.specifications) {
      if (s.cam != cam) continue;
      ++total;
      if (s.verdict == "reproduced") ++reproduced;
    }
    std::string faithful = "not measured (amva faithfulness, or amva run --faithfulness)";
    if (faithfulness) {
      const auto brief = faithfulness_brief(*faithfulness, cam);
      faithful = brief.empty() ? "not judged in this study's faithfulness run" : brief;
    }
    html += fmt::format("<tr><td class=l>{}</td><td>{}</td><td>{}</td><td class=l>{}</td></tr>\n", html_escape(cam),
                        reproduced, total, html_escape(faithful));
  }
  return html + "</table>\n";
}

std::string robustness_section(const analysis::AnalysisResult& a,
                               const std::optional<cam::FaithfulnessResult>& faithfulness) {
  if (!a.robustness) {
    return "<p>Not computed. With <code>--robustness</code>, <code>amva run</code> and <code>amva analyze</code> "
           "recompute every method's verdict over the analyst's choices (CAM method, normalisation, group size, "
           "central face margin) and show here how often, and on which choice, it holds.</p>\n";
  }
  const auto& r = *a.robustness;
  std::vector<std::string> norms;
  for (const auto n : r.grid.normalizations) norms.push_back(analysis::to_string(n));
  std::vector<std::string> groups, margins;
  for (const double k : r.grid.group_percents) groups.push_back(fmt::format("top:{:g}", k));
  for (const double m : r.grid.margins) margins.push_back(analysis::margin_label(m));
  std::string html = fmt::format(
      "<p>A verdict from one configuration is one of many an analyst could report. Every method's outside verdict "
      "is recomputed here for each combination of: CAM method ({}), normalisation ({}), group size ({}) and margin "
      "of the central face region ({}; d is the inter-eye distance, the analysis uses 0.25 d): {} specifications "
      "per method. The effect is log(mean outside AM-V of the low group / of the high group), comparable across "
      "normalisations; each specification is tested and judged as the analysis judges its own (bootstrap "
      "interval, block permutation p, Holm across the methods, the same verdict words). Cost: {:.1f} s.</p>\n",
      html_escape(fmt::format("{}", fmt::join(r.grid.cams, ", "))), fmt::join(norms, ", "), fmt::join(groups, ", "),
      fmt::join(margins, ", "), r.methods.empty() ? 0 : r.methods.front().specifications, r.seconds);
  html +=
      "<table><tr><th class=l>method</th><th>reproduced</th><th>specifications</th><th class=l>the verdict turns "
      "on</th><th>joint test: beyond threshold</th><th>under null scores (mean, 95th percentile)</th><th>joint "
      "p</th><th class=l>in one line</th></tr>\n";
  for (const auto& m : r.methods) {
    const auto& j = m.joint;
    html += fmt::format(
        "<tr><td class=l>{}</td><td>{}</td><td>{}</td><td class=l>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td class=l>{}</td></tr>\n",
        html_escape(m.method), m.reproduced, m.specifications,
        m.turns_on ? html_escape(m.turns_on->dimension) : std::string("nothing: one verdict"),
        j ? std::to_string(j->observed) : "n/a", j ? fmt::format("{:.1f}, {:g}", j->null_mean, j->null_95) : "n/a",
        j ? fmt::format("{:.3g}", j->p) : "n/a", html_escape(m.sentence));
  }
  html += "</table>\n" + cam_table(r, faithfulness);
  if (!r.methods.empty() && r.methods.front().joint) {
    html += fmt::format(
        "<p>Joint test (a long curve must not manufacture a finding): the count of specifications whose outside "
        "difference is positive and reaches its own permutation threshold at alpha / methods, against the same "
        "count over {} draws of null scores that cluster by person as the method's do, every specification's "
        "threshold kept from the real curve (an approximation that makes the draws affordable). Cost: {:.1f} s.</p>\n",
        r.methods.front().joint->draws, r.joint_seconds);
  }
  for (const auto& m : r.methods) {
    html += fmt::format(
        "<figure>{}<figcaption>{}: each specification's effect with its interval, sorted, coloured by verdict "
        "(<span class=reproduced>reproduced</span>, <span class=reversed>reversed</span>, "
        "<span class=inconclusive>inconclusive</span>, <span class=negligible>negligible</span>); dashed: the "
        "smallest effect ({:g}). Beneath, the choices that made each one.</figcaption></figure>\n",
        specification_curve_svg(r, m.method, a.smallest_effect), html_escape(m.method), a.smallest_effect);
  }
  html += fmt::format(
      "<details><summary>Every specification ({} rows; also in analysis/robustness.csv)</summary>\n<table "
      "class=sortable><tr><th class=l>method</th><th class=l>CAM</th><th class=l>normalisation</th><th "
      "class=l>group</th><th>margin</th><th>low</th><th>high</th><th>effect [interval]</th><th>p (Holm)</th><th "
      "class=l>verdict</th></tr>\n",
      r.specifications.size());
  for (const auto& s : r.specifications) {
    html += fmt::format(
        "<tr><td class=l>{}</td><td class=l>{}</td><td class=l>{}</td><td class=l>top:{:g}</td><td>{:g}</td>"
        "<td>{}</td><td>{}</td><td>{} <small>[{}, {}]</small></td><td>{}</td><td class=l><span class=\"{}\">{}</span>"
        "</td></tr>\n",
        html_escape(s.method), html_escape(s.cam), analysis::to_string(s.normalization), s.group_percent, s.margin,
        s.low, s.high, number(s.log_ratio.value), number(s.log_ratio.lo), number(s.log_ratio.hi), number(s.p_family),
        verdict_class(s.verdict), html_escape(s.verdict));
  }
  return html + "</table></details>\n";
}

}  // namespace amva::report
