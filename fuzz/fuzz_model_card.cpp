// Model cards (model_cards/*.json).
#include <nlohmann/json.hpp>

#include "amva/model/model_card.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = amva::fuzz::write_input(data, size, "card.json");
  amva::fuzz::expect_amva_errors_only([&] {
    const auto card = amva::model::ModelCard::load(file);
    (void)card.to_json();
  });
  return 0;
}
