#!/usr/bin/env bash
# Before a commit: builds (warnings as errors) and runs the tests labelled `quick` (unit tests
# and the fast integration tests, a few minutes on 2 cores). The full suite, for a stop, is
# scripts/test.sh. Arguments go to ctest (e.g. -R Store).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
AMVA_WERROR=1 "$root/scripts/build.sh"
cd "$root/build"
ctest --output-on-failure -j 2 -L quick "$@"
