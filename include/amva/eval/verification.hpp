#pragma once
// Verification accuracy from stored embeddings, as the LFW protocol defines it.
#include <string>
#include <vector>

#include "amva/eval/pairs.hpp"
#include "amva/store/store.hpp"

namespace amva::eval {

struct ScoredPairs {
  std::vector<double> scores;  // cosine similarity
  std::vector<bool> mated;
  std::vector<int> folds;
  std::vector<std::string> missing;  // image keys of pairs left out (absent or failed)
};

/// Cosine similarity of the stored embeddings of each pair; pairs naming an image that is
/// not in the store or has no embedding are left out and listed in `missing`.
ScoredPairs score_pairs(const store::Table& table, const std::vector<Pair>& pairs);

struct FoldAccuracy {
  double mean = 0;
  double std = 0;  // over folds
  std::vector<double> per_fold;
  std::vector<double> thresholds;
};

/// k-fold accuracy: for each fold, the threshold that maximises accuracy on the other folds
/// (midpoints between sorted scores), applied to that fold.
FoldAccuracy kfold_accuracy(const ScoredPairs& scored);

}  // namespace amva::eval
