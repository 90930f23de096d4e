"""Draws the figures amva describes in a JSON job file (see include/amva/viz/figures.hpp).

Usage: python3 plots.py JOB.json
Each figure is written as FILE.png (150 dpi), and as FILE.svg when the job says "svg": true.
The keys read here are the ones FigureBatch writes (the structs in figures.hpp); a test holds
both sides to the same set.
"""
import json
import multiprocessing
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from PIL import Image  # noqa: E402

plt.rcParams.update({"font.size": 9, "axes.titlesize": 9, "figure.titlesize": 11})
# Line panels per row: a figure wider than this shrinks below legibility at page width.
MAX_PANELS_PER_ROW = 3
COLORMAP = "jet"
SVG = False
PNG_DPI = 150


def as_array(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def save(fig, file, cells=None):
    """Writes FILE.png (and FILE.svg with SVG) cropped to the drawn content. With `cells` (pairs of axes
    and the .npy it shows), also FILE.axes.json: where each map lies in the PNG, as fractions
    of its width and height from the top left, so that a viewer can read a pixel's value."""
    fig.set_dpi(PNG_DPI)
    # Lay the figure out once, without rendering it: the crop box needs only the layout, and
    # every figure is then rendered exactly once. Keeping the layout makes the PNG, the SVG and
    # the cell boxes agree.
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
    # No engine at all (not "none", a placeholder): savefig would lay the figure out again.
    fig.set_layout_engine(None)
    renderer = fig.canvas.get_renderer()
    content = fig.get_tightbbox(renderer)
    box = content.padded(0.1)  # inches, what bbox_inches="tight" crops to
    width, height = fig.get_size_inches()
    if content.x0 >= 0 and content.y0 >= 0 and content.x1 <= width and content.y1 <= height:
        # The content lies on the canvas: render it once and crop the pixels, on the figure's
        # background where the margin reaches past the canvas.
        fig.canvas.draw()
        drawn = np.asarray(renderer.buffer_rgba())
        top, left = round((height - box.y1) * PNG_DPI), round(box.x0 * PNG_DPI)
        out = np.empty((round(box.height * PNG_DPI), round(box.width * PNG_DPI), 4), dtype=np.uint8)
        out[:] = np.round(np.array(matplotlib.colors.to_rgba(fig.get_facecolor())) * 255).astype(np.uint8)
        src_top, src_left = max(top, 0), max(left, 0)
        src_bottom = min(top + out.shape[0], drawn.shape[0])
        src_right = min(left + out.shape[1], drawn.shape[1])
        out[src_top - top:src_bottom - top, src_left - left:src_right - left] = \
            drawn[src_top:src_bottom, src_left:src_right]
        Image.fromarray(out).save(file + ".png", dpi=(PNG_DPI, PNG_DPI))
    else:  # a legend below the axes, say, reaches past the canvas
        fig.savefig(file + ".png", dpi=PNG_DPI, bbox_inches=box)
    if SVG:
        fig.savefig(file + ".svg", bbox_inches=box)
    if cells:
        located = []
        for ax, npy, title in cells:
            e = ax.get_window_extent(renderer)  # display pixels at fig.dpi, origin bottom left
            x0, x1 = e.x0 / fig.dpi, e.x1 / fig.dpi
            y0, y1 = e.y0 / fig.dpi, e.y1 / fig.dpi
            located.append({"npy": os.path.relpath(npy, os.path.dirname(os.path.abspath(file))), "title": title,
                            "box": [(x0 - box.x0) / box.width, (box.y1 - y1) / box.height,
                                    (x1 - box.x0) / box.width, (box.y1 - y0) / box.height]})
        with open(file + ".axes.json", "w") as f:
            json.dump({"cells": located}, f)
    plt.close(fig)


def heatmap_grid(spec):
    cells = [[np.load(c) if c else None for c in row] for row in spec["cells"]]
    outlines = [[np.load(c) if c else None for c in row] for row in spec.get("outlines", [])]
    rows, cols = len(cells), max(len(r) for r in cells)
    column_scale = spec.get("column_scale")
    shared = spec.get("shared_scale", True) and not column_scale
    diverging = spec.get("diverging", False)
    cmap = "RdBu_r" if diverging else COLORMAP

    def centred(lo, hi):
        if not diverging:
            return lo, hi
        m = max(abs(lo), abs(hi), 1e-12)
        return -m, m

    def cell(r, c):
        return cells[r][c] if c < len(cells[r]) else None

    def value_range(columns):
        present = [cell(r, c) for r in range(rows) for c in columns if cell(r, c) is not None]
        if not present:
            return 0.0, 1.0
        return centred(float(np.nanmin([np.nanmin(x) for x in present])),
                       float(np.nanmax([np.nanmax(x) for x in present])))

    scales = {}
    if column_scale:
        for k in sorted(set(column_scale)):
            scales[k] = value_range([c for c in range(cols) if column_scale[c] == k])
    vmin, vmax = value_range(range(cols))
    extra = 1.2 if shared else (0.0 if column_scale else 0.6 * cols)
    height = 2.0 * rows + 0.6 + (0.7 if column_scale else 0.0)
    fig, axes = plt.subplots(rows, cols, figsize=(1.9 * cols + extra, height), squeeze=False, layout="constrained")
    image = None
    scale_images = {}
    located = []
    for r in range(rows):
        for c in range(cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            data = cell(r, c)
            if data is None:
                ax.axis("off")
                continue
            if column_scale:
                lo, hi = scales[column_scale[c]]
            elif shared:
                lo, hi = vmin, vmax
            else:
                lo, hi = centred(float(np.nanmin(data)), float(np.nanmax(data)))
            image = ax.imshow(data, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
            named = spec.get("cell_titles", [])
            title = named[r][c] if r < len(named) and c < len(named[r]) else " / ".join(t for t in (
                spec["row_titles"][r] if r < len(spec.get("row_titles", [])) else "",
                spec["column_titles"][c] if c < len(spec.get("column_titles", [])) else "") if t)
            located.append((ax, spec["cells"][r][c], title))
            if column_scale:
                scale_images[column_scale[c]] = image
            elif not shared:
                fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
            mask = outlines[r][c] if r < len(outlines) and c < len(outlines[r]) else None
            if mask is not None and np.nanmax(mask) > 0:
                # Hatched inside, outlined: which side of the line is significant stays readable.
                filled = ax.contourf(mask, levels=[0.5, 1.5], colors="none", hatches=["///"])
                for collection in filled.collections:
                    collection.set_edgecolor("white")
                    collection.set_linewidth(0)
                ax.contour(mask, levels=[0.5], colors="white", linewidths=1.3)
            if spec.get("box"):
                x0, y0, x1, y1 = spec["box"]
                ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="white",
                                       linestyle="--", linewidth=0.8))
            if r == 0 and c < len(spec.get("column_titles", [])):
                ax.set_title(spec["column_titles"][c])
            if c == 0 and r < len(spec.get("row_titles", [])):
                ax.set_ylabel(spec["row_titles"][r])
    if column_scale:
        labels = spec.get("scale_labels", [])
        for k, im in scale_images.items():
            group = [axes[r][c] for r in range(rows) for c in range(cols) if column_scale[c] == k]
            bar = fig.colorbar(im, ax=group, location="bottom", shrink=0.9, aspect=12 * max(1, len(group) // rows))
            bar.set_label(labels[k] if k < len(labels) else "")
    elif shared and image is not None:
        bar = fig.colorbar(image, ax=axes.ravel().tolist(), fraction=0.025, pad=0.02)
        bar.set_label(spec.get("colorbar_label", ""))
    if spec.get("title"):
        fig.suptitle(spec["title"])
    save(fig, spec["file"], located)


def line_panels(spec):
    panels = spec["panels"]
    cols = min(len(panels), MAX_PANELS_PER_ROW)
    rows = (len(panels) + cols - 1) // cols
    # One legend under the figure when every panel draws the same series: it covers no curve.
    labels = [[s.get("label", "") for s in p["series"] if not s.get("band_only")] for p in panels]
    shared_legend = len(panels) > 1 and all(x == labels[0] for x in labels) and any(labels[0])
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    for ax, panel in zip(axes.ravel(), panels):
        for s in panel["series"]:
            x, y = as_array(s["x"]), as_array(s["y"])
            style = s.get("style", "-")
            if s.get("band_only"):
                colour = ax.lines[-1].get_color() if ax.lines else None
                ax.fill_between(x, as_array(s["lo"]), as_array(s["hi"]), alpha=0.12, color=colour, linewidth=0,
                                step="post" if s.get("step") else None)
                continue
            if "lo" in s:
                lo, hi = as_array(s["lo"]), as_array(s["hi"])
                if "o" in style:
                    ax.errorbar(x, y, yerr=[y - lo, hi - y], fmt=style, capsize=3, label=s["label"])
                    continue
                ax.fill_between(x, lo, hi, alpha=0.2)
            ax.plot(x, y, style, label=s["label"], drawstyle="steps-post" if s.get("step") else "default")
        if panel.get("xmax") is not None:
            # Scale y to what is visible, not to the tail beyond xmax.
            right = panel["xmax"]
            ax.set_xlim(left=0, right=right)
            visible = [v for s in panel["series"]
                       for x, v in zip(as_array(s["x"]), as_array(s["hi"] if s.get("band_only") else s["y"]))
                       if x <= right and np.isfinite(v)]
            if visible:
                ax.set_ylim(bottom=min(0.0, min(visible)), top=1.1 * max(visible) + 1e-12)
        ax.set_title(panel.get("title", ""))
        ax.set_xlabel(panel.get("xlabel", ""))
        ax.set_ylabel(panel.get("ylabel", ""))
        ax.grid(alpha=0.3)
        if any(s.get("label") for s in panel["series"]) and not shared_legend:
            ax.legend(fontsize=7)
    if spec.get("title"):
        fig.suptitle(spec["title"])
    fig.tight_layout()
    if shared_legend:
        handles, names = axes.ravel()[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(4, len(names)),
                   fontsize=8, frameon=False)
    save(fig, spec["file"])


def cost(spec):
    """About how long a figure takes to draw, in axes: a heat map cell and its colour bar cost
    about as much as a line panel."""
    if spec["kind"] == "heatmap_grid":
        return sum(1 for row in spec["cells"] for c in row if c) * (1 if spec.get("shared_scale", True) else 2)
    return len(spec["panels"])


def draw(spec):
    {"heatmap_grid": heatmap_grid, "line_panels": line_panels}[spec["kind"]](spec)


def main():
    global COLORMAP, SVG
    with open(sys.argv[1]) as f:
        job = json.load(f)
    COLORMAP = job.get("colormap", "jet")
    SVG = job.get("svg", False)
    # Largest first, so that no worker is left drawing a big grid while the others are idle.
    figures = sorted(job["figures"], key=cost, reverse=True)
    workers = min(len(figures), os.cpu_count() or 1)
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pool.map(draw, figures, chunksize=1)
    else:
        for spec in figures:
            draw(spec)


if __name__ == "__main__":
    main()
