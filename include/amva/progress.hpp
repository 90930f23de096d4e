#pragma once
// What long work tells whoever runs it: stage messages ("[3/6] activation map variation
// analysis ...") and how much of a counted stage ("extract", "explain") is done. The library
// never prints; the CLI turns these into stage lines and progress bars. One shape for every
// command, so that a stage moves from one command into another (amva run holds them all)
// without a new callback.
#include <cstddef>
#include <functional>
#include <string>
#include <utility>

namespace amva {

struct Progress {
  std::function<void(const std::string& message)> on_stage;
  std::function<void(const std::string& stage, std::size_t done, std::size_t total)> on_count;

  void stage(const std::string& message) const {
    if (on_stage) on_stage(message);
  }
  void count(const std::string& stage, std::size_t done, std::size_t total) const {
    if (on_count) on_count(stage, done, total);
  }
  /// This progress with every count reported as stage `name` (a study's "explain" of the
  /// reference's faces is its "explain maps").
  [[nodiscard]] Progress counting_as(std::string name) const {
    Progress p;
    p.on_stage = on_stage;
    if (on_count) {
      p.on_count = [inner = on_count, name = std::move(name)](const std::string&, std::size_t done,
                                                               std::size_t total) { inner(name, done, total); };
    }
    return p;
  }
};

}  // namespace amva
