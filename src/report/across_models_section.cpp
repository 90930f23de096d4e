#include "across_models_section.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "amva/report/html_report.hpp"
#include "amva/viz/figures.hpp"
#include "html_text.hpp"

namespace amva::report {
namespace {

// Rows: FIQA methods (a model-dependent one once, "method@model" in each model's column);
// columns: models.
std::string verdict_table(const AcrossModels& a) {
  std::string html = "<table class=\"sortable\"><tr><th class=l>FIQA method</th>";
  for (const auto& m : a.models) html += fmt::format("<th class=l>{}</th>", html_escape(m.key));
  html += "</tr>\n";
  for (const auto& method : a.methods()) {
    html += fmt::format("<tr><td class=l>{}{}</td>", html_escape(method),
                        a.scored_per_model(method) ? "@<i>model</i> <small>(scored by each model)</small>" : "");
    for (const auto& m : a.models) {
      const ModelVerdict* found = a.verdict(method, m.key);
      html += found ? fmt::format("<td class=l>{}<br>{} <small>p {}</small></td>", verdict_span(found->finding),
                                  with_ci(found->outside_amv_low_minus_high), num(found->p, 3))
                    : "<td class=l>n/a</td>";
    }
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

std::string agreement_table(const AcrossModels& a) {
  std::string html =
      "<table class=\"sortable\"><tr><th class=l>models</th><th>faces</th><th>mean r</th><th>10 %</th><th>median</th>"
      "<th>90 %</th><th>r of the mean maps</th></tr>\n";
  for (const auto& g : a.agreement) {
    html += fmt::format(
        "<tr><td class=l>{} / {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "</tr>\n",
        html_escape(g.a), html_escape(g.b), g.faces, num(g.mean, 3), num(g.q10, 3), num(g.median, 3), num(g.q90, 3),
        num(g.mean_map_r, 3));
  }
  return html + "</table>\n";
}

// Rows: the scores (method or method@model that scored it); columns: the model judged on.
std::string cross_edc_table(const AcrossModels& a) {
  std::string html = fmt::format("<table class=\"sortable\"><tr><th class=l>FIQA scores</th>");
  for (const auto& m : a.models) html += fmt::format("<th>on {}</th>", html_escape(m.key));
  html += "</tr>\n";
  for (const auto& scores : a.edc_scores()) {
    html += fmt::format("<tr><td class=l>{}</td>", html_escape(scores));
    for (const auto& m : a.models) {
      const CrossEdcCell* found = a.edc_cell(scores, m.key);
      html += found ? fmt::format("<td>{}</td>", with_ci(found->fnm, 5)) : "<td>n/a</td>";
    }
    html += "</tr>\n";
  }
  html += "<tr><td class=l>random order</td>";
  for (const auto& m : a.models) {
    double random = std::numeric_limits<double>::quiet_NaN();
    for (const auto& c : a.cross_edc) {
      if (c.judged_on == m.key) random = c.random;
    }
    html += fmt::format("<td>{}</td>", num(random, 5));
  }
  return html + "</tr>\n</table>\n";
}

}  // namespace

std::string across_models_section(const AcrossModels& a, FigureEmbedder& figures) {
  std::string html = "<p>The same faces, aligned once, seen through each face recognition model: ";
  for (std::size_t i = 0; i < a.models.size(); ++i) {
    const auto& m = a.models[i];
    html += fmt::format("{}<code>{}</code> ({}, {} faces; <a href=\"{}\">its own report</a>)", i ? ", " : "",
                        html_escape(m.key), html_escape(m.name), m.faces, html_escape(m.report.generic_string()));
  }
  html += fmt::format(
      ". Each model has its own store, {} maps, analysis and EDC. Methods that score from a model's embedding "
      "(serfiq, magnitude) are scored by each model; image measures and score files are shared.</p>\n",
      html_escape(a.cam));
  html += "<ul class=\"findings\">\n";
  for (const auto& f : a.findings) html += fmt::format("<li>{}</li>\n", html_escape(f));
  html += "</ul>\n";
  html +=
      "<h3>Verdicts per model</h3>\n<p>Each cell: the verdict on that model's maps, the outside AM-V of the low minus "
      "the high group with its interval, and the family-corrected permutation p, as in that model's own report.</p>\n";
  html += verdict_table(a);
  html +=
      "<h3>MAM and AM-V per model</h3>\n<p>Per FIQA method, its groups' maps through each model, each column kind on "
      "one colour scale shared by the models (each model's own report has its grid of every method).</p>\n";
  for (const auto& [method, grid] : a.method_grids) {
    html += figures.embed(viz::png_of(grid), "across_models_" + method,
                          fmt::format("{}: rows models; columns MAM high, MAM low, AM-V high, AM-V low, D-AM-V. "
                                      "Dashed: the central face region.",
                                      html_escape(method)));
  }
  html += fmt::format(
      "<h3>Do the models' maps agree?</h3>\n<p>Pearson's r between two models' {} maps of the same face, over every "
      "face both embedded, and r between their mean maps. 1: the same pattern; 0: unrelated.</p>\n",
      html_escape(a.cam));
  html += agreement_table(a);
  html += fmt::format(
      "<h3>Cross-model EDC: scores from one model, errors of another</h3>\n<p>FNM pAUC at a {:.0f} % discard limit "
      "(lower is better) with its bootstrap interval: rows are FIQA scores (method@model: scored by that model), "
      "columns the model whose comparisons and errors they sort, each at that model's own threshold. Paired "
      "differences are in each column's <code>pauc_differences.csv</code>.</p>\n",
      100 * a.discard_limit);
  if (a.cross_edc.empty()) {
    html += fmt::format("<p>{}</p>\n", html_escape(a.edc_note));
  } else {
    html += cross_edc_table(a);
    for (std::size_t i = 0; i < a.edc_figures.size() && i < a.models.size(); ++i) {
      html +=
          figures.embed(viz::png_of(a.edc_figures[i]), "cross_edc_" + a.models[i].key,
                        fmt::format("FNM-EDC of every FIQA score on {}'s comparisons.", html_escape(a.models[i].key)));
    }
  }
  return html;
}

}  // namespace amva::report
