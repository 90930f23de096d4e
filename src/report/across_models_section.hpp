#pragma once
#include <string>

#include "amva/report/across_models.hpp"
#include "figure_embedder.hpp"

namespace amva::report {

/// The section "Across FR models": the verdict table (FIQA method x model), each model's grid
/// of MAM and AM-V, the map agreement and the cross-model EDC.
std::string across_models_section(const AcrossModels& across, FigureEmbedder& figures);

}  // namespace amva::report
