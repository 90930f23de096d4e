#!/usr/bin/env bash
# Configures and builds amva (Release) into build/. Arguments name the targets to build
# (default: everything, tests and benchmarks included), e.g. `scripts/build.sh amva_cli`.
# AMVA_WERROR=1 makes every warning in amva's own code an error (the test command sets it; the
# setting stays with build/, so that the demo after the tests does not rebuild everything).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
options=(-DCMAKE_BUILD_TYPE=Release)
[[ -n "${AMVA_WERROR:-}" ]] && options+=(-DAMVA_WERROR="$([[ $AMVA_WERROR == 1 ]] && echo ON || echo OFF)")
cmake -S "$root" -B "$root/build" "${options[@]}" >/dev/null
if (($#)); then
  cmake --build "$root/build" -j "$(nproc)" --target "$@"
else
  cmake --build "$root/build" -j "$(nproc)"
fi
