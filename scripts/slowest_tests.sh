#!/usr/bin/env bash
# Prints the N slowest tests (default 10) of a CTest log: the lines ctest prints per test
# ("  3/180 Test  #42: CamTest.ScoreCamMatchesNumpy ....   Passed   28.75 sec").
# Usage: scripts/slowest_tests.sh LOG [N]
# awk reads every line instead of head stopping early: with pipefail, a sort killed by
# SIGPIPE after head has exited would fail the whole test command (exit 141).
set -euo pipefail
log="$1"
count="${2:-10}"
echo "slowest $count tests ($log):"
grep -E 'Test +#[0-9]+: ' "$log" |
  sed -E 's/.*Test +#[0-9]+: ([^ ]+) .* ([0-9.]+) sec.*/\2 \1/' |
  sort -rn | awk -v count="$count" 'NR <= count { printf "  %8.1f s  %s\n", $1, $2 }'
