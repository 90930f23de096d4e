#!/usr/bin/env python3
"""How much the whole study costs beyond extraction (issue 16's ratio).

Runs, on the same images and in fresh folders:
  1. `amva extract --cam CAM` (extraction alone: detection, alignment, embedding, maps);
  2. `amva extract --cam CAM --quality MEASURES` (the one heavy pass with the built-in FIQA);
  3. `amva run --cam CAM --explain 0` (the whole study without explanations), its stage times
     read from the stage lines as they arrive.
Prints the seconds of each and the ratios run / (1) and run / (2).

Usage:
  bench/study_ratio.py --images LIST|DIR [--work DIR] [--amva build/apps/amva/amva]
      [--cam gradcam] [--quality serfiq,brisque,magnitude,sharpness] [--labels-from-folders]
      [--run-option=--no-robustness --run-option=--null-controls=0 ...]  (passed to amva run)
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time


def timed(cmd):
    start = time.monotonic()
    stages = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as p:
        for line in p.stdout:
            if line.startswith("["):
                stages.append((time.monotonic() - start, line.strip()))
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}")
    return time.monotonic() - start, stages


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", required=True)
    ap.add_argument("--work", default=None)
    ap.add_argument("--amva", default="build/apps/amva/amva")
    ap.add_argument("--cam", default="gradcam")
    ap.add_argument("--quality", default="serfiq,brisque,magnitude,sharpness")
    ap.add_argument("--labels-from-folders", action="store_true")
    ap.add_argument("--run-option", action="append", default=[],
                    help="an option for amva run alone, e.g. --run-option=--no-robustness (repeatable)")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="amva-ratio-")
    os.makedirs(work, exist_ok=True)
    for sub in ("extract", "extract_quality", "run"):
        shutil.rmtree(os.path.join(work, sub), ignore_errors=True)
    extract, _ = timed([a.amva, "extract", "--images", a.images, "--out", os.path.join(work, "extract"),
                        "--cam", a.cam])
    one_pass, _ = timed([a.amva, "extract", "--images", a.images, "--out", os.path.join(work, "extract_quality"),
                         "--cam", a.cam, "--quality", a.quality])
    run_cmd = [a.amva, "run", "--images", a.images, "--out", os.path.join(work, "run"), "--cam", a.cam,
               "--explain", "0"]
    if a.labels_from_folders:
        run_cmd.append("--labels-from-folders")
    run_cmd += a.run_option
    run, stages = timed(run_cmd)
    print(f"extraction alone ({a.cam}):               {extract:7.1f} s")
    print(f"extraction with quality ({a.quality}): {one_pass:7.1f} s")
    print(f"amva run --explain 0 {' '.join(a.run_option):20s} {run:7.1f} s")
    for (t, line), nxt in zip(stages, [s[0] for s in stages[1:]] + [run]):
        print(f"  {nxt - t:6.1f} s  {line[:90]}")
    print(f"run / extraction alone:          {run / extract:.2f}")
    print(f"run / extraction with quality:   {run / one_pass:.2f}")


if __name__ == "__main__":
    main()
