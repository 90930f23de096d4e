#include "amva/pipeline/workers.hpp"

#include <atomic>
#include <exception>
#include <mutex>
#include <opencv2/core/utility.hpp>
#include <thread>
#include <vector>

namespace amva::pipeline {

void run_workers(int threads, const std::function<void(int, const std::function<bool()>&)>& work) {
  const int previous = cv::getNumThreads();
  if (threads > 1) cv::setNumThreads(1);
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  const std::function<bool()> stop = [&] { return failed.load(); };
  const auto guarded = [&](int worker) {
    try {
      work(worker, stop);
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(guarded, t);
  guarded(0);
  for (auto& t : pool) t.join();
  cv::setNumThreads(previous);
  if (error) std::rethrow_exception(error);
}

}  // namespace amva::pipeline
