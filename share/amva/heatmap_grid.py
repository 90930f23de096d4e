"""Heat map grids (figures.hpp's HeatmapGrid): maps in rows and columns, each on its own colour
scale, one per column kind or one for all, with outlines, the central box and colour bars,
laid out in pixels on a canvas (canvas.py). Writes FILE.png, FILE.svg on request, and
FILE.axes.json, where each map lies, for the report's read-out."""
import json
import os
import re

import numpy as np

import canvas

# Sizes in pixels at 150 dpi.
CELL = 280  # pixels of a map's longer side
GAP = 24  # between cells without colour bars of their own
BAR = 14  # colour bar thickness
BAR_GAP = 10  # from a cell to its colour bar
TICK = 6
TICK_PAD = 4
TITLE_PAD = 12  # from a cell's top to its column title's baseline


def wrapped(text, length, size_pt=9):
    """`text` in lines of at most `length` pixels, broken greedily after spaces, underscores,
    slashes and hyphens (a space at a break is dropped); a part without such a place stays whole."""
    f = canvas.font(size_pt)
    lines, line = [], ""
    for part in re.findall(r"[^ _/-]+[ _/-]?|[ _/-]", text):
        if line and f.getlength((line + part).rstrip()) > length:
            lines.append(line.rstrip())
            line = part
        else:
            line += part
    return lines + [line.rstrip()]


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
    # A horizontal bar's labels are wide: fewer of them on a short bar.
    values, labels = canvas.nice_ticks(lo, hi, most=max(2, min(6, length // 60)) if horizontal else 6)
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


def draw(spec, colormap="jet", svg=False):
    cells = [[np.load(c) if c else None for c in row] for row in spec["cells"]]
    outlines = [[np.load(c) if c else None for c in row] for row in spec.get("outlines", [])]
    rows, cols = len(cells), max(len(r) for r in cells)
    column_scale = spec.get("column_scale")
    shared = spec.get("shared_scale", True) and not column_scale
    diverging = spec.get("diverging", False)
    lut = colormap_lut("RdBu_r" if diverging else colormap)

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
        if mask is not None and np.isfinite(mask).any() and np.nanmax(mask) > 0:
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
            # A title longer than its row is set in several lines, the first leftmost, so that
            # it never reaches into the rows above and below.
            lines = wrapped(spec["row_titles"][r], h)
            step = round(1.2 * canvas.points(9))
            for i, line in enumerate(lines):
                page.text(cx - TITLE_PAD - (len(lines) - 1 - i) * step, cy + h / 2, line, anchor="md", vertical=True)
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
        page.suptitle(spec["title"])
    page.write_png(spec["file"])
    if svg:
        page.write_svg(spec["file"])
    write_cells(spec["file"], [(page.box_of(item), npy, title) for item, npy, title in located])


def write_cells(file, cells):
    """FILE.axes.json: where each map (box, npy, title) lies in the figure, as fractions of its
    width and height from the top left, so that a viewer can read a pixel's value."""
    folder = os.path.dirname(os.path.abspath(file))
    located = [{"npy": os.path.relpath(npy, folder), "title": title, "box": box} for box, npy, title in cells]
    with open(file + ".axes.json", "w", encoding="utf-8") as f:
        json.dump({"cells": located}, f)
