#pragma once
// Synthetic faces of several people for the permutation and calibration tests.
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace amva::test {

// Faces of `people` persons, `per_person` each: every person has a map style of its own (its
// mean map and its own spread), as faces of one person share pose, lighting and camera.
struct People {
  std::vector<float> maps;
  std::vector<std::int64_t> identity;  // per face
};
inline People people_maps(int people, int per_person, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::normal_distribution<float> n01(0.f, 1.f);
  People p;
  for (int person = 0; person < people; ++person) {
    std::vector<float> style(49);
    for (auto& v : style) v = u(rng);
    const float spread = 0.05f + 0.6f * u(rng) * u(rng);
    for (int i = 0; i < per_person; ++i) {
      for (int k = 0; k < 49; ++k)
        p.maps.push_back(std::max(0.f, style[static_cast<std::size_t>(k)] + spread * n01(rng)));
      p.identity.push_back(person);
    }
  }
  return p;
}

}  // namespace amva::test
