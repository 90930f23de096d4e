#pragma once
// Finding store images for paths that other tools wrote (score files, pair lists, labels).
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "amva/store/store.hpp"

namespace amva::store {

/// Matches a path to a store key: (1) by relative path: equal, or one is a component-wise
/// suffix of the other ("lfw/A/A_0001.jpg" matches "A/A_0001.jpg"); (2) else by file name.
/// Backslashes count as slashes and a leading "./" is ignored.
class PathMatcher {
 public:
  explicit PathMatcher(const std::vector<IndexEntry>& index);

  enum class How { Path, Name, Ambiguous, None };
  struct Match {
    How how = How::None;
    std::string key;  // the store key when matched
  };
  [[nodiscard]] Match find(const std::string& path) const;
  /// Store rows of a key (several for several faces of one image), ascending.
  [[nodiscard]] const std::vector<std::int64_t>& rows(const std::string& key) const { return rows_.at(key); }

 private:
  std::unordered_map<std::string, std::vector<std::int64_t>> rows_;
  std::unordered_map<std::string, std::vector<std::string>> by_tail_;  // last two components -> keys
  std::unordered_map<std::string, std::vector<std::string>> by_name_;  // file name -> keys
};

}  // namespace amva::store
