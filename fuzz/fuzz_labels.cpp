// Identity label files (`path identity` lines, or CSV path,identity).
#include "amva/eval/identities.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<amva::store::IndexEntry> index = {
      {"Aaron/Aaron_0001.jpg", true}, {"Aaron/Aaron_0002.jpg", true}, {"Bea/Bea_0001.jpg", true}, {"c.jpg", true}};
  const auto file = amva::fuzz::write_input(data, size, "labels.txt");
  amva::fuzz::expect_amva_errors_only([&] {
    amva::eval::IdentitySource source;
    source.labels = file;
    const auto ids = amva::eval::read_identities(index, source);
    for (std::size_t row = 0; row < index.size(); ++row) (void)ids.unit_of(row);
  });
  return 0;
}
