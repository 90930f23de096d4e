// A store's meta.json, its round trip, and the settings comparison every growing run makes with it.
#include "amva/io/json_fields.hpp"
#include "amva/store/store.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = amva::fuzz::write_input(data, size, "store/meta.json");
  amva::fuzz::expect_amva_errors_only([&] {
    const auto meta = amva::store::read_meta(file.parent_path());
    (void)amva::store::settings_mismatch(meta,
                                         amva::store::StoreMeta::from_json({{"settings", {{"model_sha256", "x"}}}}));
    // What is read is written back as it was: a resumed or merged store loses no field.
    if (meta.to_json() != amva::io::parse_json_file(file)) __builtin_trap();
  });
  return 0;
}
