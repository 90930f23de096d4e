// reference.json of a reference_<method>/ folder (with valid maps beside it, so that the
// checks after the JSON are reached).
#include <vector>

#include "amva/analysis/reference.hpp"
#include "amva/io/npy.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path dir = [] {
    const auto d = amva::fuzz::scratch() / "reference_x";
    std::filesystem::create_directories(d);
    std::vector<float> map(112 * 112);
    for (std::size_t i = 0; i < map.size(); ++i) map[i] = static_cast<float>(i % 113) / 113.0f;
    amva::io::write_npy(d / "mam.npy", {112, 112}, map.data());
    amva::io::write_npy(d / "amv.npy", {112, 112}, map.data());
    return d;
  }();
  (void)amva::fuzz::write_input(data, size, "reference_x/reference.json");
  amva::fuzz::expect_amva_errors_only([&] { (void)amva::analysis::read_reference(dir); });
  return 0;
}
