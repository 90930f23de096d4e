#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "amva/error.hpp"
#include "amva/io/npy.hpp"
#include "support.hpp"

using namespace amva;

TEST(Npy, RoundTripAndNumpyReadsTheSameBits) {
  test::TempDir dir;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> data(5 * 3 * 4);
  for (auto& v : data) v = normal(rng);
  data[3] = std::numeric_limits<float>::quiet_NaN();
  io::write_npy(dir / "a.npy", {5, 3, 4}, data.data());

  const auto back = io::read_npy(dir / "a.npy");
  EXPECT_EQ(back.shape, (std::vector<std::int64_t>{5, 3, 4}));
  ASSERT_EQ(back.data.size(), data.size());
  EXPECT_EQ(std::memcmp(back.data.data(), data.data(), data.size() * sizeof(float)), 0);

  // NumPy loads the file and writes the raw bytes back; they must be ours, bit for bit.
  const auto [rc, out] = test::run(
      fmt::format("{} -c \"import numpy as n; a=n.load('{}'); assert a.dtype==n.float32 and a.shape==(5,3,4) and "
                  "a.flags.c_contiguous; a.tofile('{}')\"",
                  test::python(), (dir / "a.npy").string(), (dir / "raw.bin").string()));
  ASSERT_EQ(rc, 0) << out;
  std::ifstream raw(dir / "raw.bin", std::ios::binary);
  std::vector<float> numpy_data(data.size());
  raw.read(reinterpret_cast<char*>(numpy_data.data()), static_cast<std::streamsize>(data.size() * sizeof(float)));
  EXPECT_EQ(std::memcmp(numpy_data.data(), data.data(), data.size() * sizeof(float)), 0);
}

TEST(Npy, ReadsWhatNumpyWrites) {
  test::TempDir dir;
  const auto [rc, out] =
      test::run(fmt::format("{} -c \"import numpy as n; n.save('{}', n.arange(6, dtype=n.float32).reshape(2,3))\"",
                            test::python(), (dir / "b.npy").string()));
  ASSERT_EQ(rc, 0) << out;
  const auto a = io::read_npy(dir / "b.npy");
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(a.data, (std::vector<float>{0, 1, 2, 3, 4, 5}));
}

TEST(Npy, RejectsOtherDtypes) {
  test::TempDir dir;
  const auto [rc, out] = test::run(
      fmt::format("{} -c \"import numpy as n; n.save('{}', n.zeros(3))\"", test::python(), (dir / "d.npy").string()));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_THROW(io::read_npy(dir / "d.npy"), Error);
}
