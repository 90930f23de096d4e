// A store's meta.json, and the settings comparison every growing run makes with it.
#include "amva/store/store.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = amva::fuzz::write_input(data, size, "store/meta.json");
  amva::fuzz::expect_amva_errors_only([&] {
    const auto meta = amva::store::read_meta(file.parent_path());
    (void)amva::store::settings_mismatch(meta, {{"settings", {{"model_sha256", "x"}}}});
  });
  return 0;
}
