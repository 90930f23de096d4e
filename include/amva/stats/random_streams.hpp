#pragma once
// Seeds derived from one user seed and a name, so that each consumer (a quality group's
// bootstrap, a tie break) draws from its own stream: the same on every platform and run, and
// independent of the others. std::hash is implementation-defined, hence FNV-1a and SplitMix64.
#include <cstdint>
#include <string_view>

namespace amva::stats {

/// SplitMix64's finaliser: a bijective mix of all 64 bits.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// FNV-1a of the bytes of `text`.
constexpr std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

/// The seed of the stream named `name` under the user's `seed`.
constexpr std::uint64_t stream_seed(std::uint64_t seed, std::string_view name) {
  return mix64(seed ^ mix64(fnv1a(name)));
}

}  // namespace amva::stats
