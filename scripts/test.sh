#!/usr/bin/env bash
# The test suite: set up, build, and run every test through CTest; then the tests labelled
# `sanitize` built with AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer
# (scripts/sanitize.sh). Each pass ends with its ten slowest tests, so that the CI budget (30
# minutes on a 2-core machine) stays in view. Arguments go to the first ctest (e.g. -R Store);
# AMVA_SKIP_SANITIZE=1 skips the second pass. Before a commit, scripts/quick_test.sh runs the
# fast part in a few minutes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
AMVA_WERROR=1 "$root/scripts/build.sh"  # a warning in amva's own code fails the tests
status=0
(cd "$root/build" && ctest --output-on-failure -j 2 "$@") 2>&1 | tee "$root/build/ctest.log" || status=$?
"$root/scripts/slowest_tests.sh" "$root/build/ctest.log"
((status == 0)) || exit "$status"
if [[ "${AMVA_SKIP_SANITIZE:-0}" != 1 ]]; then
  mkdir -p "$root/build-sanitize"
  "$root/scripts/sanitize.sh" 2>&1 | tee "$root/build-sanitize/ctest.log" || status=$?
  "$root/scripts/slowest_tests.sh" "$root/build-sanitize/ctest.log"
fi
exit "$status"
