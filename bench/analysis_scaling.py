#!/usr/bin/env python3
"""Ranks of `mpirun amva analyze` against one process (docs/cluster.md, "Measured here").

Makes a synthetic store with `amva import`: N faces of 7x7 maps whose spread grows as the
score falls, outside the centre more than inside, and one score file. Runs
`amva analyze --group top:10 --no-figures` on it as one process and as `mpirun -n R` ranks,
and prints the wall time, each rank's peak memory, and the largest difference between each
output file and the one-process folder (.npy, .csv and .json numbers).

Usage:
  bench/analysis_scaling.py --faces 200000 [--ranks 1,2] [--work DIR] [--amva build/apps/amva/amva]
      [-- extra analyze options]
"""
import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def make_store(amva, work, n):
    rng = np.random.default_rng(1)
    q = rng.uniform(0, 1, n)
    yy, xx = np.mgrid[0:7, 0:7]
    centre = np.exp(-((yy - 3) ** 2 + (xx - 3) ** 2) / 4.0)
    spread = 0.2 + (1 - q)[:, None, None] * (0.3 * centre + 1.2 * (1 - centre))[None]
    maps = (centre[None] + spread * rng.standard_normal((n, 7, 7))).astype(np.float32)
    np.save(os.path.join(work, "maps.npy"), maps)
    paths = [f"p{i % max(1, n // 10):06d}/f{i:07d}.jpg" for i in range(n)]
    with open(os.path.join(work, "list.txt"), "w") as f:
        f.write("\n".join(paths) + "\n")
    with open(os.path.join(work, "scores.txt"), "w") as f:
        f.writelines(f"{p} {s:.9f}\n" for p, s in zip(paths, q))
    store = os.path.join(work, "store")
    shutil.rmtree(store, ignore_errors=True)  # a store of an earlier run of this script
    subprocess.run([amva, "import", "--maps", os.path.join(work, "maps.npy"), "--list",
                    os.path.join(work, "list.txt"), "--out", store, "--quiet"], check=True, stdout=subprocess.DEVNULL)
    return store


def analyze(amva, ranks, store, work, out, extra):
    cmd = ["/usr/bin/time", "-f", "peak %M KiB", amva, "analyze", "--store", store, "--scores",
           "q=" + os.path.join(work, "scores.txt"), "--group", "top:10", "--no-figures", "--quiet", "--force",
           "--out", out] + extra
    if ranks > 1:
        cmd = ["mpirun", "-n", str(ranks)] + cmd
    start = time.monotonic()
    p = subprocess.run(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.monotonic() - start
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}")
    peaks = [int(k) // 1024 for k in re.findall(r"peak (\d+) KiB", p.stdout)]
    return seconds, peaks


def numbers(a, b):
    if isinstance(a, dict):
        return max([numbers(a[k], b[k]) for k in a if k != "created"] + [0.0])
    if isinstance(a, list):
        return max([numbers(x, y) for x, y in zip(a, b)] + [0.0])
    if isinstance(a, float) and isinstance(b, (float, int)):
        return 0.0 if (np.isnan(a) and np.isnan(b)) else abs(a - b)
    return 0.0 if a == b else float("inf")


def largest_difference(one, other):
    worst = 0.0
    for root, _, names in os.walk(one):
        for name in names:
            a = os.path.join(root, name)
            b = os.path.join(other, os.path.relpath(a, one))
            if name.endswith(".npy"):
                x, y = np.load(a).astype(float), np.load(b).astype(float)
                both = ~(np.isnan(x) & np.isnan(y))
                worst = max(worst, float(np.max(np.abs(x - y)[both], initial=0.0)))
            elif name.endswith(".json"):
                worst = max(worst, numbers(json.load(open(a)), json.load(open(b))))
            elif name.endswith(".csv"):
                for r1, r2 in zip(csv.reader(open(a)), csv.reader(open(b))):
                    for u, v in zip(r1, r2):
                        if u != v:
                            try:
                                worst = max(worst, abs(float(u) - float(v)))
                            except ValueError:
                                worst = float("inf")
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=int, default=200000)
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--work", default=None)
    ap.add_argument("--amva", default="build/apps/amva/amva")
    ap.add_argument("extra", nargs="*", help="further amva analyze options (after --)")
    args = ap.parse_args()
    if shutil.which("mpirun") is None:
        sys.exit("mpirun is not installed (scripts/setup.sh installs openmpi-bin)")
    work = args.work or tempfile.mkdtemp(prefix="amva-analysis-scaling-")
    os.makedirs(work, exist_ok=True)
    store = make_store(os.path.abspath(args.amva), work, args.faces)
    print(f"{args.faces} faces, store {store}")
    print("| ranks | wall s | vs 1 process | peak MiB per rank | largest difference |")
    print("|---|---|---|---|---|")
    base = None
    for ranks in [int(r) for r in args.ranks.split(",")]:
        out = os.path.join(work, f"analysis-{ranks}")
        seconds, peaks = analyze(os.path.abspath(args.amva), ranks, store, work, out, args.extra)
        if base is None:
            base = (seconds, out)
        elif ranks == 1:
            out = base[1]  # a repeat of the reference, for the spread of the timing
        diff = "reference" if out == base[1] else f"{largest_difference(base[1], out):.2g}"
        print(f"| {ranks} | {seconds:.1f} | {base[0] / seconds:.2f} | {', '.join(map(str, peaks))} | {diff} |",
              flush=True)


main()
