#!/usr/bin/env python3
"""How often amva's verdicts call noise an effect on real data (issue 28's calibration).

Makes K null score columns for the faces of a store: sqrt(icc) x a person effect plus
sqrt(1 - icc) x a face effect (standard normal; the person is the image's parent folder, so
the scores cluster by identity as real quality scores do; SER-FIQ's ICC on wild photos is
0.44). They carry no information about the maps. Each column goes through `amva analyze` as an
external FIQA method, judged alone (`--family none`, no built-in controls), in three settings:

  people      identities known (--labels-from-folders): permutations move whole people
  images      identities withheld (--no-identities): images moved one by one
  parametric  identities known, per-cell Brown-Forsythe test with Benjamini-Hochberg
              (--cell-test brown-forsythe), the per-cell test amva used before

and prints, per setting, the share of columns with a false verdict (reproduced or reversed)
and with at least one significant cell, each with its standard error, against the nominal
0.05 (a calibrated setting stays at most 0.05 plus two standard errors), and the warning
amva's own null controls gave on the same data.

Usage:
  bench/calibration.py --store STORE [--columns 100] [--icc 0.5] [--seed 28]
      [--settings people,images,parametric] [--amva build/apps/amva/amva] [--work DIR]
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

SETTINGS = {
    "people": ["--labels-from-folders"],
    "images": ["--no-identities"],
    "parametric": ["--labels-from-folders", "--cell-test", "brown-forsythe"],
}


def null_columns(store, columns, icc, seed):
    with open(os.path.join(store, "index.csv"), newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["status"] == "ok"]
    paths = [r["path"] for r in rows]
    people = sorted({os.path.dirname(p) for p in paths})
    person_of = {p: i for i, p in enumerate(people)}
    rng = np.random.default_rng(seed)
    person = rng.standard_normal((columns, len(people)))
    face = rng.standard_normal((columns, len(paths)))
    index = np.array([person_of[os.path.dirname(p)] for p in paths])
    scores = math.sqrt(icc) * person[:, index] + math.sqrt(1 - icc) * face
    return paths, scores, len(people)


def analyse(amva, store, out, score_file, names, extra):
    cmd = [amva, "analyze", "--store", store, "--out", out, "--family", "none", "--no-figures", "-q"] + extra
    for n in names:
        cmd += ["--scores", f"{n}={score_file}:{n}"]
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    seconds = time.monotonic() - start
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    return summary, seconds


def controls_warning(amva, store, out, extra):
    """amva's own null controls on the same store, with its real methods."""
    cmd = [amva, "analyze", "--store", store, "--out", out, "--no-figures", "-q"] + extra
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f).get("null_controls")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", required=True)
    ap.add_argument("--columns", type=int, default=100)
    ap.add_argument("--icc", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=28)
    ap.add_argument("--settings", default="people,images,parametric")
    ap.add_argument("--amva", default=os.path.join(os.path.dirname(__file__), "..", "build", "apps", "amva", "amva"))
    ap.add_argument("--work")
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="amva-calibration-")
    os.makedirs(work, exist_ok=True)
    paths, scores, people = null_columns(args.store, args.columns, args.icc, args.seed)
    names = [f"null_{k + 1:03d}" for k in range(args.columns)]
    score_file = os.path.join(work, "null_scores.csv")
    with open(score_file, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path"] + names)
        for i, p in enumerate(paths):
            w.writerow([p] + [repr(float(scores[k, i])) for k in range(args.columns)])
    print(f"{args.store}: {len(paths)} faces of {people} people; {args.columns} null columns, icc {args.icc}")
    results = {}
    for setting in args.settings.split(","):
        summary, seconds = analyse(args.amva, args.store, os.path.join(work, setting), score_file, names,
                                   SETTINGS[setting])
        methods = summary["methods"]
        false = sum(m["comparison"]["finding"] in ("reproduced", "reversed") for m in methods.values())
        cells = sum(
            m["comparison"].get("variance_test", {}).get("significant_inside", 0)
            + m["comparison"].get("variance_test", {}).get("significant_outside", 0) > 0
            for m in methods.values())
        n = len(methods)
        rate = lambda k: (k / n, math.sqrt(max(k / n * (1 - k / n), 0.05 * 0.95) / n))
        results[setting] = {"columns": n, "false_verdicts": false, "with_significant_cell": cells,
                            "seconds": seconds, "unit": summary["settings"]["bootstrap"]["unit"]}
        fr, fse = rate(false)
        cr, cse = rate(cells)
        bound = 0.05 + 2 * math.sqrt(0.05 * 0.95 / n)
        print(f"  {setting:<11} false verdicts {fr:.3f} (se {fse:.3f}), a significant cell {cr:.3f} (se {cse:.3f}); "
              f"calibrated if <= {bound:.3f}; {seconds:.0f} s")
    for setting, extra in (("people", ["--labels-from-folders"]), ("images", ["--no-identities"])):
        if setting not in results:
            continue
        nc = controls_warning(args.amva, args.store, os.path.join(work, f"controls_{setting}"), extra)
        results[setting]["null_controls"] = nc
        print(f"  amva's own null controls ({setting}): {nc['false_verdicts']}/{nc['count']} false verdicts, "
              f"{nc['with_significant_cell']}/{nc['count']} with a significant cell, warns: {nc['warns']}")
    with open(os.path.join(work, "calibration.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"wrote {os.path.join(work, 'calibration.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
