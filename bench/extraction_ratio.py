#!/usr/bin/env python3
"""Extraction against the raw forward (issue 31's 0.9x target).

Alternates, ROUNDS times, on the same minutes of the machine:
  1. `amva_bench_forward --benchmark_filter=Forward/32/real_time/threads:2`: OpenCV's raw
     batched forward of the default model, two threads of batch 32, in faces/s;
  2. `amva extract --aligned --cam CAM` on a folder of aligned 112x112 faces, with each amva
     given (--amva, repeatable, to compare builds), in faces/s, startup included.
Prints each and its share of the raw forward measured in the same round.

Usage:
  bench/extraction_ratio.py --faces DIR [--amva build/apps/amva/amva ...]
      [--bench build/bench/amva_bench_forward] [--cam gradcam] [--rounds 3] [--min-time S]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


def raw_forward(bench, min_time):
    cmd = [bench, "--benchmark_filter=Forward/32/real_time/threads:2"]
    if min_time:
        cmd.append(f"--benchmark_min_time={min_time}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    found = re.search(r"items_per_second=([0-9.]+)(k?)/s", out)
    if not found:
        sys.exit(f"no items_per_second in the benchmark's output:\n{out}")
    return float(found.group(1)) * (1000 if found.group(2) else 1)


def extraction(amva, faces, cam, out):
    shutil.rmtree(out, ignore_errors=True)
    start = time.monotonic()
    run = subprocess.run([amva, "extract", "-q", "--images", faces, "--aligned", "--cam", cam, "--out", out],
                         capture_output=True, text=True)
    seconds = time.monotonic() - start
    if run.returncode != 0:
        sys.exit(f"{amva} extract failed ({run.returncode}):\n{run.stdout}{run.stderr}")
    return seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", required=True, help="a folder of aligned 112x112 faces")
    ap.add_argument("--amva", action="append", default=[], help="an amva binary (repeatable)")
    ap.add_argument("--bench", default="build/bench/amva_bench_forward")
    ap.add_argument("--cam", default="gradcam")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0,
                    help="seconds the raw forward runs (0: the benchmark's default, about 1 s; 5 matches an "
                         "extraction of 1,000 faces, past the forward's warm-up)")
    a = ap.parse_args()
    binaries = a.amva or ["build/apps/amva/amva"]
    count = sum(1 for f in os.listdir(a.faces) if f.lower().endswith((".png", ".jpg", ".jpeg")))
    work = tempfile.mkdtemp(prefix="amva-extraction-ratio-")
    try:
        for round_ in range(1, a.rounds + 1):
            forward = raw_forward(a.bench, a.min_time)
            print(f"round {round_}: raw forward {forward:.1f} faces/s")
            for i, amva in enumerate(binaries):
                seconds = extraction(amva, a.faces, a.cam, os.path.join(work, str(i)))
                rate = count / seconds
                print(f"  {amva}: {count} faces in {seconds:.2f} s, {rate:.1f} faces/s, {rate / forward:.3f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
