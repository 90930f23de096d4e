#include "mpi_team.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>

namespace amva::cli {
namespace {

// Blocks are handed out through two counters on the root (next block, images finished) that
// every rank updates with MPI's atomic fetch-and-add: no rank serves the others, so the root
// works like any other rank and a rank asks for work only when it is free.
class MpiTeam final : public Team {
 public:
  MpiTeam() {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiTeam() override {
    if (window_ != MPI_WIN_NULL) MPI_Win_free(&window_);
    MPI_Finalize();
  }
  MpiTeam(const MpiTeam&) = delete;
  MpiTeam& operator=(const MpiTeam&) = delete;

  [[nodiscard]] int rank() const override { return rank_; }
  [[nodiscard]] int size() const override { return size_; }

  void begin_blocks() override {
    MPI_Win_allocate(rank_ == 0 ? 2 * sizeof(std::uint64_t) : 0, sizeof(std::uint64_t), MPI_INFO_NULL, MPI_COMM_WORLD,
                     &counters_, &window_);
    if (rank_ == 0) counters_[0] = counters_[1] = 0;
    MPI_Barrier(MPI_COMM_WORLD);
  }
  std::size_t claim_block() override { return fetch_add(0, 1); }
  std::size_t add_finished(std::size_t images) override { return fetch_add(1, images) + images; }
  void end_blocks() override {
    MPI_Win_free(&window_);  // collective: every rank has claimed past the last block
    window_ = MPI_WIN_NULL;
  }

  std::string broadcast(const std::string& text) override {
    std::uint64_t n = text.size();
    MPI_Request request = MPI_REQUEST_NULL;
    MPI_Ibcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, &request);
    wait_idle(request);
    std::string out = rank_ == 0 ? text : std::string(n, '\0');
    MPI_Ibcast(out.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD, &request);
    wait_idle(request);
    return out;
  }

  std::vector<std::string> gather(const std::string& text) override {
    const int n = static_cast<int>(text.size());
    std::vector<int> sizes(rank_ == 0 ? static_cast<std::size_t>(size_) : 0);
    MPI_Request request = MPI_REQUEST_NULL;
    MPI_Igather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, MPI_COMM_WORLD, &request);
    wait_idle(request);
    std::vector<int> offsets(sizes.size());
    std::string all;
    if (rank_ == 0) {
      int total = 0;
      for (std::size_t r = 0; r < sizes.size(); ++r) {
        offsets[r] = total;
        total += sizes[r];
      }
      all.resize(static_cast<std::size_t>(total));
    }
    MPI_Igatherv(text.data(), n, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR, 0, MPI_COMM_WORLD,
                 &request);
    wait_idle(request);
    std::vector<std::string> texts;
    for (std::size_t r = 0; r < sizes.size(); ++r) {
      texts.push_back(all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(sizes[r])));
    }
    return texts;
  }

  // Binomial tree: in round k a rank whose bit k is its lowest set bit sends its partial result
  // to the rank 2^k below and drops out; after log2(N) rounds rank 0 holds the fold of all.
  std::string reduce(std::string mine, const Merge& merge) override {
    for (int step = 1; step < size_; step <<= 1) {
      if (rank_ % (2 * step) != 0) {
        send(mine, rank_ - step);
        return {};
      }
      if (rank_ + step < size_) mine = merge(std::move(mine), receive(rank_ + step));
    }
    return mine;
  }

  [[noreturn]] void abort(const std::string& message) override {
    fmt::print(stderr, "amva: error: {}\n", message);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::abort();  // MPI_Abort does not return
  }

 private:
  // OpenMPI's blocking calls spin at full speed while they wait. A rank waiting for the root's
  // next request (or the root for a slower rank's partial result) would take a core from the
  // ranks still working, so a wait that lasts sleeps between tests instead.
  static void wait_idle(MPI_Request& request) {
    int done = 0;
    for (int spins = 0; !done; ++spins) {
      MPI_Test(&request, &done, MPI_STATUS_IGNORE);
      if (!done && spins > 100) std::this_thread::sleep_for(std::chrono::microseconds(spins > 1000 ? 1000 : 50));
    }
  }

  // A partial result can exceed MPI's int count: its size goes first, then pieces of 1 GiB.
  static constexpr std::uint64_t kPiece = std::uint64_t{1} << 30;
  static constexpr int kReduceTag = 7;

  static void send(const std::string& bytes, int to) {
    const std::uint64_t n = bytes.size();
    MPI_Send(&n, 1, MPI_UINT64_T, to, kReduceTag, MPI_COMM_WORLD);
    for (std::uint64_t at = 0; at < n; at += kPiece) {
      MPI_Request request = MPI_REQUEST_NULL;
      MPI_Isend(bytes.data() + at, static_cast<int>(std::min(kPiece, n - at)), MPI_BYTE, to, kReduceTag, MPI_COMM_WORLD,
                &request);
      wait_idle(request);
    }
  }
  static std::string receive(int from) {
    std::uint64_t n = 0;
    MPI_Request request = MPI_REQUEST_NULL;
    MPI_Irecv(&n, 1, MPI_UINT64_T, from, kReduceTag, MPI_COMM_WORLD, &request);
    wait_idle(request);
    std::string bytes(n, '\0');
    for (std::uint64_t at = 0; at < n; at += kPiece) {
      MPI_Recv(bytes.data() + at, static_cast<int>(std::min(kPiece, n - at)), MPI_BYTE, from, kReduceTag,
               MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    return bytes;
  }

  std::size_t fetch_add(int slot, std::size_t value) {
    std::uint64_t add = value, before = 0;
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, window_);
    MPI_Fetch_and_op(&add, &before, MPI_UINT64_T, 0, slot, MPI_SUM, window_);
    MPI_Win_unlock(0, window_);
    return before;
  }

  int rank_ = 0;
  int size_ = 1;
  MPI_Win window_ = MPI_WIN_NULL;
  std::uint64_t* counters_ = nullptr;
};

}  // namespace

std::unique_ptr<Team> make_mpi_team() {
  return std::make_unique<MpiTeam>();
}

}  // namespace amva::cli
