// amva: the command-line tool. Each subcommand parses its options, calls the library and
// reports; errors become one clear line on stderr and a non-zero exit code.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <new>
#include <opencv2/core/utils/logger.hpp>
#include <set>
#include <string>

#include "amva/error.hpp"
#include "amva/version.hpp"
#include "cli.hpp"
#include "launch.hpp"

namespace {
int exit_code(amva::ErrorCode code) {
  switch (code) {
    case amva::ErrorCode::InvalidArgument:
      return 2;
    case amva::ErrorCode::NotFound:
      return 3;
    case amva::ErrorCode::Io:
      return 4;
    case amva::ErrorCode::Parse:
      return 5;
    case amva::ErrorCode::Model:
      return 6;
    case amva::ErrorCode::Image:
      return 7;
    case amva::ErrorCode::Mismatch:
      return 8;
  }
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  // Line-buffered even into a file or pipe (a cluster log, tee, nohup): every line reaches the
  // log as it is printed, not when the run ends.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  // OpenCV's own log ("[ WARN:0@0.1] global ... imread_", "[ERROR:0@0.1] ... OpenJPEG2000:
  // ...") would reach the user beside amva's message for the same file; amva reports every
  // image it cannot use itself, and wraps OpenCV's exceptions with the file they concern.
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  // Some OpenCV decoders print failures straight to std::cerr ("imdecode_(''): can't read
  // header: OpenCV(4.6.0) ./modules/..."); amva writes its messages through C stdio and says
  // itself why an image was not used, so std::cerr is silenced. CLI11 gets the real stream.
  std::ostream usage_errors(std::cerr.rdbuf());
  std::cerr.rdbuf(nullptr);
  CLI::App app{"amva: activation map variation analysis of face image quality"};
  app.set_version_flag("--version", amva::version());
  app.require_subcommand(1);
  amva::cli::add_extract(app);
  amva::cli::add_merge(app);
  amva::cli::add_import(app);
  amva::cli::add_degrade(app);
  amva::cli::add_demo(app);
  amva::cli::add_verify(app);
  amva::cli::add_cam(app);
  amva::cli::add_quality(app);
  amva::cli::add_analyze(app);
  amva::cli::add_edc(app);
  amva::cli::add_explain(app);
  amva::cli::add_faithfulness(app);
  amva::cli::add_run(app);
  amva::cli::add_model(app);
  try {
    // Only extract, quality and analyze share their work among the ranks of an MPI job; any
    // other command started as several ranks would run once per rank over the same files.
    const std::set<std::string> team_commands = {"extract", "quality", "analyze"};
    if (argc > 1 && argv[1][0] != '-' && team_commands.count(argv[1]) == 0) {
      amva::cli::require_one_process(argv[1]);
    }
    app.parse(argc, argv);
    amva::cli::finish_team();
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the message (or the help); any usage error exits 2, as docs/cli.md says,
    // not CLI11's own codes (105, 106, 109...).
    return app.exit(e, std::cout, usage_errors) == 0 ? 0 : 2;
  } catch (const amva::RootError&) {
    // Rank 0 says the error and exits with its code, which becomes the job's. A rank that
    // exited non-zero first would have the launcher end the job, rank 0 too, before it says it.
    return 0;
  } catch (const amva::Error& e) {
    if (amva::cli::silent_rank()) return 0;  // the same error, said by rank 0 (see above)
    fmt::print(stderr, "amva: error: {}\n", e.what());
    return exit_code(e.code());
  } catch (const std::filesystem::filesystem_error& e) {
    // The library names its files in amva::Error; a filesystem error that still gets here is
    // said in the same words: the path, then the system's reason.
    fmt::print(stderr, "amva: error: {}{}{}\n", e.path1().string(), e.path1().empty() ? "" : ": ", e.code().message());
    return 4;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr,
               "amva: error: out of memory (lower --memory-budget, --threads or --batch, or use a machine "
               "with more memory)\n");
    return 4;
  } catch (const std::exception& e) {
    fmt::print(stderr, "amva: internal error: {} (please report it with the command that caused it)\n", e.what());
    return 1;
  }
  return 0;
}
