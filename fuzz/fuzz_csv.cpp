// index.csv and every CSV amva reads (quality.csv, deviations.csv, score files): the RFC 4180
// reader, and index rows parsed as store records.
#include "amva/io/csv.hpp"
#include "amva/store/record.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = amva::fuzz::write_input(data, size, "index.csv");
  amva::fuzz::expect_amva_errors_only([&] {
    amva::io::CsvReader reader(file, 0);
    std::vector<std::string> fields;
    while (reader.next(fields)) {
      if (fields.size() == amva::store::index_columns().size()) {
        (void)amva::store::record_from_fields(fields, "index.csv");
      }
    }
  });
  return 0;
}
