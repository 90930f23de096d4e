// External FIQA score files (`path score` lines, or CSV with a header), matched to a store.
#include "amva/quality/scores.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<amva::store::IndexEntry> index = {{"Aaron/Aaron_0001.jpg", true},
                                                             {"Aaron/Aaron_0002.jpg", true},
                                                             {"Bea/Bea_0001.jpg", true},
                                                             {"Bea/Bea_0001.jpg", true},
                                                             {"x.png", false},
                                                             {"dir with space/y z.jpg", true}};
  const auto file = amva::fuzz::write_input(data, size, "scores.csv");
  amva::fuzz::expect_amva_errors_only([&] {
    amva::quality::ScoreFileSpec spec;
    spec.file = file;
    amva::quality::ScoreMatchReport report;
    (void)amva::quality::load_external_scores(spec, index, size % 2 == 1, 0.0, report);
    (void)report.describe();
  });
  return 0;
}
