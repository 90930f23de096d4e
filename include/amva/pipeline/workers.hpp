#pragma once
// Runs work on a fixed number of worker threads (each owns its own networks), with OpenCV's
// own thread pool set to one thread meanwhile so the two do not compete for the cores. The
// first exception a worker throws stops the others from taking new work and is rethrown.
#include <functional>

namespace amva::pipeline {

/// Calls `work(worker, stop)` on `threads` threads (worker 0 on the calling thread); a worker
/// should return when `stop()` is true. Rethrows the first exception.
void run_workers(int threads, const std::function<void(int worker, const std::function<bool()>& stop)>& work);

}  // namespace amva::pipeline
