#include "amva/report/html_report.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/json_values.hpp"
#include "amva/io/output_dir.hpp"
#include "amva/share.hpp"
#include "amva/version.hpp"
#include "figure_embedder.hpp"

namespace amva::report {
namespace fs = std::filesystem;
namespace {

std::string num(const nlohmann::json& j, int digits = 4) {
  return j.is_number() ? fmt::format("{:.{}f}", j.get<double>(), digits) : "n/a";
}

std::string with_ci(const nlohmann::json& v, const nlohmann::json& ci, int digits = 4) {
  if (!ci.is_array() || ci.size() != 2) return num(v, digits);
  return fmt::format("{} <small>[{}, {}]</small>", num(v, digits), num(ci[0], digits), num(ci[1], digits));
}

std::string verdict_span(const std::string& v) {
  return fmt::format("<span class=\"{}\">{}</span>", html_escape(v), html_escape(v));
}

std::string region_rows(const std::string& method, const nlohmann::json& m) {
  std::string rows;
  for (const auto& g : m["group_order"]) {
    const auto& grp = m["groups"][g.get<std::string>()];
    if (!grp.contains("region")) continue;
    const auto& r = grp["region"];
    rows += fmt::format(
        "<tr><td class=l>{}</td><td class=l>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td></tr>\n",
        html_escape(method), html_escape(g.get<std::string>()), grp["count"].dump(),
        with_ci(r["inside"]["mean_am"], r["inside"]["mean_am_ci"]),
        with_ci(r["outside"]["mean_am"], r["outside"]["mean_am_ci"]),
        with_ci(r["inside"]["mean_amv"], r["inside"]["mean_amv_ci"]),
        with_ci(r["outside"]["mean_amv"], r["outside"]["mean_amv_ci"]), with_ci(r["ratio_am"], r["ratio_am_ci"], 3),
        with_ci(r["ratio_amv"], r["ratio_amv_ci"], 3));
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
  const auto& st = d.value("settings", nlohmann::json::object());
  std::string dataset = "<table>\n";
  const auto row = [&](const std::string& k, const std::string& v) {
    dataset += fmt::format("<tr><th class=l>{}</th><td class=l>{}</td></tr>\n", html_escape(k), html_escape(v));
  };
  row("images", d.value("images", ""));
  row("records (images or faces)", d["records"].dump());
  row("faces aligned and embedded", d["faces"].dump());
  std::string failures;
  for (const auto& [reason, count] : d["failures"].items()) failures += fmt::format("{} {}; ", count.dump(), reason);
  row("failures by reason", failures.empty() ? "none" : failures);
  row("FR model", d.value("model", ""));
  row("model sha256", st.value("model_sha256", ""));
  row("alignment", st.value("alignment", ""));
  row("activation maps", d.value("cam", ""));
  dataset += "</table>\n<h3>Detector and maps</h3>\n";
  nlohmann::json details = nlohmann::json::object();
  if (st.contains("detector")) details["detector"] = st["detector"];
  if (st.contains("cam")) details["cam"] = st["cam"];
  dataset += settings_table(details);

  return dataset;
}

// Inter-FIQA: the grid, the region statistics and the verdicts of every method.
std::string verdicts_section(const ReportInput& in, FigureEmbedder& figures) {
  const fs::path analysis_dir = in.study / "analysis";
  const auto& a = in.analysis;
  std::string inter = figures.embed(analysis_dir / "grid.png", "inter_fiqa_grid",
                                    "Rows: FIQA methods. Columns: MAM of the high and the low group, AM-V of the "
                                    "high and the low group, and D-AM-V; each column kind on its own colour scale "
                                    "(colour bars below), shared down the column. Dashed: the central face region.");
  const auto& boot = a["settings"]["bootstrap"];
  const bool by_identity = boot.value("unit", "image") == "identity";
  inter += fmt::format(
      "<h3>Region statistics ({:.0f} % bootstrap intervals over {})</h3>\n", 100 * boot.value("confidence", 0.95),
      by_identity
          ? fmt::format("identities, then their images: {}", html_escape(boot.value("identities", std::string())))
          : std::string("images"));
  inter += kRegionHeader;
  for (const auto& [name, m] : a["methods"].items()) inter += region_rows(name, m);
  inter +=
      "</table>\n<h3>Low minus high: mean AM-V outside the central face, and whether it is specific to "
      "outside</h3>\n<table><tr><th class=l>method</th><th>outside, low - high</th><th class=l>verdict</th>"
      "<th>(outside - inside) of low - high</th><th class=l>specificity</th><th>cells with a variance "
      "difference, outside / inside</th><th>W1 (AM-V values)</th><th>KS</th></tr>\n";
  for (const auto& [name, m] : a["methods"].items()) {
    const auto& c = m["comparison"];
    std::string cells = "n/a";
    if (c.contains("variance_test")) {
      const auto& v = c["variance_test"];
      cells = fmt::format("{}/{} / {}/{}", v["significant_outside"].dump(), v["cells_outside"].dump(),
                          v["significant_inside"].dump(), v["cells_inside"].dump());
    }
    inter += fmt::format(
        "<tr><td class=l>{}</td><td>{}</td><td class=l>{}</td><td>{}</td><td class=l>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td></tr>\n",
        html_escape(name),
        with_ci(c.value("outside_amv_low_minus_high", nlohmann::json()),
                c.value("outside_amv_low_minus_high_ci", nlohmann::json())),
        verdict_span(c.value("finding", "n/a")),
        with_ci(c.value("outside_minus_inside_difference", nlohmann::json()),
                c.value("outside_minus_inside_difference_ci", nlohmann::json())),
        html_escape(c.value("specificity", "n/a")), cells, num(c["distances"]["amv"]["wasserstein1"]),
        num(c["distances"]["amv"]["ks"], 3));
  }
  inter +=
      "</table>\n<p>Verdict: <em>reproduced</em> when the interval of the outside difference lies above 0 (the seed "
      "paper's finding), <em>reversed</em> below 0, else <em>inconclusive</em>. Specificity: <em>specific to "
      "outside</em> when the low group's extra variation is larger outside than inside (interval above 0), "
      "<em>general</em> when it is not, <em>absent</em> without an outside difference. Cells: Brown-Forsythe "
      "test per cell of the map's native grid, Benjamini-Hochberg FDR.</p>\n";
  return inter;
}

std::string ties_section(const nlohmann::json& a) {
  std::string ties;
  for (const auto& [name, m] : a["methods"].items()) {
    for (const auto& t : m.value("ties", nlohmann::json::array())) {
      ties += fmt::format(
          "<tr><td class=l>{}</td><td class=l>{} | {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
          html_escape(name), html_escape(t["lower"].get<std::string>()), html_escape(t["upper"].get<std::string>()),
          num(t["score"], 6), t["tied"].dump(), t["ranked_below"].dump(), t["ranked_above"].dump());
    }
  }
  return ties.empty() ? std::string("<p>No tied scores straddle a group boundary.</p>\n")
                      : fmt::format(
                            "<h3>Tied scores at group boundaries (ties: {})</h3>\n<table><tr><th class=l>method</th>"
                            "<th class=l>boundary</th><th>score</th><th>tied faces</th><th>ranked below</th>"
                            "<th>ranked above</th></tr>\n{}</table>\n",
                            html_escape(a["settings"].value("ties", std::string())), ties);
}

std::string agreement_section(const nlohmann::json& a) {
  std::string inter;
  inter += "</table>\n<h3>Agreement between methods</h3>\n<table><tr><th class=l>Spearman / low-group overlap</th>";
  for (const auto& [name, m] : a["methods"].items()) inter += fmt::format("<th>{}</th>", html_escape(name));
  inter += "</tr>\n";
  for (const auto& [ra, row_json] : a["agreement"]["spearman"].items()) {
    inter += fmt::format("<tr><th class=l>{}</th>", html_escape(ra));
    for (const auto& [rb, v] : row_json.items()) {
      inter += fmt::format("<td>{} / {}</td>", num(v, 3), num(a["agreement"]["low_overlap"][ra][rb], 2));
    }
    inter += "</tr>\n";
  }
  inter += "</table>\n";

  return inter;
}

// Intra-FIQA: each method's figures and region table.
std::string methods_section(const ReportInput& in, FigureEmbedder& figures) {
  const fs::path analysis_dir = in.study / "analysis";
  const auto& a = in.analysis;
  std::string intra;
  for (const auto& [name, m] : a["methods"].items()) {
    const fs::path dir = analysis_dir / name;
    const auto& c = m["comparison"];
    intra += fmt::format("<h3 id=\"method-{0}\">{0}</h3>\n<p>Source: {1}. Verdict: {2}.</p>\n", html_escape(name),
                         html_escape(m.value("source", "")), verdict_span(c.value("finding", "n/a")));
    if (const auto t = in.thumbnails.find(name); t != in.thumbnails.end()) {
      intra += figures.embed(t->second, name + "_examples",
                             "Example faces of the highest and the lowest group, evenly spaced by score (best "
                             "first), with their scores.");
    }
    intra += figures.embed(dir / "intra.png", name + "_intra",
                           "High and low group: MAM, AM-V, median, MAD; differences D-MAM, D-AM-V, symmetrised D-AM-V. "
                           "Point at a map to read its value. AM-V is the per-pixel standard deviation of maps "
                           "upsampled bilinearly from the model's native grid, so it peaks at the centres of the "
                           "native cells: that lattice is in the statistic, not in the drawing.");
    intra += figures.embed(
        dir / "density.png", name + "_density",
        fmt::format("Per-pixel values of the AM-V and median maps. AM-V: W1 {}, KS {}; median: W1 "
                    "{}, KS {}.",
                    num(c["distances"]["amv"]["wasserstein1"]), num(c["distances"]["amv"]["ks"], 3),
                    num(c["distances"]["median"]["wasserstein1"]), num(c["distances"]["median"]["ks"], 3)));
    if (fs::exists(dir / "significance.png")) {
      intra += figures.embed(dir / "significance.png", name + "_significance",
                             "D-AM-V with the map cells outlined where the low and high groups differ in "
                             "variation (Brown-Forsythe per native cell, Benjamini-Hochberg FDR), and -log10 q per "
                             "cell (each cell shown over its pixels).");
    }
    intra += figures.embed(dir / "profiles.png", name + "_profiles", "Row and column profiles of MAM and AM-V.");
    intra += kRegionHeader + region_rows(name, m) + "</table>\n";
  }

  return intra;
}

std::string edc_table(const nlohmann::json& e, bool intervals) {
  std::string edc;
  edc += "<table><tr><th class=l>method</th>";
  const auto& limits = e["settings"]["discard_limits"];
  for (const auto& l : limits) {
    edc += fmt::format("<th>FNM pAUC@{0:.2f}</th><th>minus ideal@{0:.2f}</th>", l.get<double>());
  }
  edc += "<th>FNMR low group</th><th>FNMR high group</th></tr>\n";
  for (const auto& [name, m] : e["methods"].items()) {
    edc += fmt::format("<tr><td class=l>{}</td>", html_escape(name));
    for (const auto& l : limits) {
      const auto key = fmt::format("{:.2f}", l.get<double>());
      const auto& f = m["fnm_edc"];
      edc += fmt::format("<td>{}</td><td>{}</td>",
                         intervals ? with_ci(f["pauc"][key], f["pauc_ci"][key], 5) : num(f["pauc"][key], 5),
                         intervals ? with_ci(f["pauc_minus_ideal"][key], f["pauc_minus_ideal_ci"][key], 5)
                                   : num(f["pauc_minus_ideal"][key], 5));
    }
    edc +=
        fmt::format("<td>{}</td><td>{}</td></tr>\n", num(m["groups"]["low"]["fnmr"]), num(m["groups"]["high"]["fnmr"]));
  }
  edc += "<tr><td class=l>random order (mean)</td>";
  for (const auto& l : limits) {
    edc += fmt::format("<td>{}</td><td></td>",
                       num(e["baselines"]["fnm_edc"]["random_pauc_mean"][fmt::format("{:.2f}", l.get<double>())], 5));
  }
  edc += "<td></td><td></td></tr>\n</table>\n";
  return edc;
}

std::string paired_differences_table(const nlohmann::json& e, bool intervals) {
  std::string edc;
  if (intervals && e.contains("paired_differences") && e["paired_differences"].contains("fnm_edc")) {
    edc +=
        "<h3>Paired differences of FNM pAUC (same replicates for every method)</h3>\n<table><tr><th "
        "class=l>limit</th><th class=l>method a - method b</th><th>difference</th><th class=l>verdict</th></tr>\n";
    for (const auto& [key, list] : e["paired_differences"]["fnm_edc"].items()) {
      for (const auto& pd : list) {
        edc += fmt::format(
            "<tr><td class=l>{}</td><td class=l>{} - {}</td><td>{}</td><td class=l>{}</td></tr>\n", html_escape(key),
            html_escape(pd["method_a"].get<std::string>()), html_escape(pd["method_b"].get<std::string>()),
            with_ci(pd["difference"], pd["difference_ci"], 5), html_escape(pd["verdict"].get<std::string>()));
      }
    }
    edc += "</table>\n";
  }
  return edc;
}

std::string edc_section(const ReportInput& in, FigureEmbedder& figures) {
  if (in.edc.is_null()) return fmt::format("<p>{}</p>\n", html_escape(in.edc_note));
  const fs::path edc_dir = in.study / "edc";
  std::string edc;
  const auto& e = in.edc;
  edc += fmt::format(
      "<p>{} comparisons ({} mated, {} non-mated; {} left out). {}. Threshold {} ({}): FNMR {}, FMR "
      "{}.</p>\n",
      e["comparisons"]["used"].dump(), e["comparisons"]["mated"].dump(), e["comparisons"]["nonmated"].dump(),
      e["comparisons"]["excluded"].dump(), html_escape(e["comparisons"]["source"].get<std::string>()),
      num(e["settings"]["threshold"], 5), html_escape(e["settings"]["threshold_rule"].get<std::string>()),
      num(e["settings"]["fnmr_at_threshold"]), num(e["settings"]["fmr_at_threshold"], 5));
  const auto false_matches = e["settings"].value("false_matches_at_threshold", std::size_t{0});
  if (false_matches < 10) {
    edc += fmt::format(
        "<p class=\"warning\">The threshold rests on {} false match(es): the FMR at it is estimated from very few "
        "errors.</p>\n",
        false_matches);
  }
  const auto& eb = e["settings"].value("bootstrap", nlohmann::json::object());
  const bool intervals = eb.value("replicates", 0) > 0;
  edc += figures.embed(edc_dir / "edc.png", "edc",
                       intervals ? fmt::format("FNM-EDC and FM-EDC of every method with {:.0f} % bootstrap bands "
                                               "(resampling {}, threshold held), the ideal and the random-order "
                                               "baselines; stepwise; threshold fixed.",
                                               100 * eb.value("confidence", 0.95),
                                               eb.value("unit", "image") == "identity" ? "identities" : "images")
                                 : std::string("FNM-EDC and FM-EDC of every method with the ideal and the "
                                               "random-order baselines; stepwise; threshold fixed."));
  edc += edc_table(e, intervals);
  edc += paired_differences_table(e, intervals);
  edc += figures.embed(edc_dir / "distributions.png", "similarity_distributions",
                       "Mated and non-mated similarity densities in the low and high groups of each method.");
  return edc;
}

std::string explanations_section(const ReportInput& in, FigureEmbedder& figures) {
  std::string explanations = figures.embed(in.study / "explain" / "regions_legend.png", "regions_legend",
                                           "Face regions of the breakdown, on the aligned 112x112 face.");
  for (std::size_t i = 0; i < in.sheets.size(); ++i) {
    explanations +=
        figures.embed(in.sheets[i], fmt::format("explanation_{:02d}", i + 1), html_escape(in.sheet_captions[i]));
  }
  if (in.sheets.empty()) explanations += "<p>No face was explained.</p>\n";

  return explanations;
}

std::string settings_section(const ReportInput& in) {
  const auto& a = in.analysis;
  std::string methods = "<h3>Analysis</h3>\n" + settings_table(a["settings"]);
  if (!in.edc.is_null()) methods += "<h3>EDC</h3>\n" + settings_table(in.edc["settings"]);

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
  const auto tpl_file = share_file("report_template.html");
  if (!fs::exists(tpl_file))
    throw Error(ErrorCode::NotFound, fmt::format("{}: report template not found", tpl_file.string()));
  std::string html = io::read_text(tpl_file);
  FigureEmbedder figures(out.parent_path() / "figures");
  const std::string inter = verdicts_section(in, figures) + ties_section(in.analysis) + agreement_section(in.analysis);
  const std::string intra = methods_section(in, figures);
  const std::string edc = edc_section(in, figures);
  const std::string explanations = explanations_section(in, figures);
  const std::vector<std::pair<std::string, std::string>> fill = {
      {"{{title}}", html_escape(in.title)},
      {"{{version}}", version()},
      {"{{created}}", utc_timestamp()},
      {"{{study}}", html_escape(fs::absolute(in.study).lexically_normal().string())},
      {"{{summary}}", findings_section(in)},
      {"{{dataset}}", dataset_section(in)},
      {"{{inter}}", inter},
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
