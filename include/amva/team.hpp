#pragma once
// The processes that share one run. One process is a team of one; under `mpirun -n N` the CLI
// makes a team of N ranks (apps/amva/mpi_team.cpp): extraction and quality hand out their
// blocks of images through it, and the analysis shares each group's maps among its ranks. The
// library itself does not depend on MPI.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "amva/error.hpp"

namespace amva {

class Team {
 public:
  virtual ~Team() = default;
  [[nodiscard]] virtual int rank() const = 0;
  [[nodiscard]] virtual int size() const = 0;
  [[nodiscard]] bool is_root() const { return rank() == 0; }

  /// Collective: starts a round of blocks numbered from 0.
  virtual void begin_blocks() = 0;
  /// The next block no rank has claimed in this round: each rank asks when it has finished
  /// its last one, so that a slow rank never holds the others back.
  virtual std::size_t claim_block() = 0;
  /// Adds `images` to the round's finished count and returns the count over all ranks.
  virtual std::size_t add_finished(std::size_t images) = 0;
  /// Collective: ends the round.
  virtual void end_blocks() = 0;

  /// Collective: the root's `text` on every rank.
  virtual std::string broadcast(const std::string& text) = 0;
  /// Collective: every rank's `text`, in rank order, on the root; empty on the other ranks.
  virtual std::vector<std::string> gather(const std::string& text) = 0;
  /// Collective: every rank's `bytes` folded into one on the root by `merge(lower ranks',
  /// higher ranks')`, which must be associative; empty on the other ranks. It runs as a binary
  /// tree, so no rank holds more than two partial results however many ranks there are.
  using Merge = std::function<std::string(std::string lower, const std::string& higher)>;
  virtual std::string reduce(std::string bytes, const Merge& merge) = 0;
  /// Ends every rank of the job with `message` (naming this rank): a rank that cannot go on
  /// must not leave the others waiting. A team of one throws Error(Io) with it instead.
  [[noreturn]] virtual void abort(const std::string& message) = 0;
};

/// A team of one process.
std::unique_ptr<Team> solo_team();

/// Runs `decide` on the root only (opening the store, taking its lock, planning the work) and
/// gives its text to every rank. An exception it throws is rethrown on the root and thrown as
/// a RootError with the same code (Io for one that is not an Error) and message on the other
/// ranks, so that all stop together.
std::string decided_by_root(Team& team, const std::function<std::string()>& decide);

/// The work of a whole team split into blocks of items [first, last): each rank runs `work` on
/// the blocks it claims until none is left, or until `work` returns false (that block is left
/// undone: a run stopped early). A rank whose work throws aborts the team (a team of one
/// rethrows). `finished(n)` gets the items all ranks have finished, after each block.
void share_blocks(Team& team, std::size_t items, std::size_t block,
                  const std::function<bool(std::size_t first, std::size_t last)>& work,
                  const std::function<void(std::size_t all_finished)>& finished = {});

/// An error the root met and broadcast: every rank throws it, and only the root reports it
/// (the CLI's other ranks then exit 0, so that the root's exit code is the job's and the
/// launcher does not end the root before it has said why).
class RootError : public Error {
 public:
  using Error::Error;
};

}  // namespace amva
