"""Draws the figures amva describes in a JSON job file (see include/amva/viz/figures.hpp).

Usage: python3 plots.py JOB.json
Each figure is written as FILE.png (150 dpi), and as FILE.svg when the job says "svg": true.
Heat map grids are laid out in pixels (canvas.py), line panels with matplotlib, which is
imported only by a process that draws one. The keys read here are the ones FigureBatch writes
(the structs in figures.hpp); a test holds both sides to the same set.
"""
import json
import multiprocessing
import os
import sys

import numpy as np

import canvas

# Line panels per row: a figure wider than this shrinks below legibility at page width.
MAX_PANELS_PER_ROW = 3
COLORMAP = "jet"
SVG = False
PNG_DPI = canvas.DPI


def pyplot():
    """matplotlib's pyplot, imported on first use: importing it costs a quarter of a second."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"font.size": 9, "axes.titlesize": 9, "figure.titlesize": 11})
    return plt


def as_array(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def save(fig, file):
    """Writes FILE.png (and FILE.svg with SVG) of a matplotlib figure, cropped to what is drawn
    plus a margin of 0.1 in (as bbox_inches="tight"). The crop is found in the rendered pixels:
    asking matplotlib for the content's extent measured every tick label again and took as long
    as drawing."""
    from matplotlib.transforms import Bbox
    from PIL import Image
    fig.set_dpi(PNG_DPI)
    fig.set_layout_engine(None)  # laid out already; savefig would lay the figure out again
    fig.canvas.draw()
    drawn = np.asarray(fig.canvas.get_renderer().buffer_rgba())
    background = drawn[0, 0]
    ink = np.any(drawn != background, axis=2)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        rows, cols = np.array([0, drawn.shape[0] - 1]), np.array([0, drawn.shape[1] - 1])
    margin = round(0.1 * PNG_DPI)
    top, bottom = rows[0] - margin, rows[-1] + 1 + margin
    left, right = cols[0] - margin, cols[-1] + 1 + margin
    out = np.empty((bottom - top, right - left, 4), dtype=np.uint8)
    out[:] = background
    src_top, src_left = max(top, 0), max(left, 0)
    src_bottom, src_right = min(bottom, drawn.shape[0]), min(right, drawn.shape[1])
    out[src_top - top:src_bottom - top, src_left - left:src_right - left] = drawn[src_top:src_bottom, src_left:src_right]
    Image.fromarray(out).save(file + ".png", dpi=(PNG_DPI, PNG_DPI))
    if SVG:
        height = drawn.shape[0]
        fig.savefig(file + ".svg", bbox_inches=Bbox.from_extents(left / PNG_DPI, (height - bottom) / PNG_DPI,
                                                                 right / PNG_DPI, (height - top) / PNG_DPI))
    pyplot().close(fig)


def write_cells(file, cells):
    """FILE.axes.json: where each map (box, npy, title) lies in the figure, as fractions of its
    width and height from the top left, so that a viewer can read a pixel's value."""
    folder = os.path.dirname(os.path.abspath(file))
    located = [{"npy": os.path.relpath(npy, folder), "title": title, "box": box} for box, npy, title in cells]
    with open(file + ".axes.json", "w") as f:
        json.dump({"cells": located}, f)


# Heat map grids are laid out in pixels on a Canvas (canvas.py): cell sizes, gaps and bars below.
CELL = 280  # pixels of a map's longer side
GAP = 24  # between cells without colour bars of their own
BAR = 14  # colour bar thickness
BAR_GAP = 10  # from a cell to its colour bar
TICK = 6
TICK_PAD = 4
TITLE_PAD = 12  # from a cell's top to its column title's baseline


def colormap_lut(name):
    from matplotlib import colormaps
    return np.round(colormaps[name](np.linspace(0.0, 1.0, 256)) * 255).astype(np.uint8)


def coloured(values, lo, hi, lut):
    """RGBA of values on the scale lo..hi as imshow colours them (NaN blank); out-of-range values
    take the scale's ends."""
    scaled = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    index = np.clip(np.nan_to_num(scaled * len(lut), nan=0.0), 0, len(lut) - 1).astype(int)
    rgba = lut[index]
    rgba[~np.isfinite(values)] = canvas.WHITE
    return rgba


def colour_bar(page, lut, lo, hi, x, y, length, horizontal, label=""):
    """A colour bar from lo to hi with its ticks: vertical (lo at the bottom, ticks on the right) or
    horizontal (lo at the left, ticks and label below). Returns how far its ticks' labels reach
    past the bar (right of it or below it)."""
    ramp = hi - (np.arange(length) + 0.5) / length * (hi - lo) if hi > lo else np.full(length, lo)
    if horizontal:
        ramp = ramp[::-1]
        page.image(x, y, np.ascontiguousarray(np.repeat(coloured(ramp, lo, hi, lut)[None, :, :], BAR, axis=0)))
        page.rect(x, y, length, BAR)
    else:
        page.image(x, y, np.ascontiguousarray(np.repeat(coloured(ramp, lo, hi, lut)[:, None, :], BAR, axis=1)))
        page.rect(x, y, BAR, length)
    values, labels = canvas.nice_ticks(lo, hi)
    reach = 0
    for v, text in zip(values, labels):
        at = (v - lo) / (hi - lo) * length if hi > lo else length / 2
        if horizontal:
            tx = x + at
            page.line(tx, y + BAR, tx, y + BAR + TICK)
            item = page.text(tx, y + BAR + TICK + TICK_PAD, text, anchor="ma")
            reach = max(reach, item["y"] + item["h"] - y - BAR)
        else:
            ty = y + length - at
            page.line(x + BAR, ty, x + BAR + TICK, ty)
            item = page.text(x + BAR + TICK + TICK_PAD, ty, text, anchor="lm")
            reach = max(reach, item["x"] + item["w"] - x - BAR)
    if label:
        if horizontal:
            page.text(x + length / 2, y + BAR + reach + TICK_PAD, label, anchor="ma")
        else:
            page.text(x + BAR + reach + TICK_PAD, y + length / 2, label, anchor="ma", vertical=True)
    return reach


def tick_reach(lo, hi):
    """How far a vertical colour bar's tick labels reach right of the bar, in pixels."""
    _, labels = canvas.nice_ticks(lo, hi)
    f = canvas.font(9)
    return TICK + TICK_PAD + max((f.getlength(t) for t in labels), default=0)


def heatmap_grid(spec):
    cells = [[np.load(c) if c else None for c in row] for row in spec["cells"]]
    outlines = [[np.load(c) if c else None for c in row] for row in spec.get("outlines", [])]
    rows, cols = len(cells), max(len(r) for r in cells)
    column_scale = spec.get("column_scale")
    shared = spec.get("shared_scale", True) and not column_scale
    diverging = spec.get("diverging", False)
    lut = colormap_lut("RdBu_r" if diverging else COLORMAP)

    def centred(lo, hi):
        if not diverging:
            return lo, hi
        m = max(abs(lo), abs(hi), 1e-12)
        return -m, m

    def cell(r, c):
        return cells[r][c] if c < len(cells[r]) else None

    def value_range(present):
        present = [x for x in present if x is not None and np.isfinite(x).any()]
        if not present:
            return 0.0, 1.0
        return centred(float(min(np.nanmin(x) for x in present)), float(max(np.nanmax(x) for x in present)))

    scales = {}
    if column_scale:
        for k in sorted(set(column_scale)):
            scales[k] = value_range([cell(r, c) for r in range(rows) for c in range(cols) if column_scale[c] == k])
    everything = value_range([cell(r, c) for r in range(rows) for c in range(cols)])

    def scale_of(r, c):
        if column_scale:
            return scales[column_scale[c]]
        return everything if shared else value_range([cell(r, c)])

    def size_of(data):
        h, w = data.shape
        return (CELL, max(1, round(CELL * w / h))) if h >= w else (max(1, round(CELL * h / w)), CELL)

    present = [(r, c) for r in range(rows) for c in range(cols) if cell(r, c) is not None]
    column_width = [max([size_of(cell(r, c))[1] for r in range(rows) if cell(r, c) is not None], default=CELL)
                    for c in range(cols)]
    row_height = [max([size_of(cell(r, c))[0] for c in range(cols) if cell(r, c) is not None], default=CELL)
                  for r in range(rows)]
    own_bars = not shared and not column_scale
    left, x = [], 0
    for c in range(cols):
        left.append(x)
        x += column_width[c] + GAP
        if own_bars:
            x += BAR_GAP + BAR + max([tick_reach(*scale_of(r, c)) for r in range(rows) if cell(r, c) is not None],
                                     default=0)
    top, y = [], 0
    for r in range(rows):
        top.append(y)
        y += row_height[r] + GAP
    grid_right, grid_bottom = left[-1] + column_width[-1], top[-1] + row_height[-1]

    page = canvas.Canvas()
    located = []
    named = spec.get("cell_titles", [])
    for r, c in present:
        data = cell(r, c)
        h, w = size_of(data)
        cx, cy = left[c] + (column_width[c] - w) // 2, top[r] + (row_height[r] - h) // 2
        lo, hi = scale_of(r, c)
        rgba = coloured(canvas.upsampled(data.astype(float), h, w, smooth=False), lo, hi, lut)
        mask = outlines[r][c] if r < len(outlines) and c < len(outlines[r]) else None
        if mask is not None and np.nanmax(mask) > 0:
            canvas.outline_and_hatch(rgba, mask)
        if spec.get("box"):
            # The box is given at pixel centres of the map, whose pixel i spans i - 0.5 .. i + 0.5.
            x0, y0, x1, y1 = spec["box"]
            rows_in, cols_in = data.shape
            canvas.dashed_box(rgba, (x0 + 0.5) * w / cols_in, (y0 + 0.5) * h / rows_in,
                              (x1 + 0.5) * w / cols_in - 1, (y1 + 0.5) * h / rows_in - 1)
        item = page.image(cx, cy, rgba)
        page.rect(cx, cy, w, h)
        title = named[r][c] if r < len(named) and c < len(named[r]) else " / ".join(t for t in (
            spec["row_titles"][r] if r < len(spec.get("row_titles", [])) else "",
            spec["column_titles"][c] if c < len(spec.get("column_titles", [])) else "") if t)
        located.append((item, spec["cells"][r][c], title))
        if own_bars:
            colour_bar(page, lut, lo, hi, cx + w + BAR_GAP, cy, h, horizontal=False)
        if r == 0 and c < len(spec.get("column_titles", [])):
            page.text(cx + w / 2, cy - TITLE_PAD, spec["column_titles"][c], anchor="ms")
        if c == 0 and r < len(spec.get("row_titles", [])):
            page.text(cx - TITLE_PAD, cy + h / 2, spec["row_titles"][r], anchor="md", vertical=True)
    if column_scale:
        labels = spec.get("scale_labels", [])
        for k, (lo, hi) in scales.items():
            group = [c for c in range(cols) if column_scale[c] == k]
            x0, x1 = left[group[0]], left[group[-1]] + column_width[group[-1]]
            length = round(0.9 * (x1 - x0))
            colour_bar(page, lut, lo, hi, x0 + (x1 - x0 - length) // 2, grid_bottom + 2 * GAP, length, horizontal=True,
                       label=labels[k] if k < len(labels) else "")
    elif shared and present:
        colour_bar(page, lut, *everything, grid_right + GAP, 0, grid_bottom, horizontal=False,
                   label=spec.get("colorbar_label", ""))
    if spec.get("title"):
        x0, y0, x1, _ = page.bounds()
        lines = spec["title"].split("\n")
        step = round(1.2 * canvas.points(11))
        for i, line in enumerate(lines):
            page.text((x0 + x1) / 2, y0 - 1.5 * TITLE_PAD - (len(lines) - 1 - i) * step, line, size_pt=11, anchor="ms")
    page.write_png(spec["file"])
    if SVG:
        page.write_svg(spec["file"])
    write_cells(spec["file"], [(page.box_of(item), npy, title) for item, npy, title in located])


def line_panels(spec):
    panels = spec["panels"]
    cols = min(len(panels), MAX_PANELS_PER_ROW)
    rows = (len(panels) + cols - 1) // cols
    # One legend under the figure when every panel draws the same series: it covers no curve.
    labels = [[s.get("label", "") for s in p["series"] if not s.get("band_only")] for p in panels]
    shared_legend = len(panels) > 1 and all(x == labels[0] for x in labels) and any(labels[0])
    fig, axes = pyplot().subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
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
    if shared_legend:
        # Under the panels, on a canvas made taller by the legend's height, so that no curve is
        # covered and the figure is rendered once with everything on it.
        handles, names = axes.ravel()[0].get_legend_handles_labels()
        legend = fig.legend(handles, names, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=min(4, len(names)),
                            fontsize=8, frameon=False)
        extra = legend.get_window_extent(fig.canvas.get_renderer()).height / fig.dpi  # inches
        width, height = fig.get_size_inches()
        fig.set_size_inches(width, height + extra)
        fig.tight_layout(rect=(0, extra / (height + extra), 1, 1))
    else:
        fig.tight_layout()
    save(fig, spec["file"])


def cost(spec):
    """About how long a figure takes to draw, in hundredths of a second: a heat map cell on the
    canvas about one, a matplotlib line panel about eight (measured on 1,000 LFW faces)."""
    if spec["kind"] == "heatmap_grid":
        return sum(1 for row in spec["cells"] for c in row if c)
    return 8 * len(spec["panels"])


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
