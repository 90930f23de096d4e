#!/usr/bin/env python3
"""Where does a single-image explanation point when part of the face is covered?

For each CAM method: aligned crops of the given faces (made by `amva cam`), a reference from
their analysis (extract with the method, the FIQA method's high group), then grey patches
over the eye on the image's left and right, the nose, the mouth and the forehead, a dark
scarf over the lower face and a skin-coloured hand over mouth and cheek, each explained
against that reference. A hit is the largest deviation within the patch or within 8 px of it
(aligned coordinates); chance is the share of the face such a box covers. Deviation: D =
|MAM - AM| (the seed paper's map), |Z| = |AM - MAM| / (AM-V + eps), and the loss MAM - AM
(where the face gives less than high-quality faces do).

Usage:
  bench/occlusion_hits.py --faces DIR|LIST [--methods gradcam,occlusion] [--work DIR]
      [--fiqa sharpness] [--group top:50] [--limit N] [--amva build/apps/amva/amva]

Prints one table (method x part x deviation) with chance, and the cost of the reference per
face and of an explanation per image. Needs Debian's python3-numpy and python3-opencv.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import cv2
import numpy as np

# ArcFace's 112x112 template: eye on the image's left, right, nose tip, mouth corners.
TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
                     [70.7299, 92.2041]])
IOD = float(np.linalg.norm(TEMPLATE[1] - TEMPLATE[0]))
EYES = (TEMPLATE[0] + TEMPLATE[1]) / 2
MOUTH = (TEMPLATE[3] + TEMPLATE[4]) / 2
HALF = 0.3 * IOD  # a patch of 0.6 x the inter-eye distance, as the test suite's
REACH = 8


def square(centre):
    return (centre[0] - HALF, centre[1] - HALF, centre[0] + HALF, centre[1] + HALF)


# part -> (box x0, y0, x1, y1 in aligned pixels, how it is drawn)
PARTS = {
    "eye_left": (square(TEMPLATE[0]), "grey"),
    "eye_right": (square(TEMPLATE[1]), "grey"),
    "nose": (square(TEMPLATE[2]), "grey"),
    "mouth": (square(MOUTH), "grey"),
    "forehead": (square(EYES + (EYES - MOUTH) * 0.6), "grey"),
    "scarf": ((MOUTH[0] - 0.8 * IOD, TEMPLATE[2][1] + 0.3 * IOD, MOUTH[0] + 0.8 * IOD, 111.0), "dark"),
    "hand": ((MOUTH[0] - 0.85 * IOD, MOUTH[1] - 0.55 * IOD, MOUTH[0] + 0.15 * IOD, MOUTH[1] + 0.45 * IOD), "skin"),
}
COLOURS = {"grey": (128, 128, 128), "dark": (40, 40, 48), "skin": (120, 155, 200)}


def run(cmd, log):
    start = time.time()
    with open(log, "w") as f:
        rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT)
    if rc != 0:
        sys.exit(f"failed ({rc}): {' '.join(cmd)}\n{open(log).read()[-3000:]}")
    return time.time() - start


def draw(face, part):
    (x0, y0, x1, y1), kind = PARTS[part]
    out = face.copy()
    if kind == "skin":  # a hand: an ellipse, softer than a square
        centre = (int(round((x0 + x1) / 2)), int(round((y0 + y1) / 2)))
        axes = (int(round((x1 - x0) / 2)), int(round((y1 - y0) / 2)))
        cv2.ellipse(out, centre, axes, -20, 0, 360, COLOURS[kind], -1, cv2.LINE_AA)
    else:
        cv2.rectangle(out, (int(round(x0)), int(round(y0))), (int(round(x1)), int(round(y1))), COLOURS[kind], -1)
    return out


def hit_box(part):
    (x0, y0, x1, y1), _ = PARTS[part]
    return max(0.0, x0 - REACH), max(0.0, y0 - REACH), min(111.0, x1 + REACH), min(111.0, y1 + REACH)


def chance(part):
    x0, y0, x1, y1 = hit_box(part)
    return (np.floor(x1) - np.ceil(x0) + 1) * (np.floor(y1) - np.ceil(y0) + 1) / (112 * 112)


def image_list(arg, limit):
    if os.path.isdir(arg):
        files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(arg) for f in fs
                       if f.lower().endswith((".jpg", ".jpeg", ".png")))
    else:
        base = os.path.dirname(os.path.abspath(arg))
        files = [os.path.join(base, line.split("\t")[0].strip()) for line in open(arg) if line.strip()]
    return files[:limit] if limit else files


def measure(amva, a, method, clean, occluded, store, analysis, explained, grid, mdir):
    """Reference (extract and analyze the clean faces), then the explanations; their seconds."""
    t_ref = run(amva + ["extract", "--images", clean, "--aligned", "--out", store, "--cam", method, "--quality",
                        a.fiqa, "--threads", str(a.threads), "-q"] + grid, os.path.join(mdir, "extract.log"))
    run(amva + ["analyze", "--store", store, "--out", analysis, "--methods", a.fiqa, "--group", a.group,
                "--normalize", a.normalize, "--no-figures", "--bootstrap", "0", "--force", "-q"],
        os.path.join(mdir, "analyze.log"))
    t_explain = run(amva + ["explain", "--reference", os.path.join(analysis, "reference_" + a.fiqa), "--image",
                            occluded, "--aligned", "--out", explained, "--threads", str(a.threads), "--force", "-q"],
                    os.path.join(mdir, "explain.log"))
    return t_ref, t_explain


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--faces", required=True)
    p.add_argument("--methods", default="gradcam,occlusion")
    p.add_argument("--work", default="occlusion-bench")
    p.add_argument("--fiqa", default="sharpness")
    p.add_argument("--group", default="top:50")
    p.add_argument("--limit", type=int, default=0, help="first N faces only")
    p.add_argument("--explain-limit", type=int, default=0, help="occlude only the first N faces")
    p.add_argument("--normalize", default="minmax", help="amva analyze --normalize for the reference")
    p.add_argument("--occlusion-grid", type=int, default=0, help="amva extract --occlusion-grid (occlusion)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reuse", action="store_true", help="measure again from explanations already in --work")
    p.add_argument("--pose", action="store_true", help="also turned faces and their mirror images (last method)")
    p.add_argument("--amva", default=os.path.join(os.path.dirname(__file__), "..", "build", "apps", "amva", "amva"))
    a = p.parse_args()
    amva = [os.path.abspath(a.amva)]
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)

    clean = os.path.join(work, "clean")
    if not os.path.isdir(clean):
        crops = os.path.join(work, "crops")
        cmd = amva + ["cam", "--out", crops, "--cam", "gradcam", "-q"]
        for f in image_list(a.faces, a.limit):
            cmd += ["--image", f]
        run(cmd, os.path.join(work, "crops.log"))
        os.makedirs(clean + ".tmp", exist_ok=True)
        for name in sorted(os.listdir(crops)):
            aligned = os.path.join(crops, name, "aligned.png")
            if os.path.exists(aligned):
                os.replace(aligned, os.path.join(clean + ".tmp", name + ".png"))
        os.replace(clean + ".tmp", clean)
    faces = sorted(os.listdir(clean))
    occluded = os.path.join(work, "occluded")
    if not os.path.isdir(occluded):
        os.makedirs(occluded + ".tmp", exist_ok=True)
        for name in faces[:a.explain_limit or None]:
            face = cv2.imread(os.path.join(clean, name))
            for part in PARTS:
                cv2.imwrite(os.path.join(occluded + ".tmp", f"{name[:-4]}__{part}.png"), draw(face, part))
        os.replace(occluded + ".tmp", occluded)
    explained_images = len(os.listdir(occluded))

    rows = []
    costs = {}
    for method in a.methods.split(","):
        grid = ["--occlusion-grid", str(a.occlusion_grid)] if method == "occlusion" and a.occlusion_grid else []
        label = method + (f"/{a.occlusion_grid}" if grid else "") + ("" if a.normalize == "minmax" else f"/{a.normalize}")
        mdir = os.path.join(work, label.replace("/", "_"))
        os.makedirs(mdir, exist_ok=True)
        store, analysis, explained = (os.path.join(mdir, x) for x in ("store", "analysis", "explained"))
        if a.reuse and os.path.exists(os.path.join(explained, "ranking.csv")):
            t_ref = t_explain = float("nan")
        else:
            t_ref, t_explain = measure(amva, a, method, clean, occluded, store, analysis, explained, grid, mdir)
        costs[label] = (t_ref / len(faces), t_explain / explained_images)
        for part in PARTS:
            x0, y0, x1, y1 = hit_box(part)
            mam = np.load(os.path.join(analysis, "reference_" + a.fiqa, "mam.npy"))
            for kind in ("d", "z", "loss"):
                hits = n = 0
                for name in faces[:a.explain_limit or None]:
                    f = os.path.join(explained, f"{name[:-4]}__{part}", "am.npy" if kind == "loss" else f"{kind}.npy")
                    if not os.path.exists(f):
                        continue
                    # loss: where the face gives less than the reference's mean map (MAM - AM > 0)
                    m = mam - np.load(f) if kind == "loss" else np.abs(np.load(f))
                    y, x = np.unravel_index(np.argmax(m), m.shape)
                    hits += int(x0 <= x <= x1 and y0 <= y <= y1)
                    n += 1
                rows.append({"method": label, "part": part, "deviation": {"d": "D", "z": "|Z|", "loss": "loss"}[kind], "hits": hits,
                             "n": n, "chance": chance(part)})

    print(f"faces {len(faces)} (reference: {a.fiqa}, {a.group}, normalisation {a.normalize}), occluded images "
          f"{explained_images}")
    print(f"{'method':<10} {'part':<10} {'map':<5} {'hits':>9} {'rate':>6} {'chance':>7}")
    for r in rows:
        rate = r["hits"] / r["n"] if r["n"] else float("nan")
        print(f"{r['method']:<10} {r['part']:<10} {r['deviation']:<5} {r['hits']:>4}/{r['n']:<4} {100 * rate:>5.0f}% "
              f"{100 * r['chance']:>6.0f}%")
    for method, (ref, per_image) in costs.items():
        print(f"cost {method}: reference {ref:.3f} s per face (extraction with {a.fiqa}), explanation "
              f"{per_image:.3f} s per image (2 threads)")
    pose = pose_sides(amva, a, work, clean, faces) if a.pose else None
    with open(os.path.join(work, "hits.json"), "w") as f:
        json.dump({"rows": rows, "costs": costs, "pose": pose}, f, indent=1)


def pose_sides(amva, a, work, clean, faces):
    """Turned faces: the clean faces and their mirror images explained with the last method's
    reference. For a face turned by 20 degrees or more, the far side (the image's left when
    the nose points left, yaw > 0) shows less face; is the loss's mass (positive part) there,
    and does it move to the other side in the mirror image?"""
    method = a.methods.split(",")[-1]
    mdir = os.path.join(work, method)
    both = os.path.join(work, "pose_faces")
    if not os.path.isdir(both):
        os.makedirs(both + ".tmp", exist_ok=True)
        for name in faces:
            face = cv2.imread(os.path.join(clean, name))
            cv2.imwrite(os.path.join(both + ".tmp", name), face)
            cv2.imwrite(os.path.join(both + ".tmp", name[:-4] + "__mirror.png"), cv2.flip(face, 1))
        os.replace(both + ".tmp", both)
    out = os.path.join(mdir, "pose_explained")
    if not (a.reuse and os.path.exists(os.path.join(out, "ranking.csv"))):
        run(amva + ["explain", "--reference", os.path.join(mdir, "analysis", "reference_" + a.fiqa), "--image", both,
                    "--aligned", "--out", out, "--threads", str(a.threads), "--force", "-q"],
            os.path.join(mdir, "pose_explain.log"))
    turned = far = moved = pairs = 0
    for name in faces:
        sides = []
        for suffix in ("", "__mirror"):
            d = os.path.join(out, name[:-4] + suffix)
            if not os.path.exists(os.path.join(d, "explain.json")):
                break
            j = json.load(open(os.path.join(d, "explain.json")))
            loss = np.maximum(np.load(os.path.join(d, "loss.npy")), 0)
            left, right = loss[:, :56].sum(), loss[:, 56:].sum()
            sides.append((j.get("pose", {}).get("yaw", 0.0), "left" if left > right else "right"))
        if len(sides) != 2:
            continue
        (yaw, side), (_, mirrored) = sides
        pairs += 1
        moved += int(side != mirrored)
        if abs(yaw) >= 20:
            turned += 1
            far += int(side == ("left" if yaw > 0 else "right"))
    result = {"method": method, "faces": pairs, "loss_side_flips_with_mirror": moved, "turned_20": turned,
              "loss_on_far_side": far}
    print(f"pose ({method} maps): {turned} of {pairs} faces turned 20 degrees or more; the loss lies mostly on the "
          f"far side for {far} of them; the loss's side flips in the mirror image for {moved} of {pairs} faces")
    return result


if __name__ == "__main__":
    main()
