// Option values parsed from text: --group rules, --ties, --scores specs, --normalization,
// --bootstrap-unit: each parser gets the whole text.
#include <algorithm>
#include <string>

#include "amva/analysis/group_maps.hpp"
#include "amva/quality/scores.hpp"
#include "amva/eval/identities.hpp"
#include "amva/stats/groups.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Option values come from argv, which holds no NUL byte: the text ends at the first one.
  std::string text(reinterpret_cast<const char*>(data), size);
  text.resize(std::min(text.size(), text.find('\0')));
  amva::fuzz::expect_amva_errors_only([&] {
    const auto rule = amva::stats::GroupRule::parse(text);
    (void)rule.to_string();
  });
  amva::fuzz::expect_amva_errors_only([&] { (void)amva::stats::GroupRule::parse_ties(text); });
  amva::fuzz::expect_amva_errors_only([&] { (void)amva::quality::ScoreFileSpec::parse(text); });
  amva::fuzz::expect_amva_errors_only([&] { (void)amva::analysis::parse_normalization(text); });
  amva::fuzz::expect_amva_errors_only([&] { (void)amva::eval::parse_bootstrap_unit(text); });
  return 0;
}
