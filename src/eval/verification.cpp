#include "amva/eval/verification.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "amva/error.hpp"

namespace amva::eval {

ScoredPairs score_pairs(const store::Table& table, const std::vector<Pair>& pairs) {
  std::unordered_map<std::string, std::size_t> row_of;
  for (std::size_t i = 0; i < table.records.size(); ++i) {
    if (table.records[i].ok && table.records[i].face <= 0) row_of.emplace(table.records[i].path, i);
  }
  const auto& emb = table.array(store::kEmbeddings);
  const std::size_t d = emb.row_size();
  ScoredPairs out;
  for (const auto& p : pairs) {
    const auto a = row_of.find(p.a);
    const auto b = row_of.find(p.b);
    if (a == row_of.end() || b == row_of.end()) {
      out.missing.push_back(a == row_of.end() ? p.a : p.b);
      continue;
    }
    const float* x = emb.row(a->second);
    const float* y = emb.row(b->second);
    double xy = 0, xx = 0, yy = 0;
    for (std::size_t k = 0; k < d; ++k) {
      xy += double(x[k]) * y[k];
      xx += double(x[k]) * x[k];
      yy += double(y[k]) * y[k];
    }
    out.scores.push_back(xy / std::sqrt(xx * yy));
    out.mated.push_back(p.mated);
    out.folds.push_back(p.fold);
  }
  return out;
}

namespace {
double accuracy_at(const ScoredPairs& s, const std::vector<std::size_t>& idx, double threshold) {
  std::size_t correct = 0;
  for (std::size_t i : idx) correct += (s.scores[i] > threshold) == s.mated[i];
  return idx.empty() ? 0 : double(correct) / idx.size();
}

double best_threshold(const ScoredPairs& s, const std::vector<std::size_t>& idx) {
  std::vector<double> sorted;
  for (std::size_t i : idx) sorted.push_back(s.scores[i]);
  std::sort(sorted.begin(), sorted.end());
  double best = sorted.front() - 1e-6;
  double best_acc = accuracy_at(s, idx, best);
  for (std::size_t k = 0; k + 1 < sorted.size(); ++k) {
    const double t = 0.5 * (sorted[k] + sorted[k + 1]);
    const double acc = accuracy_at(s, idx, t);
    if (acc > best_acc) {
      best_acc = acc;
      best = t;
    }
  }
  return best;
}
}  // namespace

FoldAccuracy kfold_accuracy(const ScoredPairs& s) {
  FoldAccuracy r;
  const int folds = s.folds.empty() ? 0 : *std::max_element(s.folds.begin(), s.folds.end()) + 1;
  // Each fold's threshold is fitted on the others: one fold leaves nothing to fit it on.
  if (folds < 2) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{} fold(s) of pairs: k-fold accuracy needs at least 2 (LFW's pairs.txt has 10)", folds));
  }
  for (int f = 0; f < folds; ++f) {
    std::vector<std::size_t> train;
    std::vector<std::size_t> test;
    for (std::size_t i = 0; i < s.scores.size(); ++i) (s.folds[i] == f ? test : train).push_back(i);
    if (train.empty() || test.empty()) continue;
    const double t = best_threshold(s, train);
    r.thresholds.push_back(t);
    r.per_fold.push_back(accuracy_at(s, test, t));
  }
  if (r.per_fold.empty()) return r;
  r.mean = std::accumulate(r.per_fold.begin(), r.per_fold.end(), 0.0) / r.per_fold.size();
  double ss = 0;
  for (double a : r.per_fold) ss += (a - r.mean) * (a - r.mean);
  r.std = std::sqrt(ss / r.per_fold.size());
  return r;
}

}  // namespace amva::eval
