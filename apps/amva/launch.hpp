#pragma once
// How this process was started: alone, or as one rank of an MPI job (mpirun, srun). amva
// extract, quality and analyze work as a team; every other command runs as one process.
#include <string>

#include "amva/team.hpp"

namespace amva::cli {

/// Ranks the launcher started, from its environment (OpenMPI, PMI, PMIx); 1 when none.
int launcher_ranks();
/// This process's team: an MPI team of launcher_ranks() ranks when amva was built with MPI
/// (MPI initialised on the first call), else a team of one. Throws Error(InvalidArgument)
/// when a launcher started several ranks of a build without MPI.
Team& launched_team();
/// Whether this process leaves an error to rank 0: a rank other than the launcher's first,
/// before the team started. Until then every rank parses the same command line and meets the
/// same error, which rank 0 says, with its exit code, for all.
bool silent_rank();
/// Ends MPI after a successful command (the error paths leave it to the launcher).
void finish_team();
/// Throws Error(InvalidArgument) when `command` was started as several ranks: it would run
/// once per rank, each writing the same files.
void require_one_process(const std::string& command);

}  // namespace amva::cli
