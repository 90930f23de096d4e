#include "amva/report/across_models.hpp"

#include <algorithm>

namespace amva::report {
namespace {

// The distinct values of `field` over `items`, in the order they first appear.
template <typename Item, typename Field>
std::vector<std::string> first_seen(const std::vector<Item>& items, Field field) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    if (std::find(out.begin(), out.end(), item.*field) == out.end()) out.push_back(item.*field);
  }
  return out;
}

}  // namespace

std::vector<std::string> AcrossModels::methods() const {
  return first_seen(verdicts, &ModelVerdict::method);
}

bool AcrossModels::scored_per_model(const std::string& method) const {
  return std::any_of(verdicts.begin(), verdicts.end(),
                     [&](const ModelVerdict& v) { return v.method == method && v.uses_model; });
}

const ModelVerdict* AcrossModels::verdict(const std::string& method, const std::string& model) const {
  const auto it = std::find_if(verdicts.begin(), verdicts.end(),
                               [&](const ModelVerdict& v) { return v.method == method && v.model == model; });
  return it == verdicts.end() ? nullptr : &*it;
}

std::vector<std::string> AcrossModels::edc_scores() const {
  return first_seen(cross_edc, &CrossEdcCell::method);
}

const CrossEdcCell* AcrossModels::edc_cell(const std::string& scores, const std::string& judged_on) const {
  const auto it = std::find_if(cross_edc.begin(), cross_edc.end(),
                               [&](const CrossEdcCell& c) { return c.method == scores && c.judged_on == judged_on; });
  return it == cross_edc.end() ? nullptr : &*it;
}

}  // namespace amva::report
