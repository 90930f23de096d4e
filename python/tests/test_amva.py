"""The Python API against the CLI on the same data: equal results, amva's errors as exceptions."""
import csv
import json
import os
import subprocess

import cv2
import numpy as np
import pytest

import amva

CLI = os.environ["AMVA_CLI"]
SOURCE = os.environ["AMVA_SOURCE_DIR"]
FACE = os.path.join(SOURCE, "tests", "models", "face.png")


def cli(*args):
    p = subprocess.run([CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, p.stdout
    return p.stdout


def test_maps_of_aligned_faces_equal_amva_cam(tmp_path):
    face = cv2.imread(FACE)
    one = amva.compute_maps(face[None], methods=["gradcam", "layercam"])
    two = amva.compute_maps(np.stack([face, face[:, ::-1].copy()]), methods=["gradcam", "layercam"])
    assert two["gradcam"].shape == (2, 7, 7) and two["embeddings"].shape == (2, 512)
    cli("cam", "--image", FACE, "--aligned", "--cam", "gradcam,layercam", "--out", str(tmp_path))
    for m in ("gradcam", "layercam"):
        from_cli = np.load(tmp_path / "face" / f"{m}.npy")
        assert np.array_equal(one[m][0], from_cli)
        # In a batch of two, the forward pass sums in another order: float rounding only.
        assert np.allclose(two[m][0], from_cli, rtol=0, atol=1e-6)


def test_method_settings_reach_the_method_as_the_cli_gives_them(tmp_path):
    face = cv2.imread(FACE)
    maps = amva.compute_maps(face[None], methods=["occlusion"], settings={"occlusion": {"grid": 4}})
    assert maps["occlusion"].shape == (1, 4, 4)
    cli("cam", "--image", FACE, "--aligned", "--cam", "occlusion", "--occlusion-grid", "4", "--out", str(tmp_path))
    assert np.array_equal(maps["occlusion"][0], np.load(tmp_path / "face" / "occlusion.npy"))
    with pytest.raises(amva.Error, match="gradcam has no setting 'grid'"):
        amva.compute_maps(face[None], methods=["gradcam"], settings={"gradcam": {"grid": 4}})


def test_store_reads_as_numpy(tmp_path):
    cli("extract", "--images", os.path.join(SOURCE, "tests", "models"), "--aligned", "--out", str(tmp_path / "s"),
        "--cam", "gradcam", "--quiet")
    s = amva.read_store(str(tmp_path / "s"))
    rows = {r["path"]: r for r in s["index"]}
    assert rows["face.png"]["ok"] and not rows["make_models.py"]["ok"], "other files are failure records"
    assert np.array_equal(s["arrays"]["maps_gradcam"], np.load(tmp_path / "s" / "maps_gradcam.npy"), equal_nan=True)
    assert np.array_equal(s["arrays"]["embeddings"], np.load(tmp_path / "s" / "embeddings.npy"), equal_nan=True)


def test_analysis_from_numpy_equals_import_and_analyze(tmp_path):
    rng = np.random.default_rng(5)
    n = 240
    quality = rng.random(n)
    centre = np.zeros((7, 7), np.float32)
    centre[2:5, 2:5] = 1
    maps = (centre + (1.2 - quality)[:, None, None] * rng.random((n, 7, 7))).astype(np.float32)
    paths = [f"p{i % 30:02d}/img_{i:04d}.jpg" for i in range(n)]
    summary = amva.analyze(maps, {"q": quality.tolist()}, str(tmp_path / "py"), paths=paths, bootstrap=200,
                           identities_from_folders=True)
    np.save(tmp_path / "maps.npy", maps)
    (tmp_path / "list.txt").write_text("".join(p + "\n" for p in paths))
    (tmp_path / "q.txt").write_text("".join(f"{p} {q!r}\n" for p, q in zip(paths, quality)))
    cli("import", "--maps", str(tmp_path / "maps.npy"), "--list", str(tmp_path / "list.txt"), "--out",
        str(tmp_path / "store"))
    cli("analyze", "--store", str(tmp_path / "store"), "--cam", "external", "--scores", str(tmp_path / "q.txt"),
        "--labels-from-folders", "--bootstrap", "200", "--no-figures", "--out", str(tmp_path / "cli"))
    expected = json.loads((tmp_path / "cli" / "summary.json").read_text())["methods"]["q"]
    got = summary["methods"]["q"]
    assert got["comparison"]["finding"] == expected["comparison"]["finding"] == "reproduced"
    # The calibrated verdicts: the same permutation p and null controls through the module as the CLI.
    assert got["comparison"]["permutation"]["p_outside"] == expected["comparison"]["permutation"]["p_outside"]
    # whole people are permuted: at most the 30 people, far fewer blocks than the 48 pooled faces
    assert got["comparison"]["permutation"]["blocks"] == expected["comparison"]["permutation"]["blocks"] <= 30
    assert summary["null_controls"]["count"] == 20
    assert summary["null_controls"]["false_verdicts"] == \
        json.loads((tmp_path / "cli" / "summary.json").read_text())["null_controls"]["false_verdicts"]
    for g in ("low", "high"):
        for side in ("inside", "outside"):
            a = got["groups"][g]["region"][side]
            b = expected["groups"][g]["region"][side]
            assert a["mean_amv"] == pytest.approx(b["mean_amv"], abs=1e-9)
            assert a["mean_amv_ci"] == pytest.approx(b["mean_amv_ci"], abs=1e-9)


def test_edc_from_numpy(tmp_path):
    rng = np.random.default_rng(7)
    people = 40
    centres = rng.normal(size=(people, 64))
    identities = [f"id{i % people}" for i in range(400)]
    quality = rng.random(400)
    emb = np.stack([centres[i % people] + (1.5 - quality[i]) * rng.normal(size=64) for i in range(400)])
    result = amva.edc(emb.astype(np.float32), {"q": quality.tolist()}, identities, str(tmp_path / "edc"),
                      bootstrap=0)
    q = result["methods"]["q"]["fnm_edc"]["pauc"]["0.20"]
    r = result["baselines"]["fnm_edc"]["random_pauc_mean"]["0.20"]
    assert q < r, "discarding by the quality that made the noise lowers the error faster than random"


def test_errors_are_amva_errors():
    with pytest.raises(amva.Error, match="faces must be uint8 N x 112 x 112 x 3"):
        amva.compute_maps(np.zeros((1, 64, 64, 3), np.uint8))
    with pytest.raises(amva.Error, match="model card 'nonexistent' not found"):
        amva.compute_maps(np.zeros((1, 112, 112, 3), np.uint8), model_card="nonexistent")
    with pytest.raises(amva.Error, match="scores 'q' has 3 values for 4 maps"):
        amva.analyze(np.ones((4, 7, 7), np.float32), {"q": [1.0, 2.0, 3.0]}, "/tmp/amva-never-written")


def test_explanation_equals_amva_explain(tmp_path):
    sources = os.path.join(SOURCE, "data", "default", "sources")
    cli("extract", "--images", sources, "--all-faces", "--out", str(tmp_path / "s"), "--cam", "gradcam",
        "--quality", "sharpness", "--quiet")
    cli("analyze", "--store", str(tmp_path / "s"), "--methods", "sharpness", "--group", "top:30", "--bootstrap", "50",
        "--no-figures", "--out", str(tmp_path / "an"))
    reference = str(tmp_path / "an" / "reference_sharpness")
    photo = os.path.join(sources, "grace_hopper.jpg")
    ours = amva.explain([photo], reference, str(tmp_path / "py"))
    cli("explain", "--reference", reference, "--image", photo, "--out", str(tmp_path / "cli"))
    folder = next(p for p in (tmp_path / "cli").iterdir() if (p / "explain.json").exists())
    theirs = json.loads((folder / "explain.json").read_text())
    assert len(ours) == 1 and ours[0]["deviation"] == theirs["deviation"]
    with pytest.raises(amva.Error, match="reference"):
        amva.explain([photo], str(tmp_path / "nowhere"), str(tmp_path / "py2"))


def test_analysis_of_several_map_kinds_has_a_robustness_grid(tmp_path):
    # The effect lives in one map kind only: the grid's line names the CAM method.
    rng = np.random.default_rng(9)
    n = 240
    quality = rng.random(n)
    centre = np.zeros((7, 7), np.float32)
    centre[2:5, 2:5] = 1
    varying = (centre + (1.2 - quality)[:, None, None] * rng.random((n, 7, 7))).astype(np.float32)
    flat = (centre + 0.6 * rng.random((n, 7, 7))).astype(np.float32)
    paths = [f"p{i % 30:02d}/img_{i:04d}.jpg" for i in range(n)]
    summary = amva.analyze({"flat": flat, "gradcam": varying}, {"q": quality.tolist()}, str(tmp_path / "py"),
                           paths=paths, bootstrap=100, permutations=99, null_controls=0,
                           identities_from_folders=True, robustness=True)
    assert summary["settings"]["cam"]["method"] == "gradcam", "gradcam is the kind analysed"
    grid = summary["robustness"]
    assert grid["grid"]["cams"] == ["flat", "gradcam"]
    assert len(grid["specifications"]) == 2 * 3 * 4 * 3
    line = grid["methods"]["q"]
    assert line["turns_on"]["dimension"] == "cam", line["sentence"]
    by_cam = {v["value"]: v for v in line["turns_on"]["values"]}
    assert by_cam["flat"]["reproduced"] == 0
    assert by_cam["gradcam"]["reproduced"] > by_cam["gradcam"]["specifications"] / 2
    own = [s for s in grid["specifications"] if (s["cam"], s["normalize"], s["group"], s["margin"]) ==
           ("gradcam", "minmax", "top:10", 0.25)]
    assert len(own) == 1 and own[0]["p"] == summary["methods"]["q"]["comparison"]["permutation"]["p_outside"]


def test_faithfulness_equals_amva_faithfulness(tmp_path):
    sources = os.path.join(SOURCE, "data", "default", "sources")
    cli("extract", "--images", sources, "--out", str(tmp_path / "s"), "--cam", "gradcam", "--quiet")
    ours = amva.faithfulness(str(tmp_path / "s"), str(tmp_path / "py"), faces=2, steps=3)
    cli("faithfulness", "--store", str(tmp_path / "s"), "--out", str(tmp_path / "cli"), "--faces", "2", "--steps", "3",
        "--quiet")
    theirs = json.loads((tmp_path / "cli" / "faithfulness.json").read_text())
    assert ours["orders"] == ["gradcam", "random", "centre"]
    assert [s["deletion"] for s in ours["scores"]] == [s["deletion"] for s in theirs["scores"]]
    with pytest.raises(amva.Error, match="no face|not a store|meta.json"):
        amva.faithfulness(str(tmp_path / "nowhere"), str(tmp_path / "py2"))


def test_deviation_equals_amva_quality(tmp_path):
    sources = os.path.join(SOURCE, "data", "default", "sources")
    cli("extract", "--images", sources, "--out", str(tmp_path / "s"), "--cam", "gradcam", "--quality", "sharpness",
        "--quiet")
    cli("quality", "--store", str(tmp_path / "s"), "--methods", "deviation", "--deviation-cam", "gradcam",
        "--deviation-folds", "2", "--deviation-reference", "sharpness", "--deviation-group", "top:50", "--quiet")
    s = amva.read_store(str(tmp_path / "s"))
    ok = np.array([r["ok"] for r in s["index"]])
    assert ok.all(), "every source photo has a face: the folds number the same faces"
    with open(tmp_path / "s" / "quality.csv") as f:
        rows = list(csv.DictReader(f))
    sharpness = np.array([float(r["sharpness"]) for r in rows])[ok]
    stored = np.array([float(r["deviation"]) for r in rows])[ok]
    ours = amva.deviation(s["arrays"]["maps_gradcam"][ok], sharpness.tolist(), folds=2, group="top:50")
    # quality.csv holds it negated, written with the shortest exact decimal form.
    assert np.array_equal(-ours["deviation"], stored)
    assert sorted(set(ours["fold"].tolist())) == [0, 1]
    with pytest.raises(amva.Error, match="reference scores for"):
        amva.deviation(s["arrays"]["maps_gradcam"][ok], [1.0])
