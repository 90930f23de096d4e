#include "amva/store/path_matcher.hpp"

#include <algorithm>
#include <sstream>

namespace amva::store {
namespace {

std::string normalize_path(std::string p) {
  std::replace(p.begin(), p.end(), '\\', '/');
  while (p.starts_with("./")) p.erase(0, 2);
  return p;
}

std::vector<std::string> components(const std::string& p) {
  std::vector<std::string> parts;
  std::stringstream in(p);
  for (std::string part; std::getline(in, part, '/');) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

std::string last_components(const std::vector<std::string>& parts, std::size_t k) {
  std::string s;
  for (std::size_t i = parts.size() - std::min(k, parts.size()); i < parts.size(); ++i) {
    if (!s.empty()) s += '/';
    s += parts[i];
  }
  return s;
}

bool is_suffix(const std::vector<std::string>& longer, const std::vector<std::string>& shorter) {
  return shorter.size() <= longer.size() && std::equal(shorter.rbegin(), shorter.rend(), longer.rbegin());
}

}  // namespace

PathMatcher::PathMatcher(const std::vector<IndexEntry>& index) {
  for (std::size_t i = 0; i < index.size(); ++i) {
    const auto key = normalize_path(index[i].path);
    auto [it, inserted] = rows_.try_emplace(key);
    it->second.push_back(static_cast<std::int64_t>(i));
    if (!inserted) continue;
    const auto parts = components(key);
    if (parts.empty()) continue;
    by_tail_[last_components(parts, 2)].push_back(key);
    by_name_[parts.back()].push_back(key);
  }
}

PathMatcher::Match PathMatcher::find(const std::string& raw) const {
  const auto p = normalize_path(raw);
  if (rows_.count(p)) return {How::Path, p};
  const auto parts = components(p);
  if (parts.empty()) return {};
  if (parts.size() >= 2) {
    std::vector<std::string> hits;
    if (auto it = by_tail_.find(last_components(parts, 2)); it != by_tail_.end()) {
      for (const auto& key : it->second) {
        const auto kp = components(key);
        if (is_suffix(kp, parts) || is_suffix(parts, kp)) hits.push_back(key);
      }
    }
    if (hits.size() == 1) return {How::Path, hits.front()};
    if (hits.size() > 1) return {How::Ambiguous, {}};
  }
  if (auto it = by_name_.find(parts.back()); it != by_name_.end()) {
    if (it->second.size() == 1) return {How::Name, it->second.front()};
    return {How::Ambiguous, {}};
  }
  return {};
}

}  // namespace amva::store
