#pragma once
// Arrays of numbers through a team's byte collectives, for the analysis's shared steps.
#include <cstring>
#include <string>
#include <vector>

#include "amva/team.hpp"

namespace amva::analysis {

/// Collective: every rank's `mine`, concatenated in rank order, on the root; empty elsewhere.
template <typename T>
std::vector<T> gathered_on_root(Team& team, const std::vector<T>& mine) {
  const auto parts = team.gather(std::string(reinterpret_cast<const char*>(mine.data()), mine.size() * sizeof(T)));
  std::size_t bytes = 0;
  for (const auto& p : parts) bytes += p.size();
  std::vector<T> all(bytes / sizeof(T));
  std::size_t at = 0;
  for (const auto& p : parts) {
    if (!p.empty()) std::memcpy(reinterpret_cast<char*>(all.data()) + at, p.data(), p.size());  // a rank's empty slice
    at += p.size();
  }
  return all;
}

}  // namespace amva::analysis
