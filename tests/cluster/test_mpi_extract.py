#!/usr/bin/env python3
"""`mpirun -n 3 amva extract`, and a job array merged, against one process.

Usage: test_mpi_extract.py mpi|parts AMVA SOURCES_DIR
In mpi mode, exits 77 (CTest: skipped) with the reason when mpirun is absent or amva was built
without MPI.

Checks, on the default photos plus two bad files, with one image per shard so that three ranks
share ten blocks (mpi: 1 to 3; parts: 4):
  1. three ranks write the store one process writes: index.csv and quality.csv identical,
     embeddings and maps within 1e-6;
  2. a rank killed mid-run (rank 2 at its second shard) ends the job; the same command then
     resumes and gives the same store; nothing committed is lost;
  3. a rank whose write fails (a full disk) aborts the job with a message naming the rank;
  4. `mpirun -n 3 amva quality` writes the quality.csv one process writes;
  5. three job-array parts (extract --part i/3) merged give the same store;
  6. three quality parts (quality --part i/3), joined by the run without --part, give the
     quality.csv one process writes, and leave no part file.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

MODE, AMVA, SOURCES = sys.argv[1], sys.argv[2], sys.argv[3]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
COMMON = ["--threads", "1", "--batch", "1", "--shard-size", "1", "--cam", "gradcam",
          "--quality", "magnitude,sharpness", "--quiet"]


def run(cmd, env=ENV, expect=0):
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    if expect is not None and p.returncode != expect:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}, expected {expect}:\n{p.stdout}")
    return p


def mpirun(n, args, wrapper=None, expect=0):
    cmd = ["mpirun", "--oversubscribe", "-n", str(n)]
    cmd += ["sh", "-c", wrapper + ' exec "$@"', "sh"] if wrapper else []
    return run(cmd + [AMVA, "extract"] + args, expect=expect)


def same_store(a, b, what):
    for name in ("index.csv", "quality.csv"):
        if open(os.path.join(a, name)).read() != open(os.path.join(b, name)).read():
            sys.exit(f"FAIL ({what}): {name} differs between {a} and {b}")
    for name in ("embeddings.npy", "maps_gradcam.npy"):
        x, y = np.load(os.path.join(a, name)), np.load(os.path.join(b, name))
        if x.shape != y.shape or not np.allclose(x, y, rtol=0, atol=1e-6, equal_nan=True):
            sys.exit(f"FAIL ({what}): {name} differs by more than 1e-6")
    if os.path.exists(os.path.join(b, "shards")):
        sys.exit(f"FAIL ({what}): {b} kept its shards after the commit")
    print(f"ok: {what}")


def rescored(work, one):
    """One process's `amva quality` on a copy of `one`: the reference for the quality checks."""
    ref = os.path.join(work, "rescored")
    shutil.copytree(one, ref)
    run([AMVA, "quality", "--store", ref, "--methods", "magnitude,sharpness", "--threads", "1", "--quiet"])
    return open(os.path.join(ref, "quality.csv")).read()


def job_array(work, images, one):
    parts = []
    for i in (1, 2, 3):
        parts.append(os.path.join(work, f"part{i}"))
        run([AMVA, "extract", "--images", images, "--out", parts[-1], "--part", f"{i}/3"] + COMMON)
    merged = os.path.join(work, "merged")
    run([AMVA, "merge"] + parts + ["--out", merged])
    same_store(one, merged, "3 job-array parts merged = 1 process")

    expected = rescored(work, one)
    for i in (1, 2, 3):
        run([AMVA, "quality", "--store", merged, "--methods", "magnitude,sharpness", "--threads", "1",
             "--part", f"{i}/3", "--quiet"])
    if len([f for f in os.listdir(merged) if f.startswith("quality-part-")]) != 3:
        sys.exit("FAIL: three quality parts did not leave three part files")
    run([AMVA, "quality", "--store", merged, "--methods", "magnitude,sharpness", "--threads", "1", "--quiet"])
    if open(os.path.join(merged, "quality.csv")).read() != expected:
        sys.exit("FAIL: quality parts joined differ from one process's quality.csv")
    if any(f.startswith("quality-part-") for f in os.listdir(merged)):
        sys.exit("FAIL: the joining run left part files")
    print("ok: 3 quality parts joined = 1 process")


def main():
    if MODE == "mpi" and shutil.which("mpirun") is None:
        print("skipped: mpirun is not installed (Debian: openmpi-bin; scripts/setup.sh installs it)")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="amva-mpi-")
    try:
        images = os.path.join(work, "images")
        shutil.copytree(SOURCES, images)
        open(os.path.join(images, "empty.jpg"), "w").close()
        with open(os.path.join(images, "notes.txt"), "w") as f:
            f.write("not an image")
        one = os.path.join(work, "one")
        run([AMVA, "extract", "--images", images, "--out", one] + COMMON)
        if MODE == "parts":
            job_array(work, images, one)
            return

        three = os.path.join(work, "three")
        probe = mpirun(3, ["--images", images, "--out", three] + COMMON, expect=None)
        if "built without MPI" in probe.stdout:
            print("skipped: this amva was built without MPI (install libopenmpi-dev and rebuild)")
            sys.exit(77)
        if probe.returncode != 0:
            sys.exit(f"FAIL: mpirun -n 3 amva extract exited {probe.returncode}:\n{probe.stdout}")
        same_store(one, three, "3 ranks = 1 process")
        expected = rescored(work, one)
        mpirun_quality = ["mpirun", "--oversubscribe", "-n", "3", AMVA, "quality", "--store", three,
                          "--methods", "magnitude,sharpness", "--threads", "1", "--quiet"]
        run(mpirun_quality)
        if open(os.path.join(three, "quality.csv")).read() != expected:
            sys.exit("FAIL: mpirun -n 3 amva quality differs from one process's quality.csv")
        print("ok: amva quality, 3 ranks = 1 process")

        resumed = os.path.join(work, "resumed")
        killed = mpirun(3, ["--images", images, "--out", resumed] + COMMON,
                        wrapper='[ "$OMPI_COMM_WORLD_RANK" = 2 ] && export AMVA_FAULT_SHARD_STEP=2 AMVA_FAULT_KIND=kill;',
                        expect=None)
        if killed.returncode == 0 or not os.path.isdir(os.path.join(resumed, "shards")):
            sys.exit(f"FAIL: a killed rank did not end the job with its shards kept:\n{killed.stdout}")
        kept = len([d for d in os.listdir(os.path.join(resumed, "shards")) if d.isdigit()])
        again = mpirun(2, ["--images", images, "--out", resumed] + COMMON[:-1])
        if f"already in store {kept}," not in again.stdout:
            sys.exit(f"FAIL: the resumed run did not keep the {kept} shards written before the kill:\n{again.stdout}")
        same_store(one, resumed, f"killed rank, resumed with 2 ranks ({kept} images kept)")

        full = os.path.join(work, "full")
        failed = mpirun(3, ["--images", images, "--out", full] + COMMON,
                        wrapper='[ "$OMPI_COMM_WORLD_RANK" = 1 ] && export AMVA_FAULT_SHARD_STEP=1;', expect=None)
        if failed.returncode == 0 or "rank 1 of 3 failed" not in failed.stdout or "No space left" not in failed.stdout:
            sys.exit(f"FAIL: a failing rank did not abort the job naming itself:\n{failed.stdout}")
        print("ok: a failing rank aborts the job and names itself")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
