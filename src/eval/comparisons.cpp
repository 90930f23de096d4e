#include "amva/eval/comparisons.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <unordered_map>

#include "amva/error.hpp"
#include "amva/eval/identities.hpp"
#include "amva/io/input_file.hpp"
#include "amva/io/record_lines.hpp"
#include "amva/store/path_matcher.hpp"

namespace amva::eval {
namespace fs = std::filesystem;
namespace {

double cosine(const io::NpyArray& e, std::int64_t a, std::int64_t b) {
  const auto d = static_cast<std::size_t>(e.row_size());
  const float* x = e.data.data() + static_cast<std::size_t>(a) * d;
  const float* y = e.data.data() + static_cast<std::size_t>(b) * d;
  double xy = 0, xx = 0, yy = 0;
  for (std::size_t k = 0; k < d; ++k) {
    xy += static_cast<double>(x[k]) * y[k];
    xx += static_cast<double>(x[k]) * x[k];
    yy += static_cast<double>(y[k]) * y[k];
  }
  return xy / std::sqrt(xx * yy);
}

// A row marked ok whose embedding is NaN, infinite or zero has no cosine with anything; left
// in, it would turn the threshold and every error rate into noise without a word.
bool usable_embedding(const io::NpyArray& e, std::int64_t row) {
  const auto d = static_cast<std::size_t>(e.row_size());
  const float* x = e.data.data() + static_cast<std::size_t>(row) * d;
  double norm = 0;
  for (std::size_t k = 0; k < d; ++k) {
    if (!std::isfinite(x[k])) return false;
    norm += static_cast<double>(x[k]) * x[k];
  }
  return norm > 0;
}

void check_embeddings(const std::vector<store::IndexEntry>& index, const io::NpyArray& e) {
  if (e.rows() != static_cast<std::int64_t>(index.size()) || e.row_size() <= 0) {
    throw Error(ErrorCode::Mismatch,
                fmt::format("embeddings have {} rows but index.csv has {}", e.rows(), index.size()));
  }
}

}  // namespace

ComparisonsOfKind comparisons_of_kind(const ComparisonSet& set, bool mated) {
  ComparisonsOfKind kind;
  for (std::size_t i = 0; i < set.comparisons.size(); ++i) {
    const auto& c = set.comparisons[i];
    if (c.mated != mated) continue;
    kind.index.push_back(i);
    kind.similarity.push_back(c.score);
    kind.faces.emplace_back(static_cast<std::size_t>(c.a), static_cast<std::size_t>(c.b));
  }
  return kind;
}

std::size_t ComparisonSet::mated() const {
  return static_cast<std::size_t>(
      std::count_if(comparisons.begin(), comparisons.end(), [](const auto& c) { return c.mated; }));
}

std::vector<Pair> read_pair_list(const fs::path& file) {
  std::vector<Pair> pairs;
  io::for_each_record(file, "pair list", "path_a path_b is_same", [&](const std::vector<std::string>& t, int number) {
    std::string flag = t[2];
    std::transform(flag.begin(), flag.end(), flag.begin(), [](unsigned char c) { return std::tolower(c); });
    bool mated = false;
    if (flag == "1" || flag == "true" || flag == "same") {
      mated = true;
    } else if (!(flag == "0" || flag == "false" || flag == "different")) {
      if (number == 1 && pairs.empty()) return;  // a header line
      throw Error(ErrorCode::Parse, fmt::format("{}:{}: is_same must be 1/0, true/false or same/different, got '{}'",
                                                file.string(), number, t[2]));
    }
    pairs.push_back({t[0], t[1], mated, 0, {}, {}});
  });
  if (pairs.empty()) throw Error(ErrorCode::Parse, fmt::format("{}: no pairs", file.string()));
  return pairs;
}

std::vector<Pair> read_pairs(const fs::path& file) {
  auto in = io::open_input(file, "pairs file");
  std::string first;
  std::getline(in, first);
  const auto t = io::record_fields(first);
  const auto is_count = [](const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
  };
  if (t.size() == 2 && is_count(t[0]) && is_count(t[1])) return read_lfw_pairs(file);
  return read_pair_list(file);
}

ComparisonSet compare_pairs(const std::vector<store::IndexEntry>& index, const io::NpyArray& embeddings,
                            const std::vector<Pair>& pairs) {
  check_embeddings(index, embeddings);
  const store::PathMatcher matcher(index);
  ComparisonSet set;
  set.requested = pairs.size();
  const auto row_of = [&](const std::string& key, std::string& why) -> std::int64_t {
    const auto m = matcher.find(key);
    if (m.how == store::PathMatcher::How::None) {
      why = "not in the store";
      return -1;
    }
    if (m.how == store::PathMatcher::How::Ambiguous) {
      why = "matches several store images";
      return -1;
    }
    const auto row = matcher.rows(m.key).front();
    if (!index[static_cast<std::size_t>(row)].ok) {
      why = "extraction failed";
      return -1;
    }
    if (!usable_embedding(embeddings, row)) {
      why = "embedding is NaN, infinite or zero";
      return -1;
    }
    return row;
  };
  struct Resolved {
    std::int64_t a, b;
    bool mated;
  };
  std::vector<Resolved> resolved;
  std::map<std::pair<std::int64_t, std::int64_t>, int> kinds;  // bit 1: listed mated, bit 2: non-mated
  for (const auto& p : pairs) {
    std::string why;
    const auto a = row_of(p.a, why);
    if (a < 0) {
      set.excluded.push_back(fmt::format("{}: {}", p.a, why));
      continue;
    }
    const auto b = row_of(p.b, why);
    if (b < 0) {
      set.excluded.push_back(fmt::format("{}: {}", p.b, why));
      continue;
    }
    if (a == b) {
      set.excluded.push_back(fmt::format("{} | {}: a self-pair (one image compared with itself)", p.a, p.b));
      continue;
    }
    resolved.push_back({a, b, p.mated});
    kinds[std::minmax(a, b)] |= p.mated ? 1 : 2;
  }
  for (const auto& r : resolved) {
    if (kinds[std::minmax(r.a, r.b)] == 3) {
      set.excluded.push_back(fmt::format("{} | {}: listed both as mated and as non-mated",
                                         index[static_cast<std::size_t>(r.a)].path,
                                         index[static_cast<std::size_t>(r.b)].path));
      continue;
    }
    set.comparisons.push_back({r.a, r.b, r.mated, cosine(embeddings, r.a, r.b)});
  }
  return set;
}

ComparisonSet compare_by_identity(const std::vector<store::IndexEntry>& index, const io::NpyArray& embeddings,
                                  const Identities& identities, std::size_t max_nonmated, std::uint64_t seed) {
  check_embeddings(index, embeddings);
  ComparisonSet set;
  set.source = identities.description;
  // The first face of every image that has a face and an identity.
  std::map<std::int64_t, std::vector<std::int64_t>> by_identity;  // in the order of the names
  std::vector<std::int64_t> rows;
  std::vector<std::size_t> owner;  // identity number of each row in `rows`
  std::set<std::string> seen_paths;
  std::size_t unlabelled = 0, unusable = 0;
  for (std::size_t i = 0; i < index.size(); ++i) {
    if (!index[i].ok || !seen_paths.insert(index[i].path).second) continue;
    if (!usable_embedding(embeddings, static_cast<std::int64_t>(i))) {
      ++unusable;
      continue;
    }
    if (identities.of_row[i] < 0) {
      ++unlabelled;
      continue;
    }
    by_identity[identities.of_row[i]].push_back(static_cast<std::int64_t>(i));
  }
  if (unlabelled) set.excluded.push_back(fmt::format("{} faces without an identity", unlabelled));
  if (unusable) set.excluded.push_back(fmt::format("{} faces whose embedding is NaN, infinite or zero", unusable));
  std::size_t id_number = 0;
  for (const auto& [id, members] : by_identity) {
    for (std::size_t x = 0; x < members.size(); ++x) {
      for (std::size_t y = x + 1; y < members.size(); ++y) {
        set.comparisons.push_back({members[x], members[y], true, cosine(embeddings, members[x], members[y])});
      }
      rows.push_back(members[x]);
      owner.push_back(id_number);
    }
    ++id_number;
  }
  // Non-mated pairs: the number that exists, n^2/2 minus the mated ones, bounds the request.
  const auto n = static_cast<double>(rows.size());
  double possible = n * (n - 1) / 2;
  for (const auto& [id, members] : by_identity) {
    possible -= static_cast<double>(members.size()) * static_cast<double>(members.size() - 1) / 2;
  }
  const auto wanted = static_cast<std::size_t>(std::min(static_cast<double>(max_nonmated), possible));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, rows.empty() ? 0 : rows.size() - 1);
  std::set<std::pair<std::size_t, std::size_t>> drawn;
  const std::size_t mated = set.comparisons.size();
  while (drawn.size() < wanted) {
    auto x = pick(rng);
    auto y = pick(rng);
    if (owner[x] == owner[y]) continue;
    if (x > y) std::swap(x, y);
    if (!drawn.insert({x, y}).second) continue;
    set.comparisons.push_back({rows[x], rows[y], false, cosine(embeddings, rows[x], rows[y])});
  }
  set.requested = set.comparisons.size();
  set.source += fmt::format(": {} identities, {} mated pairs (all), {} non-mated drawn with seed {}",
                            by_identity.size(), mated, set.comparisons.size() - mated, seed);
  return set;
}

}  // namespace amva::eval
