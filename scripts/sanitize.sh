#!/usr/bin/env bash
# Builds amva, its tests and its fuzz targets with clang, AddressSanitizer, UndefinedBehavior-
# Sanitizer and libFuzzer instrumentation into build-sanitize/, then runs the whole test suite
# there (each fuzz target for a bounded number of runs). Extra arguments go to ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-sanitize"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER=clang++-14 \
  -DAMVA_SANITIZE=address,undefined -DAMVA_FUZZ=ON -DAMVA_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
# Leaks are not checked: OpenCV, protobuf and TBB keep process-lifetime allocations that
# LeakSanitizer reports without a fault in amva.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
exec ctest --output-on-failure -j 2 "$@"
