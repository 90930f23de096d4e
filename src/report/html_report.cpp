#include "amva/report/html_report.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "across_models_section.hpp"
#include "amva/analysis/analysis_folder.hpp"
#include "amva/analysis/verdicts.hpp"
#include "amva/error.hpp"
#include "amva/eval/edc_folder.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/json_values.hpp"
#include "amva/io/output_dir.hpp"
#include "amva/report/faithfulness_section.hpp"
#include "amva/share.hpp"
#include "amva/version.hpp"
#include "amva/viz/figures.hpp"
#include "figure_embedder.hpp"
#include "html_text.hpp"
#include "robustness_section.hpp"

namespace amva::report {
namespace fs = std::filesystem;
namespace {

// A pAUC with its interval when there was a bootstrap.
std::string pauc_html(const eval::Pauc& p, bool intervals) {
  return intervals ? with_ci(p, 5) : num(p.value, 5);
}

std::string region_rows(const analysis::MethodAnalysis& m) {
  std::string rows;
  for (const auto& g : m.groups) {
    if (!g.region) continue;
    const auto& r = *g.region;
    rows += fmt::format(
        "<tr><td class=l>{}</td><td class=l>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td></tr>\n",
        html_escape(m.name), html_escape(g.name), g.faces, with_ci(r.inside_am), with_ci(r.outside_am),
        with_ci(r.inside_amv), with_ci(r.outside_amv), with_ci(r.ratio_am, 3), with_ci(r.ratio_amv, 3));
  }
  return rows;
}

const char* kRegionHeader =
    "<table><tr><th class=l>method</th><th class=l>group</th><th>faces</th><th>MAM inside</th><th>MAM outside</th>"
    "<th>AM-V inside</th><th>AM-V outside</th><th>MAM out/in</th><th>AM-V out/in</th></tr>\n";

// A number as a reader wants it: whole numbers whole, others to 4 significant digits
// (0.6499999761581421 is 0.65).
std::string readable_number(const nlohmann::json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  const double d = v.get<double>();
  if (std::isfinite(d) && d == std::round(d) && std::abs(d) < 1e15) return fmt::format("{:.0f}", d);
  return fmt::format("{:.4g}", d);
}

std::string readable_value(const nlohmann::json& v) {
  if (v.is_number()) return readable_number(v);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "none";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  std::string out;  // an array of plain values
  for (const auto& e : v) out += (out.empty() ? "" : ", ") + readable_value(e);
  return out.empty() ? "none" : out;
}

// Settings as rows of "name, value": nested objects by dotted names, arrays of plain values
// joined, arrays of objects numbered.
void settings_rows(const nlohmann::json& j, const std::string& prefix, std::string& rows) {
  for (const auto& [k, v] : j.items()) {
    const std::string name = prefix.empty() ? k : prefix + '.' + k;
    const bool nested_array = v.is_array() && std::any_of(v.begin(), v.end(), [](const nlohmann::json& e) {
                                return e.is_object() || e.is_array();
                              });
    if (v.is_object()) {
      settings_rows(v, name, rows);
    } else if (nested_array) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        settings_rows(nlohmann::json{{fmt::format("{}", i + 1), v[i]}}, name, rows);
      }
    } else {
      rows += fmt::format("<tr><th class=l><code>{}</code></th><td class=l>{}</td></tr>\n", html_escape(name),
                          html_escape(readable_value(v)));
    }
  }
}

std::string settings_table(const nlohmann::json& settings) {
  std::string rows;
  settings_rows(settings, "", rows);
  return "<table class=\"settings\">\n" + rows + "</table>\n";
}

std::string findings_section(const ReportInput& in) {
  std::string summary = "<ul class=\"findings\">\n";
  for (const auto& f : in.findings) summary += fmt::format("<li>{}</li>\n", html_escape(f));
  return summary + "</ul>\n";
}

std::string dataset_section(const ReportInput& in) {
  const auto& d = in.dataset;
  const auto& st = d.settings.json;
  std::string dataset = "<table>\n";
  const auto row = [&](const std::string& k, const std::string& v) {
    dataset += fmt::format("<tr><th class=l>{}</th><td class=l>{}</td></tr>\n", html_escape(k), html_escape(v));
  };
  row("images", d.images);
  row("records (images or faces)", std::to_string(d.records));
  row("faces aligned and embedded", std::to_string(d.faces));
  std::string failures;
  for (const auto& [reason, count] : d.failures) failures += fmt::format("{} {}; ", count, reason);
  row("failures by reason", failures.empty() ? "none" : failures);
  row("FR model", d.model);
  row("model sha256", d.settings.model_sha256);
  row("alignment", d.settings.alignment);
  row("activation maps", d.cam);
  dataset += "</table>\n<h3>Detector and maps</h3>\n";
  // As stored: each detector and CAM method records options of its own.
  nlohmann::json details = nlohmann::json::object();
  for (const char* key : {"detector", "cam"}) {
    if (st.contains(key)) details[key] = st[key];
  }
  dataset += settings_table(details);

  return dataset;
}

// Inter-FIQA: the grid, the region statistics and the verdicts of every method.
std::string verdicts_section(const ReportInput& in, FigureEmbedder& figures) {
  const auto& a = *in.analysis;
  std::string inter = figures.embed(viz::png_of(analysis::AnalysisFolder{a.out}.grid_figure()), "inter_fiqa_grid",
                                    "Rows: FIQA methods. Columns: MAM of the high and the low group, AM-V of the "
                                    "high and the low group, and D-AM-V; each column kind on its own colour scale "
                                    "(colour bars below), shared down the column. Dashed: the central face region.");
  inter += fmt::format("<h3>Region statistics ({:.0f} % bootstrap intervals over {})</h3>\n", 100 * a.confidence,
                       a.bootstrap_unit == "identity"
                           ? fmt::format("identities, then their images: {}", html_escape(a.bootstrap_identities))
                           : std::string("images"));
  inter += kRegionHeader;
  for (const auto& m : a.methods) inter += region_rows(m);
  inter += fmt::format(
      "</table>\n<h3>Low minus high: mean AM-V outside the central face, and whether it is specific to "
      "outside</h3>\n<p>Intervals at {:.1f} % ({}); p from {} permutations of {}; verdicts at alpha {:g}.</p>\n"
      "<table><tr><th class=l>method</th><th>outside, low - high</th><th>p ({})</th><th>log(outside AM-V low / "
      "high)</th><th>smallest detectable log ratio</th><th class=l>verdict</th><th>(outside - inside) of low - high"
      "</th><th class=l>specificity</th><th>cells with a variance difference, outside / inside</th><th>maps with "
      "one value, low / high</th><th>W1 (AM-V values)</th><th>KS</th></tr>\n",
      100 * (a.family == "holm" && a.family_size > 1 ? 1 - a.alpha / static_cast<double>(a.family_size) : 1 - a.alpha),
      a.family == "holm" ? fmt::format("Bonferroni over {} methods", a.family_size)
                         : std::string("no family correction"),
      a.permutations, a.bootstrap_unit == "identity" ? "whole people" : "images (identities unknown)", a.alpha,
      a.family);
  for (std::size_t i = 0; i < a.methods.size(); ++i) {
    const auto& m = a.methods[i];
    const auto& f = a.findings[i];
    const bool compared = m.compared();
    std::string cells = "n/a";
    if (const auto& v = m.variance_test) {
      cells = fmt::format("{}/{} / {}/{} ({})", v->significant_outside, v->cells_outside, v->significant_inside,
                          v->cells_inside, v->test);
    }
    const std::string degenerate =
        m.degenerate ? fmt::format("{} / {}", m.degenerate->low, m.degenerate->high) : std::string("n/a");
    inter += fmt::format(
        "<tr><td class=l>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=l>{}</td><td>{}</td>"
        "<td class=l>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        html_escape(m.name), compared ? with_ci(f.outside_amv_low_minus_high) : "n/a", num(f.p_outside_family, 3),
        compared ? with_ci(f.log_ratio, 3) : "n/a", num(f.detectable_log_ratio, 3), verdict_span(f.finding),
        compared ? with_ci(f.outside_minus_inside) : "n/a", html_escape(compared ? f.specificity : "n/a"), cells,
        degenerate, num(m.amv.wasserstein1), num(m.amv.ks, 3));
  }
  inter += "</table>\n<dl class=definitions>\n";
  for (const auto* table : {&analysis::finding_words(), &analysis::specificity_words()}) {
    for (const auto& w : *table) {
      inter += fmt::format("<dt>{}</dt><dd>{}</dd>\n", verdict_span(w.word), html_escape(w.definition));
    }
  }
  inter += "</dl>\n";
  if (a.bootstrap_unit != "identity") {
    inter +=
        "<p class=warning>Identities are unknown: every test treats images as independent, which calls "
        "identity-clustered noise significant. Give --labels, --pairs or --labels-from-folders.</p>\n";
  }
  if (const auto& n = a.null_controls) {
    inter += fmt::format(
        "<p>Null controls: {} score columns that carry no information about the maps{}: {} got a false verdict "
        "(nominal rate {:g}, binomial p = {}), {} had a significant cell (nominal {:g}, p = {}).{}</p>\n",
        n->controls.size(), n->identities ? " but cluster by person as the real scores do" : "", n->false_verdicts,
        n->alpha, num(n->p_false_verdicts, 3), n->with_significant_cell, n->cell_level, num(n->p_significant_cell, 3),
        n->warns_verdicts() || n->warns_cells() ? " <strong>More than the nominal rate allows: the verdicts on this "
                                                  "data are not calibrated.</strong>"
                                                : "");
  }
  return inter;
}

std::string ties_section(const analysis::AnalysisResult& a) {
  std::string ties;
  for (const auto& m : a.methods) {
    for (const auto& t : m.ties) {
      ties += fmt::format(
          "<tr><td class=l>{}</td><td class=l>{} | {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
          html_escape(m.name), html_escape(t.lower), html_escape(t.upper), num(t.score, 6), t.tied, t.in_lower,
          t.in_upper);
    }
  }
  return ties.empty() ? std::string("<p>No tied scores straddle a group boundary.</p>\n")
                      : fmt::format(
                            "<h3>Tied scores at group boundaries (ties: {})</h3>\n<table><tr><th class=l>method</th>"
                            "<th class=l>boundary</th><th>score</th><th>tied faces</th><th>ranked below</th>"
                            "<th>ranked above</th></tr>\n{}</table>\n",
                            html_escape(a.ties), ties);
}

std::string agreement_section(const analysis::AnalysisResult& a) {
  const auto& agree = a.agreement;
  std::string inter;
  inter += "</table>\n<h3>Agreement between methods</h3>\n<table><tr><th class=l>Spearman / low-group overlap</th>";
  for (const auto& name : agree.methods) inter += fmt::format("<th>{}</th>", html_escape(name));
  inter += "</tr>\n";
  for (std::size_t i = 0; i < agree.methods.size(); ++i) {
    inter += fmt::format("<tr><th class=l>{}</th>", html_escape(agree.methods[i]));
    for (std::size_t j = 0; j < agree.methods.size(); ++j) {
      inter += fmt::format("<td>{} / {}</td>", num(agree.spearman[i][j], 3), num(agree.low_overlap[i][j], 2));
    }
    inter += "</tr>\n";
  }
  inter += "</table>\n";

  return inter;
}

// Intra-FIQA: each method's figures and region table.
std::string methods_section(const ReportInput& in, FigureEmbedder& figures) {
  const auto& a = *in.analysis;
  const analysis::AnalysisFolder folder{a.out};
  const auto figure = [&](const std::string& method, const std::string& name) {
    return viz::png_of(folder.method_figure(method, name));
  };
  std::string intra;
  for (std::size_t i = 0; i < a.methods.size(); ++i) {
    const auto& m = a.methods[i];
    const auto& name = m.name;
    intra += fmt::format("<h3 id=\"method-{0}\">{0}</h3>\n<p>Source: {1}. Verdict: {2}.</p>\n", html_escape(name),
                         html_escape(m.source), verdict_span(a.findings[i].finding));
    if (const auto t = in.thumbnails.find(name); t != in.thumbnails.end()) {
      intra += figures.embed(t->second, name + "_examples",
                             "Example faces of the highest and the lowest group, evenly spaced by score (best "
                             "first), with their scores.");
    }
    intra += figures.embed(figure(name, "intra"), name + "_intra",
                           "High and low group: MAM, AM-V, median, MAD; differences D-MAM, D-AM-V, symmetrised D-AM-V. "
                           "Point at a map to read its value. AM-V is the per-pixel standard deviation of maps "
                           "upsampled bilinearly from the model's native grid, so it peaks at the centres of the "
                           "native cells: that lattice is in the statistic, not in the drawing.");
    intra += figures.embed(
        figure(name, "density"), name + "_density",
        fmt::format("Per-pixel values of the AM-V and median maps. AM-V: W1 {}, KS {}; median: W1 "
                    "{}, KS {}.",
                    num(m.amv.wasserstein1), num(m.amv.ks, 3), num(m.median.wasserstein1), num(m.median.ks, 3)));
    if (a.drew(name, "signed")) {
      intra += figures.embed(figure(name, "signed"), name + "_signed",
                             "Signed differences, low minus high (red: the low group higher), on a scale centred on "
                             "0: AM-V with the pixels beyond the permutation null hatched (pointwise), the null "
                             "band (standard deviation of the difference over the permutations, where noise alone "
                             "reaches), MAM, and the unsigned D-AM-V of the seed paper.");
    }
    if (a.drew(name, "significance")) {
      const auto& v = m.variance_test;
      intra += figures.embed(
          figure(name, "significance"), name + "_significance",
          v && v->test == "brown-forsythe"
              ? "D-AM-V with the map cells outlined where the low and high groups differ in variation (parametric "
                "Brown-Forsythe per native cell, images independent, Benjamini-Hochberg FDR), and -log10 q per cell "
                "(each cell shown over its pixels)."
              : "D-AM-V with the map cells outlined where the low and high groups differ in variation (block "
                "permutation of the Brown-Forsythe F per native cell, whole people moved when identities are known, "
                "max-T across the cells), and -log10 q per cell (each cell shown over its pixels).");
    }
    intra += figures.embed(figure(name, "profiles"), name + "_profiles", "Row and column profiles of MAM and AM-V.");
    intra += kRegionHeader + region_rows(m) + "</table>\n";
  }

  return intra;
}

// Methods in the order of their names, as the report has always listed them.
std::vector<const eval::EdcMethod*> by_name(const std::vector<eval::EdcMethod>& methods) {
  std::vector<const eval::EdcMethod*> sorted;
  for (const auto& m : methods) sorted.push_back(&m);
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  return sorted;
}

std::string edc_table(const eval::EdcResult& e) {
  std::string edc;
  edc += "<table><tr><th class=l>method</th>";
  for (const double l : e.discard_limits) {
    edc += fmt::format("<th>FNM pAUC@{0:.2f}</th><th>minus ideal@{0:.2f}</th>", l);
  }
  edc += "<th>FNMR low group</th><th>FNMR high group</th></tr>\n";
  for (const auto* m : by_name(e.methods)) {
    edc += fmt::format("<tr><td class=l>{}</td>", html_escape(m->name));
    for (std::size_t l = 0; l < e.discard_limits.size(); ++l) {
      edc += fmt::format("<td>{}</td><td>{}</td>", pauc_html(m->fnm[l], e.bootstrap),
                         pauc_html(m->fnm_above_ideal[l], e.bootstrap));
    }
    edc += fmt::format("<td>{}</td><td>{}</td></tr>\n", num(m->low.fnmr), num(m->high.fnmr));
  }
  edc += "<tr><td class=l>random order (mean)</td>";
  for (const double random : e.random_fnm_pauc) edc += fmt::format("<td>{}</td><td></td>", num(random, 5));
  edc += "<td></td><td></td></tr>\n</table>\n";
  return edc;
}

std::string paired_differences_table(const eval::EdcResult& e) {
  std::vector<const eval::PaucDifference*> fnm;
  for (const auto& d : e.differences) {
    if (d.fnm) fnm.push_back(&d);
  }
  if (!e.bootstrap || fnm.empty()) return {};
  const auto key = [](const eval::PaucDifference* d) { return eval::limit_key(d->limit); };
  std::stable_sort(fnm.begin(), fnm.end(), [&](const auto* a, const auto* b) { return key(a) < key(b); });
  std::string edc =
      "<h3>Paired differences of FNM pAUC (same replicates for every method)</h3>\n<table><tr><th "
      "class=l>limit</th><th class=l>method a - method b</th><th>difference</th><th class=l>verdict</th></tr>\n";
  for (const auto* d : fnm) {
    edc += fmt::format("<tr><td class=l>{}</td><td class=l>{} - {}</td><td>{}</td><td class=l>{}</td></tr>\n",
                       html_escape(key(d)), html_escape(d->method_a), html_escape(d->method_b),
                       with_ci(d->difference, 5), html_escape(d->verdict));
  }
  return edc + "</table>\n";
}

std::string edc_section(const ReportInput& in, FigureEmbedder& figures) {
  if (!in.edc) return fmt::format("<p>{}</p>\n", html_escape(in.edc_note));
  const auto& e = *in.edc;
  const eval::EdcFolder folder{e.out};
  std::string edc = fmt::format(
      "<p>{} comparisons ({} mated, {} non-mated; {} left out). {}. Threshold {} ({}): FNMR {}, FMR "
      "{}.</p>\n",
      e.comparisons.used, e.comparisons.mated, e.comparisons.nonmated, e.comparisons.excluded,
      html_escape(e.comparisons.source), num(e.threshold, 5), html_escape(e.threshold_rule), num(e.fnmr_at_threshold),
      num(e.fmr_at_threshold, 5));
  if (e.false_matches_at_threshold < 10) {
    edc += fmt::format(
        "<p class=\"warning\">The threshold rests on {} false match(es): the FMR at it is estimated from very few "
        "errors.</p>\n",
        e.false_matches_at_threshold);
  }
  edc += figures.embed(viz::png_of(folder.edc_figure()), "edc",
                       e.bootstrap ? fmt::format("FNM-EDC and FM-EDC of every method with {:.0f} % bootstrap bands "
                                                 "(resampling {}, threshold held), the ideal and the random-order "
                                                 "baselines; stepwise; threshold fixed.",
                                                 100 * e.confidence, e.bootstrap_identities ? "identities" : "images")
                                   : std::string("FNM-EDC and FM-EDC of every method with the ideal and the "
                                                 "random-order baselines; stepwise; threshold fixed."));
  edc += edc_table(e);
  edc += paired_differences_table(e);
  edc += figures.embed(viz::png_of(folder.distributions_figure()), "similarity_distributions",
                       "Mated and non-mated similarity densities in the low and high groups of each method.");
  return edc;
}

std::string explanations_section(const ReportInput& in, FigureEmbedder& figures) {
  std::string explanations =
      figures.embed(in.regions_legend, "regions_legend", "Face regions of the breakdown, on the aligned 112x112 face.");
  for (std::size_t i = 0; i < in.sheets.size(); ++i) {
    explanations +=
        figures.embed(in.sheets[i], fmt::format("explanation_{:02d}", i + 1), html_escape(in.sheet_captions[i]));
  }
  if (in.sheets.empty()) explanations += "<p>No face was explained.</p>\n";
  if (in.deviation) {
    const auto& d = *in.deviation;
    explanations += fmt::format(
        "<h3>Deviation as a quality score: its lowest-scoring faces</h3>\n<p>The FIQA method <code>deviation</code> "
        "scores each face by how far its {} map lies from a high-quality reference (mean |Z|, lower deviation is "
        "better quality), {}. No reference holds the face it scores, nor that person's other faces. Its error-versus-"
        "discard curve stands beside the other methods' in the EDC section. Each sheet below was made against the "
        "very reference that scored the face, so the sheet shows why the score is low.</p>\n",
        html_escape(d.value("cam", "")), html_escape(d.value("reference", "")));
    for (std::size_t i = 0; i < in.deviation_sheets.size(); ++i) {
      explanations += figures.embed(in.deviation_sheets[i], fmt::format("deviation_{:02d}", i + 1),
                                    html_escape(in.deviation_captions[i]));
    }
    if (in.deviation_sheets.empty()) explanations += "<p>No face of the lowest deviation scores was explained.</p>\n";
  }

  return explanations;
}

std::string settings_section(const ReportInput& in) {
  std::string methods = "<h3>Analysis</h3>\n" + settings_table(in.analysis->summary["settings"]);
  if (in.edc) methods += "<h3>EDC</h3>\n" + settings_table(in.edc->summary["settings"]);

  return methods;
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string base64_file(const fs::path& file) {
  return base64(io::read_text(file));
}

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

void write_html_report(const ReportInput& in, const fs::path& out) {
  if (!in.analysis)
    throw Error(ErrorCode::InvalidArgument, fmt::format("{}: a report needs the analysis", out.string()));
  const auto tpl_file = share_file("report_template.html");
  if (!fs::exists(tpl_file))
    throw Error(ErrorCode::NotFound, fmt::format("{}: report template not found", tpl_file.string()));
  std::string html = io::read_text(tpl_file);
  FigureEmbedder figures(out.parent_path() / "figures");
  const std::string inter =
      verdicts_section(in, figures) + ties_section(*in.analysis) + agreement_section(*in.analysis);
  const std::string intra = methods_section(in, figures);
  const std::string edc = edc_section(in, figures);
  const std::string explanations = explanations_section(in, figures);
  const std::string models = in.across_models ? "<section id=\"models\"><h2>Across FR models</h2>" +
                                                    across_models_section(*in.across_models, figures) + "</section>\n"
                                              : std::string();
  const std::vector<std::pair<std::string, std::string>> fill = {
      {"{{title}}", html_escape(in.title)},
      {"{{version}}", version()},
      {"{{created}}", utc_timestamp()},
      {"{{study}}", html_escape(fs::absolute(in.study).lexically_normal().string())},
      {"{{summary}}", findings_section(in)},
      {"{{models_nav}}", in.across_models ? "<a href=\"#models\">Across FR models</a>" : ""},
      {"{{models_section}}", models},
      {"{{dataset}}", dataset_section(in)},
      {"{{inter}}", inter},
      {"{{robustness}}", robustness_section(*in.analysis, in.faithfulness)},
      {"{{faithfulness}}", faithfulness_section(in.faithfulness)},
      {"{{intra}}", intra},
      {"{{edc}}", edc},
      {"{{explanations}}", explanations},
      {"{{methods}}", settings_section(in)},
      {"{{maps}}", figures.maps_script()}};
  for (const auto& [key, value] : fill) {
    for (auto pos = html.find(key); pos != std::string::npos; pos = html.find(key, pos + value.size())) {
      html.replace(pos, key.size(), value);
    }
  }
  io::write_text_atomically(out, html);
}

}  // namespace amva::report
