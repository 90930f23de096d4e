#pragma once
// The report's section "How robust is each verdict" (issue 29): each FIQA method's line, its
// specification curve drawn as inline SVG (effects sorted, with their intervals, coloured by
// verdict; beneath, the matrix of the choices that made each one, as Simonsohn, Simmons and
// Nelson draw it), and every specification in a sortable table.
#include <optional>
#include <string>

#include "amva/analysis/analyze.hpp"
#include "amva/cam/faithfulness_result.hpp"

namespace amva::report {

/// With the faithfulness result when the study measured it: each CAM method's faithfulness
/// beside its verdicts.
std::string robustness_section(const analysis::AnalysisResult& analysis,
                               const std::optional<cam::FaithfulnessResult>& faithfulness = std::nullopt);

/// One method's specification curve as an SVG element.
std::string specification_curve_svg(const analysis::Robustness& robustness, const std::string& method,
                                    double smallest_effect);

}  // namespace amva::report
