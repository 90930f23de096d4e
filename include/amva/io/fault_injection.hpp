#pragma once
// Fault injection for the tests of amva's commit protocols (tests/integration/
// test_store_faults.cpp, test_output_faults.cpp, cluster/test_mpi_extract.py): the environment variable `variable` = N
// makes the N-th step counted under that name fail, as a kill -9 would (AMVA_FAULT_KIND=kill:
// the process ends on the spot with status 137), as a read-only file system would
// (AMVA_FAULT_KIND=erofs) or as a full disk would (otherwise); the last two are I/O errors.
// AMVA_FAULT_WHERE=TEXT counts only the steps on files whose path holds TEXT, so that a test
// reaches one stage of several that run at once (a study's analysis and EDC) whatever their
// interleaving. Unset, a step costs one getenv per process.
#include <string>

namespace amva::io {

/// Counts one step of the protocol named by `variable` ("AMVA_FAULT_COMMIT_STEP"); `what`
/// names the file the step is about, for the injected error.
void fault_point(const char* variable, const std::string& what);

}  // namespace amva::io
