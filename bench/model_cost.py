#!/usr/bin/env python3
"""What a face recognition model costs in amva (issue 32): for the default MobileFaceNet and the
iResNet-50 and iResNet-100 that ArcFace, MagFace, AdaFace and ElasticFace use, at full width with
random weights (the cost does not depend on the weights), on this machine:

  forward      faces/s of `amva extract --aligned` with no CAM method (embeddings only);
  gradcam      faces/s of the same with --cam gradcam, and its share of the forward's rate;
  occlusion    seconds per face of --cam occlusion (the target layer's grid of masked forwards);
  scorecam     seconds per face of exact Score-CAM (--cam scorecam --channels 0: one masked
               forward per channel of the target layer);

each per-face time net of loading the model (the same command with no CAM method on the same
faces). The iResNets are built here with python3-torch (apt-get install python3-torch; only this
benchmark needs it) and exported with torch.onnx.export at opset 13 into --work, never into the
repository: 174 MB and 261 MB.

The faces are the default photos aligned by `amva cam` (eight), copied to --faces files.

Usage:
  bench/model_cost.py [--work DIR] [--amva build/apps/amva/amva] [--faces 256]
      [--occlusion-faces 4] [--scorecam-faces 2] [--models default,iresnet50,iresnet100]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGES = {"iresnet50": (3, 4, 14, 3), "iresnet100": (3, 13, 30, 3)}


def export_iresnet(name, file):
    """insightface's iResNet: a 3x3 stem at 64 channels, four stages of 64, 128, 256 and 512
    channels (blocks BN-conv-BN-PReLU-conv-BN with a shortcut, the first of each stage at
    stride 2), then BN, dropout, flatten, FC 512*7*7 -> 512 and BN."""
    try:
        import torch
        import torch.nn as nn
    except ImportError:
        sys.exit(f"{name}: python3-torch is needed to build it (sudo apt-get install python3-torch), "
                 "or leave it out: --models default")

    sys.path.insert(0, os.path.join(ROOT, "tests", "models"))
    from make_models import Block as TestBlock  # the tiny test models' block, the same layers

    class Block(TestBlock):
        def __init__(self, cin, cout, stride):
            super().__init__(cin, cout, stride)
            if stride == 1 and cin == cout:  # insightface's shortcut is a projection only where shapes change
                self.downsample = nn.Identity()

    class IResNet(nn.Module):
        def __init__(self, stages):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64))
            blocks, cin = [], 64
            for width, count in zip((64, 128, 256, 512), stages):
                for k in range(count):
                    blocks.append(Block(cin, width, 2 if k == 0 else 1))
                    cin = width
            self.body = nn.Sequential(*blocks)
            self.bn = nn.BatchNorm2d(512)
            self.dropout = nn.Dropout(0.0)
            self.fc = nn.Linear(512 * 7 * 7, 512)
            self.features = nn.BatchNorm1d(512)

        def forward(self, x):
            x = self.dropout(self.bn(self.body(self.stem(x))))
            return self.features(self.fc(torch.flatten(x, 1)))

    torch.manual_seed(0)
    model = IResNet(STAGES[name]).eval()
    torch.onnx.export(model, torch.zeros(1, 3, 112, 112), file, opset_version=13, input_names=["input"],
                      output_names=["embedding"], dynamic_axes={"input": {0: "n"}, "embedding": {0: "n"}})


def card_for(name, work):
    if name == "default":
        return "default"
    file = os.path.join(work, f"{name}.onnx")
    if not os.path.exists(file):
        print(f"exporting {name} (torch.onnx.export)", flush=True)
        export_iresnet(name, file)
    card = os.path.join(work, f"{name}.json")
    with open(card, "w") as f:
        json.dump({"name": f"{name} (full width, random weights)", "file": os.path.basename(file),
                   "input": {"name": "input", "width": 112, "height": 112, "channel_order": "RGB",
                             "mean": [127.5] * 3, "std": [127.5] * 3},
                   "embedding_output": "embedding"}, f)
    return card


def timed(cmd, env):
    start = time.monotonic()
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout[-2000:]}")
    return time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=None)
    ap.add_argument("--amva", default=os.path.join(ROOT, "build", "apps", "amva", "amva"))
    ap.add_argument("--faces", type=int, default=256)
    ap.add_argument("--occlusion-faces", type=int, default=4)
    ap.add_argument("--scorecam-faces", type=int, default=2)
    ap.add_argument("--models", default="default,iresnet50,iresnet100")
    a = ap.parse_args()
    work = os.path.abspath(a.work or tempfile.mkdtemp(prefix="amva-model-cost-"))
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, AMVA_CACHE=os.path.join(work, "cache"))

    # The default photos, aligned once, repeated under distinct names.
    aligned = os.path.join(work, "aligned")
    if not os.path.isdir(aligned):
        sources = os.path.join(ROOT, "data", "default", "sources")
        cmd = [a.amva, "cam", "--out", os.path.join(work, "cam"), "--cam", "gradcam", "-q"]
        for photo in sorted(os.listdir(sources)):
            cmd += ["--image", os.path.join(sources, photo)]
        timed(cmd, env)
        os.makedirs(aligned + ".tmp", exist_ok=True)
        faces = sorted(f for f in os.listdir(os.path.join(work, "cam"))
                       if os.path.exists(os.path.join(work, "cam", f, "aligned.png")))
        for k, face in enumerate(faces):
            shutil.copy(os.path.join(work, "cam", face, "aligned.png"), os.path.join(aligned + ".tmp", f"{k}.png"))
        os.rename(aligned + ".tmp", aligned)
    originals = sorted(os.listdir(aligned))

    def face_list(n):
        """n faces as n files (extraction reads a file listed twice once): the aligned faces copied."""
        folder = os.path.join(work, "faces")
        os.makedirs(folder, exist_ok=True)
        file = os.path.join(work, f"faces{n}.txt")
        with open(file, "w") as f:
            for i in range(n):
                face = os.path.join(folder, f"face{i:05d}.png")
                if not os.path.exists(face):
                    shutil.copy(os.path.join(aligned, originals[i % len(originals)]), face)
                f.write(f"{face}\n")
        return file

    def extract(card, n, cams, extra=()):
        out = os.path.join(work, "store")
        shutil.rmtree(out, ignore_errors=True)
        cmd = [a.amva, "extract", "--images", face_list(n), "--aligned", "--out", out, "--model-card", card, "-q"]
        if cams:
            cmd += ["--cam", cams]
        return timed(cmd + list(extra), env)

    rows = []
    for name in a.models.split(","):
        card = card_for(name, work)
        extract(card, 2, "gradcam")  # the Jacobian of the head into the cache, outside the timings
        forward = extract(card, a.faces, "")
        gradcam = extract(card, a.faces, "gradcam")
        plain_occ = extract(card, a.occlusion_faces, "")
        occlusion = (extract(card, a.occlusion_faces, "occlusion") - plain_occ) / a.occlusion_faces
        plain_sc = extract(card, a.scorecam_faces, "")
        scorecam = (extract(card, a.scorecam_faces, "scorecam", ["--channels", "0"]) - plain_sc) / a.scorecam_faces
        rows.append((name, a.faces / forward, a.faces / gradcam, forward / gradcam, occlusion, scorecam))
        print(f"{name}: forward {rows[-1][1]:.1f} faces/s, gradcam {rows[-1][2]:.1f} faces/s "
              f"({100 * rows[-1][3]:.0f} % of the forward), occlusion {occlusion:.2f} s/face, "
              f"exact scorecam {scorecam:.1f} s/face", flush=True)
    print("\n| model | forward faces/s | gradcam faces/s (share of forward) | occlusion s/face | exact Score-CAM s/face |")
    print("|---|---|---|---|---|")
    for name, fwd, gc, share, occ, sc in rows:
        print(f"| {name} | {fwd:.1f} | {gc:.1f} ({100 * share:.0f} %) | {occ:.2f} | {sc:.1f} |")


if __name__ == "__main__":
    main()
