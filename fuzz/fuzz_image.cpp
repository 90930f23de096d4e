// The image decode path: header probe (dimensions before decoding) and decoding to 8-bit BGR.
#include <vector>

#include "amva/io/image_io.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<unsigned char> bytes(data, data + size);
  amva::fuzz::expect_amva_errors_only([&] {
    (void)amva::io::header_dimensions(bytes);
    // A small pixel limit keeps each run fast; the limit's check is what is under test.
    (void)amva::io::decode_bgr(bytes, "input", std::size_t{1} << 20);
  });
  return 0;
}
