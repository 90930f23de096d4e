#pragma once
// Comparisons between a store's faces: from pair files or from identity labels, scored by
// the cosine similarity of their embeddings.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "amva/eval/identities.hpp"
#include "amva/eval/pairs.hpp"
#include "amva/io/npy.hpp"
#include "amva/store/store.hpp"

namespace amva::eval {

struct Comparison {
  std::int64_t a = 0;  // store rows
  std::int64_t b = 0;
  bool mated = false;
  double score = 0;  // cosine similarity
};

struct ComparisonSet {
  std::vector<Comparison> comparisons;
  std::size_t requested = 0;          // pairs given, or generated from labels
  std::vector<std::string> excluded;  // "path: why" for every pair left out
  std::string source;                 // where the pairs came from, in words
  [[nodiscard]] std::size_t mated() const;
  [[nodiscard]] std::size_t nonmated() const { return comparisons.size() - mated(); }
};

/// The mated or the non-mated comparisons of a set, in the set's order, as an EDC takes them:
/// where each lies in the set, its similarity and its two faces (store rows).
struct ComparisonsOfKind {
  std::vector<std::size_t> index;
  std::vector<double> similarity;
  std::vector<std::pair<std::size_t, std::size_t>> faces;
};
ComparisonsOfKind comparisons_of_kind(const ComparisonSet& set, bool mated);

/// `a b is_same` lines (separated by whitespace, comma or tab; is_same 1/0, true/false,
/// same/different); '#' starts a comment. Throws Error(Parse) naming the file and line.
std::vector<Pair> read_pair_list(const std::filesystem::path& file);

/// LFW's pairs.txt (a first line "folds pairs_per_class") or a pair list, told apart by the
/// first line.
std::vector<Pair> read_pairs(const std::filesystem::path& file);

/// Scores the pairs whose images both have a face in the store (the first face of each
/// image); the others are listed in `excluded` with the reason.
ComparisonSet compare_pairs(const std::vector<store::IndexEntry>& index, const io::NpyArray& embeddings,
                            const std::vector<Pair>& pairs);

/// Every mated pair of faces with the same identity, and up to `max_nonmated` non-mated pairs
/// drawn uniformly without repetition (std::mt19937_64 with `seed`), from `identities`
/// (read_identities: a labels file or parent folders). Faces without an identity are left
/// out (counted in `excluded`).
ComparisonSet compare_by_identity(const std::vector<store::IndexEntry>& index, const io::NpyArray& embeddings,
                                  const Identities& identities, std::size_t max_nonmated, std::uint64_t seed);

}  // namespace amva::eval
