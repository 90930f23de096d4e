// Image list files: one path per line, comments, `path<TAB>identity`.
#include "amva/io/image_list.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = amva::fuzz::write_input(data, size, "list/images.txt");
  amva::fuzz::expect_amva_errors_only([&] {
    std::vector<std::string> skipped;
    for (const auto& entry : amva::io::list_images(file, &skipped)) {
      (void)amva::io::resolve_key(file, entry.key);
    }
  });
  return 0;
}
