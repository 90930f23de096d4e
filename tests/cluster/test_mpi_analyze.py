#!/usr/bin/env python3
"""`mpirun -n 3 amva analyze` against one process.

Usage: test_mpi_analyze.py AMVA
Exits 77 (CTest: skipped) with the reason when mpirun is absent or amva was built without MPI.

The store is made with `amva import` from synthetic 7x7 maps of 600 faces of 60 people (a
face's spread grows as its quality falls, outside the centre more than inside), so that the
analysis has something to find. Checks, each as one process and as three ranks:
  1. groups that fit the memory budget (exact medians, gathered on the root): every number of
     summary.json, regions.csv, groups.csv and every reference's deviations.csv within 1e-9,
     every map within one float32 rounding;
  2. groups larger than the budget (--memory-budget 1: per-rank moments merged by Chan's
     formula, histograms merged): the same, and the medians' histogram bounds identical;
  3. --normalize none (the value range found across ranks) with the bootstrap over images;
  4. an error the root meets (a missing score file) ends every rank with a non-zero exit,
     said once.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

AMVA = sys.argv[1]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")


def run(cmd, expect=0):
    p = subprocess.run(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    if expect is not None and p.returncode != expect:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}, expected {expect}:\n{p.stdout}")
    return p


def make_store(work):
    rng = np.random.default_rng(29794)
    n, people = 600, 60
    quality = rng.uniform(0, 1, n)
    yy, xx = np.mgrid[0:7, 0:7]
    centre = np.exp(-((yy - 3) ** 2 + (xx - 3) ** 2) / 4.0)
    outside = 1 - centre
    maps = np.empty((n, 7, 7), np.float32)
    for i in range(n):
        spread = 0.2 + (1 - quality[i]) * (0.3 * centre + 1.2 * outside)
        maps[i] = centre + spread * rng.standard_normal((7, 7))
    paths = [f"person{i % people:03d}/face{i:04d}.jpg" for i in range(n)]
    np.save(os.path.join(work, "maps.npy"), maps)
    with open(os.path.join(work, "list.txt"), "w") as f:
        f.write("\n".join(paths) + "\n")
    with open(os.path.join(work, "scores.txt"), "w") as f:
        for p, q in zip(paths, quality):
            f.write(f"{p} {q:.9f}\n")
    noisy = quality + rng.normal(0, 0.2, n)
    with open(os.path.join(work, "noisy.txt"), "w") as f:
        for p, q in zip(paths, noisy):
            f.write(f"{p} {q:.9f}\n")
    store = os.path.join(work, "store")
    run([AMVA, "import", "--maps", os.path.join(work, "maps.npy"), "--list", os.path.join(work, "list.txt"),
         "--out", store, "--quiet"])
    return store


def numbers_equal(a, b, where, tol):
    if isinstance(a, dict):
        if set(a) != set(b):
            sys.exit(f"FAIL: {where}: keys differ: {sorted(set(a) ^ set(b))}")
        for k in a:
            if k not in ("created",):
                numbers_equal(a[k], b[k], f"{where}/{k}", tol)
    elif isinstance(a, list):
        if len(a) != len(b):
            sys.exit(f"FAIL: {where}: lengths {len(a)} and {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            numbers_equal(x, y, f"{where}[{i}]", tol)
    elif isinstance(a, float) or isinstance(b, float):
        if not (a is None and b is None) and not np.isclose(a, b, rtol=0, atol=tol, equal_nan=True):
            sys.exit(f"FAIL: {where}: {a} and {b} differ by more than {tol}")
    elif a != b:
        sys.exit(f"FAIL: {where}: {a!r} and {b!r}")


def csv_equal(a, b, where):
    ra, rb = list(csv.reader(open(a))), list(csv.reader(open(b)))
    if len(ra) != len(rb):
        sys.exit(f"FAIL: {where}: {len(ra)} and {len(rb)} rows")
    for i, (x, y) in enumerate(zip(ra, rb)):
        for u, v in zip(x, y):
            if u == v:
                continue
            try:
                if abs(float(u) - float(v)) <= 1e-9:
                    continue
            except ValueError:
                pass
            sys.exit(f"FAIL: {where} row {i}: {u} and {v}")


def same_analysis(one, three, what):
    files = 0
    for root, _, names in os.walk(one):
        for name in names:
            a = os.path.join(root, name)
            rel = os.path.relpath(a, one)
            b = os.path.join(three, rel)
            if not os.path.exists(b):
                sys.exit(f"FAIL ({what}): {rel} is missing from the 3-rank analysis")
            if name.endswith(".npy"):
                x, y = np.load(a), np.load(b)
                # maps are stored as float32: a double that differs in its 16th digit can round
                # to the neighbouring float
                if x.shape != y.shape or not np.allclose(x, y, rtol=1e-6, atol=1e-7, equal_nan=True):
                    sys.exit(f"FAIL ({what}): {rel} differs")
            elif name.endswith(".json"):
                numbers_equal(json.load(open(a)), json.load(open(b)), f"{what}: {rel}", 1e-9)
            elif name.endswith(".csv"):
                csv_equal(a, b, f"{what}: {rel}")
            files += 1
    print(f"ok: {what} ({files} files)")


def main():
    probe = subprocess.run(["mpirun", "--version"], env=ENV, capture_output=True, text=True) \
        if shutil.which("mpirun") else None
    if probe is None or probe.returncode != 0:
        print("skipped: mpirun is not installed (scripts/setup.sh installs openmpi-bin)")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as work:
        store = make_store(work)
        check = run(["mpirun", "--oversubscribe", "-n", "2", AMVA, "analyze", "--store", store, "--out",
                     os.path.join(work, "probe"), "--scores", "q=" + os.path.join(work, "scores.txt"),
                     "--no-figures", "--bootstrap", "10", "--quiet"], expect=None)
        # Skipped only when this amva has no MPI at all. "runs as one process" is what amva says
        # when analyze is not among the commands that work as a team: a regression, not a skip.
        if "built without MPI" in check.stdout:
            print(f"skipped: amva was built without MPI:\n{check.stdout}")
            sys.exit(77)
        if check.returncode != 0 or "runs as one process" in check.stdout:
            sys.exit(f"FAIL: mpirun -n 2 amva analyze does not run as a team "
                     f"(exit {check.returncode}):\n{check.stdout}")
        scores = ["--scores", "q=" + os.path.join(work, "scores.txt"), "noisy=" + os.path.join(work, "noisy.txt")]
        cases = [
            ("exact medians, identities", ["--group", "top:10", "--labels-from-folders"]),
            ("histograms merged, identities", ["--group", "top:25", "--memory-budget", "1", "--labels-from-folders"]),
            ("raw values, images", ["--group", "quantiles:3", "--normalize", "none", "--memory-budget", "1"]),
        ]
        for what, args in cases:
            # Three null controls and 199 permutations cross the ranks' shared map reads (the controls deal
            # from every scored face) at a fifth of the default cost.
            common = ["analyze", "--store", store, "--no-figures", "--bootstrap", "200", "--permutations", "199",
                      "--null-controls", "3", "--quiet"] + scores + args
            one, three = os.path.join(work, "one"), os.path.join(work, "three")
            for d in (one, three):
                shutil.rmtree(d, ignore_errors=True)
            run([AMVA] + common + ["--out", one])
            run(["mpirun", "--oversubscribe", "-n", "3", AMVA] + common + ["--out", three])
            summary = json.load(open(os.path.join(three, "summary.json")))
            exact = {g["median_exact"] for m in summary["methods"].values() for g in m["groups"].values()}
            if ("--memory-budget" in args) != (exact == {False}):
                sys.exit(f"FAIL ({what}): median_exact is {exact}")
            same_analysis(one, three, f"3 ranks = 1 process, {what}")

        failed = run(["mpirun", "--oversubscribe", "-n", "3", AMVA, "analyze", "--store", store, "--out",
                      os.path.join(work, "bad"), "--scores", "q=" + os.path.join(work, "absent.txt"),
                      "--no-figures", "--quiet"], expect=None)
        said = failed.stdout.count("absent.txt")
        if failed.returncode == 0 or said != 1:
            sys.exit(f"FAIL: a missing score file under 3 ranks: exit {failed.returncode}, said {said} times:\n"
                     f"{failed.stdout}")
        print("ok: an error the root meets ends every rank, said once")


main()
