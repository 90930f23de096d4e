#include "amva/team.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>

namespace amva {
namespace {

class SoloTeam final : public Team {
 public:
  [[nodiscard]] int rank() const override { return 0; }
  [[nodiscard]] int size() const override { return 1; }
  void begin_blocks() override {
    next_ = 0;
    finished_ = 0;
  }
  std::size_t claim_block() override { return next_++; }
  std::size_t add_finished(std::size_t images) override { return finished_ += images; }
  void end_blocks() override {}
  std::string broadcast(const std::string& text) override { return text; }
  std::vector<std::string> gather(const std::string& text) override { return {text}; }
  std::string reduce(std::string bytes, const Merge& /*merge*/) override { return bytes; }
  // The library never prints or exits: alone, a failure is an error for the caller.
  [[noreturn]] void abort(const std::string& message) override { throw Error(ErrorCode::Io, message); }

 private:
  std::size_t next_ = 0;
  std::size_t finished_ = 0;
};

}  // namespace

std::unique_ptr<Team> solo_team() {
  return std::make_unique<SoloTeam>();
}

std::string decided_by_root(Team& team, const std::function<std::string()>& decide) {
  nlohmann::json message;
  std::exception_ptr failure;
  if (team.is_root()) {
    try {
      message = {{"text", decide()}};
    } catch (const std::exception& e) {
      // Any failure, not only amva's own errors: a rank left waiting would hang the job.
      failure = std::current_exception();
      const auto* error = dynamic_cast<const Error*>(&e);
      message = {{"error", e.what()}, {"code", static_cast<int>(error ? error->code() : ErrorCode::Io)}};
    }
  }
  if (team.size() > 1) message = nlohmann::json::parse(team.broadcast(message.dump()));
  if (failure) std::rethrow_exception(failure);
  if (message.contains("error")) {
    throw RootError(static_cast<ErrorCode>(message["code"].get<int>()), message["error"].get<std::string>());
  }
  return message["text"].get<std::string>();
}

void share_blocks(Team& team, std::size_t items, std::size_t block,
                  const std::function<bool(std::size_t first, std::size_t last)>& work,
                  const std::function<void(std::size_t all_finished)>& finished) {
  const std::size_t blocks = (items + block - 1) / block;
  team.begin_blocks();
  try {
    for (std::size_t b; (b = team.claim_block()) < blocks;) {
      const std::size_t last = std::min(items, (b + 1) * block);
      if (!work(b * block, last)) break;
      const std::size_t all = team.add_finished(last - b * block);
      if (finished) finished(all);
    }
  } catch (const std::exception& e) {
    if (team.size() == 1) throw;
    team.abort(
        fmt::format("rank {} of {} failed, the others stop with it; what was committed is kept and the "
                    "same command resumes: {}",
                    team.rank(), team.size(), e.what()));
  }
  team.end_blocks();
}

}  // namespace amva
