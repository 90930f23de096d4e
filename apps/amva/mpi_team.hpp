#pragma once
#include <memory>

#include "amva/team.hpp"

namespace amva::cli {
/// The ranks of this MPI job as a team: MPI_Init now, MPI_Finalize when it is destroyed.
std::unique_ptr<Team> make_mpi_team();
}  // namespace amva::cli
