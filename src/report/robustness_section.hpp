#pragma once
// The report's section "How robust is each verdict" (issue 29): each FIQA method's line, its
// specification curve drawn as inline SVG (effects sorted, with their intervals, coloured by
// verdict; beneath, the matrix of the choices that made each one, as Simonsohn, Simmons and
// Nelson draw it), and every specification in a sortable table.
#include <string>

#include "amva/analysis/amva_analysis.hpp"

namespace amva::report {

std::string robustness_section(const analysis::AnalysisResult& analysis);

/// One method's specification curve as an SVG element.
std::string specification_curve_svg(const analysis::Robustness& robustness, const std::string& method,
                                    double smallest_effect);

}  // namespace amva::report
