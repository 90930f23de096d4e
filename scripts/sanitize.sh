#!/usr/bin/env bash
# Builds amva, the tests labelled `sanitize` and the fuzz targets with clang, AddressSanitizer,
# UndefinedBehaviorSanitizer and libFuzzer instrumentation into build-sanitize/, then runs those
# tests there (each fuzz target for a bounded time). The label marks what the sanitizers see
# best: the parsers, the store's commit and locking with its fault injection, the numerical
# kernels of statistics, analysis and EDC, and every fuzz target; the model-bound tests (CAM,
# detection, quality, explanations, the demo and its browser checks, LFW) run in the Release
# pass only (tests/CMakeLists.txt says why). Extra arguments go to ctest; AMVA_SANITIZE_ALL=1
# builds and runs every test instead.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-sanitize"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER=clang++-14 \
  -DAMVA_SANITIZE=address,undefined -DAMVA_FUZZ=ON -DAMVA_BUILD_BENCH=OFF >/dev/null
if [[ "${AMVA_SANITIZE_ALL:-0}" == 1 ]]; then
  cmake --build "$build" -j "$(nproc)"
  labels=()
else
  cmake --build "$build" -j "$(nproc)" --target amva_sanitize_tests
  labels=(-L sanitize)
fi
cd "$build"
# Leaks are not checked: OpenCV, protobuf and TBB keep process-lifetime allocations that
# LeakSanitizer reports without a fault in amva.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
exec ctest --output-on-failure -j 2 "${labels[@]+"${labels[@]}"}" "$@"
