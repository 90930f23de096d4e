#!/usr/bin/env bash
# The test suite: set up, build, and run every test through CTest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "$root/build"
exec ctest --output-on-failure -j 2 "$@"
