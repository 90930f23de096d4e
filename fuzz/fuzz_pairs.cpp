// LFW pairs.txt and `a b is_same` pair lists, and the identities they give a store's images.
#include "amva/eval/identities.hpp"
#include "amva/eval/pairs.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<amva::store::IndexEntry> index = {
      {"Aaron/Aaron_0001.jpg", true}, {"Aaron/Aaron_0002.jpg", true}, {"Bea/Bea_0001.jpg", true}, {"c.jpg", true}};
  const auto file = amva::fuzz::write_input(data, size, "pairs.txt");
  amva::fuzz::expect_amva_errors_only([&] { (void)amva::eval::read_lfw_pairs(file); });
  amva::fuzz::expect_amva_errors_only([&] {
    amva::eval::IdentitySource source;
    source.pairs = file;
    (void)amva::eval::read_identities(index, source);
  });
  return 0;
}
