#!/usr/bin/env python3
"""Ranks of `mpirun amva extract` against one process (issue 15's scaling table).

For each CAM method and image list, runs `amva extract` as 1 rank and as `mpirun -n R` ranks,
with the machine's cores split between ranks (--threads cores/R), and 4 ranks oversubscribed
for correctness only. Prints wall time, images/s, speed-up over one rank with all cores, the
commit time amva reports, and whether every store equals the one-rank store (index.csv
identical, embeddings and maps within 1e-6).

Usage:
  bench/cluster_scaling.py --images LIST --cam gradcam [--ranks 1,2] [--cores 2]
      [--shard-size 64] [--work DIR] [--amva build/apps/amva/amva]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np


def extract(amva, ranks, threads, images, out, cam, shard, oversubscribe=False):
    cmd = [amva, "extract", "--images", images, "--out", out, "--cam", cam, "--threads", str(threads),
           "--shard-size", str(shard)]
    if ranks > 1 or oversubscribe:
        cmd = ["mpirun", "-n", str(ranks)] + (["--oversubscribe"] if oversubscribe else []) + ["--bind-to", "none"] + cmd
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", AMVA_PROGRESS_SECONDS="3600")
    start = time.monotonic()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.monotonic() - start
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}")
    commit = re.search(r"commit ([0-9.]+) s", p.stdout)
    records = re.search(r": (\d+) records", p.stdout)
    return seconds, float(commit.group(1)) if commit else float("nan"), int(records.group(1))


def same(a, b, cam):
    if open(os.path.join(a, "index.csv")).read() != open(os.path.join(b, "index.csv")).read():
        return "index differs"
    for name in ("embeddings.npy", f"maps_{cam}.npy"):
        x, y = np.load(os.path.join(a, name)), np.load(os.path.join(b, name))
        if x.shape != y.shape or not np.allclose(x, y, rtol=0, atol=1e-6, equal_nan=True):
            return f"{name} differs"
    return "equal"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", required=True)
    ap.add_argument("--cam", default="gradcam")
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--cores", type=int, default=os.cpu_count())
    ap.add_argument("--shard-size", type=int, default=64)
    ap.add_argument("--work", default=None)
    ap.add_argument("--amva", default="build/apps/amva/amva")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="amva-scaling-")
    os.makedirs(work, exist_ok=True)
    runs = [(1, 1, False)] + [(r, max(1, a.cores // r), False) for r in map(int, a.ranks.split(","))] + [(4, 1, True)]
    base_dir, base_seconds = None, None
    print(f"{a.cam}, {a.images}, shard size {a.shard_size}, {a.cores} cores")
    print("| ranks | threads/rank | wall s | images/s | speed-up | commit s | store |")
    print("|---|---|---|---|---|---|---|")
    for ranks, threads, over in runs:
        out = os.path.join(work, f"{a.cam}-r{ranks}-t{threads}{'-over' if over else ''}")
        shutil.rmtree(out, ignore_errors=True)
        seconds, commit, records = extract(a.amva, ranks, threads, a.images, out, a.cam, a.shard_size, over)
        if ranks == 1 and threads == a.cores:
            base_seconds = seconds
        if base_dir is None:
            base_dir = out
            verdict = "reference"
        else:
            verdict = same(base_dir, out, a.cam)
        speed = f"{base_seconds / seconds:.2f}" if base_seconds else "-"
        label = f"{ranks} (oversubscribed)" if over else str(ranks)
        print(f"| {label} | {threads} | {seconds:.1f} | {records / seconds:.2f} | {speed} | {commit:.2f} | {verdict} |",
              flush=True)


if __name__ == "__main__":
    main()
