// .npy arrays: the store's embeddings and maps, and the reference maps.
#include "amva/io/npy.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = amva::fuzz::write_input(data, size, "array.npy");
  amva::fuzz::expect_amva_errors_only([&] { (void)amva::io::read_npy(file); });
  return 0;
}
