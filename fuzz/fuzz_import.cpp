// amva import's inputs: a list of image paths against a stack of maps. The first byte chooses
// which of the two is the fuzzed input (the other is a fixed valid one): any list, any .npy.
#include <vector>

#include "amva/io/npy.hpp"
#include "amva/store/import.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool fuzz_list = data[0] % 2 == 0;
  const auto input = amva::fuzz::write_input(data + 1, size - 1, fuzz_list ? "import/list.txt" : "import/maps.npy");
  amva::store::MapsImport o;
  o.maps = fuzz_list ? amva::fuzz::scratch() / "import/valid.npy" : input;
  o.list = fuzz_list ? input : amva::fuzz::scratch() / "import/valid.txt";
  o.out = amva::fuzz::scratch() / "import/store";
  if (!std::filesystem::exists(amva::fuzz::scratch() / "import/valid.npy")) {
    const std::vector<float> maps(3 * 2 * 2, 0.5f);
    amva::io::write_npy(amva::fuzz::scratch() / "import/valid.npy", {3, 2, 2}, maps.data());
    const std::uint8_t list[] = "a.jpg\nb.jpg\nc.jpg\n";
    amva::fuzz::write_input(list, sizeof(list) - 1, "import/valid.txt");
  }
  std::filesystem::remove_all(o.out);
  amva::fuzz::expect_amva_errors_only([&] { amva::store::import_maps(o); });
  return 0;
}
