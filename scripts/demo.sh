#!/usr/bin/env bash
# The main job: set up, build, and run amva on the embedded default data.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh" amva_cli  # only the tool; tests and benchmarks are built by scripts/test.sh
# From the clone's root with a relative --out, as a user types it (amva once failed exactly there).
cd "$root"
exec build/apps/amva/amva demo --out amva-demo "$@"
