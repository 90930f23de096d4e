#include "amva/eval/identities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "amva/error.hpp"
#include "amva/eval/comparisons.hpp"
#include "amva/io/record_lines.hpp"
#include "amva/store/path_matcher.hpp"

namespace amva::eval {
namespace fs = std::filesystem;
namespace {

void read_label_file(const fs::path& file, const store::PathMatcher& matcher, std::vector<std::string>& names) {
  io::for_each_record(file, "labels", "path identity", [&](const std::vector<std::string>& t, int line) {
    const auto m = matcher.find(t[0]);
    if (m.how != store::PathMatcher::How::Path && m.how != store::PathMatcher::How::Name) return;
    for (const auto row : matcher.rows(m.key)) {
      auto& name = names[static_cast<std::size_t>(row)];
      if (!name.empty() && name != t[1]) {
        throw Error(ErrorCode::Parse, fmt::format("{}:{}: {} is given two identities, '{}' and '{}'", file.string(),
                                                  line, t[0], name, t[1]));
      }
      name = t[1];
    }
  });
}

// Connected components of the images that mated pairs join; names "pair-component-<row>".
void components_of_mated_pairs(const std::vector<Pair>& pairs, const store::PathMatcher& matcher,
                               std::vector<std::string>& names) {
  std::vector<std::size_t> parent(names.size());
  std::iota(parent.begin(), parent.end(), 0);
  const auto root = [&](std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  const auto row_of = [&](const std::string& key) -> std::int64_t {
    const auto m = matcher.find(key);
    if (m.how != store::PathMatcher::How::Path && m.how != store::PathMatcher::How::Name) return -1;
    return matcher.rows(m.key).front();
  };
  std::vector<bool> seen(names.size(), false);
  for (const auto& p : pairs) {
    const auto a = row_of(p.a);
    const auto b = row_of(p.b);
    for (const auto r : {a, b}) {
      if (r >= 0) seen[static_cast<std::size_t>(r)] = true;
    }
    if (p.mated && a >= 0 && b >= 0) parent[root(static_cast<std::size_t>(a))] = root(static_cast<std::size_t>(b));
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (seen[i]) names[i] = fmt::format("pair-component-{:09d}", root(i));
  }
}

}  // namespace

std::size_t Identities::known_rows() const {
  return static_cast<std::size_t>(std::count_if(of_row.begin(), of_row.end(), [](auto v) { return v >= 0; }));
}

namespace {

// Identities numbered in the sorted order of their names ("" = unknown).
Identities number_identities(const std::vector<std::string>& names, std::string description) {
  Identities ids;
  ids.description = std::move(description);
  std::map<std::string, std::int64_t> number;
  for (const auto& n : names) {
    if (!n.empty()) number.emplace(n, 0);
  }
  for (auto& [name, k] : number) {
    k = static_cast<std::int64_t>(ids.names.size());
    ids.names.push_back(name);
  }
  ids.of_row.assign(names.size(), -1);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!names[i].empty()) ids.of_row[i] = number[names[i]];
  }
  return ids;
}

}  // namespace

std::int64_t Identities::unit_of(std::size_t row) const {
  const auto id = row < of_row.size() ? of_row[row] : -1;
  return id >= 0 ? id : -2 - static_cast<std::int64_t>(row);
}

BootstrapUnit parse_bootstrap_unit(const std::string& text) {
  if (text == "auto") return BootstrapUnit::Auto;
  if (text == "image") return BootstrapUnit::Image;
  if (text == "identity") return BootstrapUnit::Identity;
  throw Error(ErrorCode::InvalidArgument, fmt::format("bootstrap unit '{}': use auto, image or identity", text));
}

bool resamples_identities(BootstrapUnit unit, const Identities& identities) {
  if (unit == BootstrapUnit::Identity && identities.count() == 0) {
    throw Error(ErrorCode::InvalidArgument,
                "an identity bootstrap needs identities: give --labels FILE, --labels-from-folders or --pairs FILE");
  }
  return unit == BootstrapUnit::Identity || (unit == BootstrapUnit::Auto && identities.count() > 0);
}

Identities identities_from_pairs(const std::vector<store::IndexEntry>& index, const std::vector<Pair>& pairs,
                                 const fs::path& file) {
  std::vector<std::string> names(index.size());
  const store::PathMatcher matcher(index);
  const bool named = std::all_of(pairs.begin(), pairs.end(),
                                 [](const Pair& p) { return !p.identity_a.empty() && !p.identity_b.empty(); });
  if (!named) {
    components_of_mated_pairs(pairs, matcher, names);
    return number_identities(
        names, fmt::format("identities from {}: images joined by mated pairs are one person", file.string()));
  }
  for (const auto& p : pairs) {
    for (const auto& [key, who] : {std::pair{&p.a, &p.identity_a}, {&p.b, &p.identity_b}}) {
      const auto m = matcher.find(*key);
      if (m.how != store::PathMatcher::How::Path && m.how != store::PathMatcher::How::Name) continue;
      for (const auto row : matcher.rows(m.key)) names[static_cast<std::size_t>(row)] = *who;
    }
  }
  return number_identities(names, fmt::format("identities named in {}", file.string()));
}

bool folders_name_people(const std::vector<store::IndexEntry>& index) {
  std::map<std::string, std::size_t> faces_in;
  for (const auto& e : index) {
    if (!e.ok) continue;
    const auto folder = fs::path(e.path).parent_path().string();
    if (folder.empty()) return false;
    faces_in[folder] += 1;
  }
  if (faces_in.size() < 2) return false;
  return std::any_of(faces_in.begin(), faces_in.end(), [](const auto& f) { return f.second >= 2; });
}

Identities read_identities(const std::vector<store::IndexEntry>& index, const IdentitySource& source) {
  if (source.labels.empty() && !source.from_folders && !source.pairs.empty()) {
    return identities_from_pairs(index, read_pairs(source.pairs), source.pairs);
  }
  std::vector<std::string> names(index.size());
  std::string description;
  if (!source.labels.empty()) {
    read_label_file(source.labels, store::PathMatcher(index), names);
    description = fmt::format("identities from {}", source.labels.string());
  } else if (source.from_folders) {
    for (std::size_t i = 0; i < index.size(); ++i) names[i] = fs::path(index[i].path).parent_path().string();
    description = "identities from parent folders";
  }
  return number_identities(names, std::move(description));
}

Identities find_identities(const std::vector<store::IndexEntry>& index, IdentitySource source,
                           bool from_evident_folders) {
  if (source.empty() && from_evident_folders && folders_name_people(index)) source.from_folders = true;
  return source.empty() ? Identities{} : read_identities(index, source);
}

}  // namespace amva::eval
