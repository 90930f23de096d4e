#include "launch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <memory>

#include "amva/io/numbers.hpp"

#ifdef AMVA_WITH_MPI
#include "mpi_team.hpp"
#endif

namespace amva::cli {
namespace {
std::unique_ptr<Team> team;
bool team_started = false;

int launcher_variable(std::initializer_list<const char*> names, int otherwise) {
  for (const char* name : names) {
    if (const char* v = std::getenv(name)) {
      if (const auto n = io::to_integer(v); n && *n >= 0) return static_cast<int>(*n);
    }
  }
  return otherwise;
}
}  // namespace

int launcher_ranks() {
  return std::max(1, launcher_variable({"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"}, 1));
}

bool silent_rank() {
  return !team_started && launcher_ranks() > 1 &&
         launcher_variable({"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"}, 0) != 0;
}

Team& launched_team() {
  if (team) return *team;
  team_started = true;
  if (launcher_ranks() > 1) {
#ifdef AMVA_WITH_MPI
    team = make_mpi_team();
#else
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("started as {} ranks, but this amva was built without MPI (install libopenmpi-dev and "
                            "rebuild), or run the parts as a job array with --part i/N and amva merge",
                            launcher_ranks()));
#endif
  } else {
    team = solo_team();
  }
  return *team;
}

void finish_team() {
  team.reset();
}

void require_one_process(const std::string& command) {
  if (launcher_ranks() > 1) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("amva {} runs as one process, but was started as {} ranks; under mpirun run amva "
                            "extract only (docs/cluster.md)",
                            command, launcher_ranks()));
  }
}

}  // namespace amva::cli
