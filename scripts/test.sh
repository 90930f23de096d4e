#!/usr/bin/env bash
# The test suite: set up, build, and run every test through CTest; then the same tests built
# with AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer (scripts/sanitize.sh).
# Arguments go to the first ctest (e.g. -R Store); AMVA_SKIP_SANITIZE=1 skips the second pass.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
AMVA_WERROR=1 "$root/scripts/build.sh"  # a warning in amva's own code fails the tests
(cd "$root/build" && ctest --output-on-failure -j 2 "$@")
if [[ "${AMVA_SKIP_SANITIZE:-0}" != 1 ]]; then
  "$root/scripts/sanitize.sh"
fi
