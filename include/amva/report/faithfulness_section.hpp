#pragma once
// What the report, the terminal and faithfulness.svg say about the faithfulness of the CAM
// methods (issue 33), read from the result faithfulness.json is also written from: one
// line per method, the table of areas with their intervals and the verdicts against the two
// controls, and the mean deletion and insertion curves per fill as an SVG drawing.
#include <optional>
#include <string>
#include <vector>

#include "amva/cam/faithfulness_result.hpp"

namespace amva::report {

/// One line per CAM method: its deletion and insertion areas under each fill and how it fares
/// against the random order and the centre prior; then the ranking and whether the fills agree.
std::vector<std::string> faithfulness_lines(const cam::FaithfulnessResult& result);

/// The mean curves: a panel per fill and game, a line per CAM method, the controls dashed.
std::string faithfulness_curves_svg(const cam::FaithfulnessResult& result);

/// The report's section "Which maps to believe": the lines, the curves and the table; or how
/// to measure it when the study did not.
std::string faithfulness_section(const std::optional<cam::FaithfulnessResult>& result);

/// One line for the study's findings: how each CAM method fares against the centre prior
/// under each fill.
std::string faithfulness_finding(const cam::FaithfulnessResult& result);

/// "deletion 0.41 / 0.38, insertion 0.62 / 0.55; vs centre: better / better" for one CAM method
/// (blur / road): what the robustness section shows beside each CAM method's verdicts; empty
/// when the method was not judged.
std::string faithfulness_brief(const cam::FaithfulnessResult& result, const std::string& cam);

}  // namespace amva::report
