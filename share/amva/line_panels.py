"""Line panels (figures.hpp's LinePanels): panels side by side, up to three a row, each with its
series as lines, steps, bands, error bars or markers, and a legend in the panel or one under
all of them, laid out in pixels on a canvas (canvas.py) with matplotlib's default sizes at
150 dpi: 1.5 pt lines in its colour cycle, 0.8 pt frames and ticks, 9 pt labels, 7 pt
legends. Writes FILE.png, and FILE.svg on request."""
import numpy as np

import canvas

# Panels per row: a figure wider than this shrinks below legibility at page width.
MAX_PANELS_PER_ROW = 3
PLOT_W, PLOT_H = 520, 360  # a panel's plotting area
LINE = canvas.points(1.5)
CYCLE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
# matplotlib's single-letter colours of a format string
BASE = {"b": (0, 0, 255), "g": (0, 128, 0), "r": (255, 0, 0), "c": (0, 191, 191), "m": (191, 0, 191),
        "y": (191, 191, 0), "k": (0, 0, 0), "w": (255, 255, 255)}
GRID = (176, 176, 176, 77)  # matplotlib's grid colour at alpha 0.3


def rgb_of(hex_colour):
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def parse_style(style):
    """A matplotlib format string's colour (None: the next of the cycle), line and marker."""
    colour = next((BASE[c] for c in style if c in BASE), None)
    rest = "".join(c for c in style if c not in BASE)
    marker = next((m for m in "o|" if m in rest), None)
    rest = rest.replace("o", "").replace("|", "")
    dash = {"--": (3.7 * LINE, 1.6 * LINE), "-.": (3.7 * LINE, 1.6 * LINE), ":": (1.0 * LINE, 1.65 * LINE)}
    drawn = rest in ("-", "--", "-.", ":") or (rest == "" and marker is None)
    return colour, drawn, dash.get(rest), marker


def finite_runs(*columns):
    """Index ranges where every column is finite: a NaN breaks a line, as in matplotlib."""
    ok = np.all([np.isfinite(c) for c in columns], axis=0)
    runs, start = [], None
    for i, good in enumerate(ok):
        if good and start is None:
            start = i
        if not good and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(ok)))
    return runs


def vertices_of(xs, ys, step):
    """A line's vertices; with `step`, drawn 'post': y holds from one x to the next."""
    if not step:
        return list(zip(xs, ys))
    out = []
    for i, (x, y) in enumerate(zip(xs, ys)):
        if i > 0:
            out.append((x, ys[i - 1]))
        out.append((x, y))
    return out


def data_limits(values):
    """An axis's range around its data with matplotlib's 5 % margins."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([])
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if hi == lo:
        d = 0.05 * abs(lo) if lo != 0 else 0.05
        return lo - d, hi + d
    return lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)


def legend_entry(plot, x, y, length, entry):
    """A legend's sample of one series, its line from (x, y) over `length` pixels."""
    colour, drawn, dash, marker = entry["style"]
    if drawn:
        plot.polyline([(x, y), (x + length, y)], colour, LINE, dash)
    if marker == "o":
        plot.dot(x + length / 2, y, canvas.points(3), colour)
    elif marker == "|":
        plot.polyline([(x + length / 2, y - canvas.points(3)), (x + length / 2, y + canvas.points(3))], colour,
                      canvas.points(1))


def legend_size(entries, size_pt):
    fs = canvas.points(size_pt)
    f = canvas.font(size_pt)
    width = 2 * 0.4 * fs + 2 * fs + 0.8 * fs + max(f.getlength(e["label"]) for e in entries)
    height = 2 * 0.4 * fs + len(entries) * fs + (len(entries) - 1) * 0.5 * fs
    return width, height


def panel_legend(page, plot, x0, y0, entries, vertices):
    """matplotlib's legend at its 'best' place: the corner or side whose box covers the fewest
    data points, in its order of preference; framed, 7 pt."""
    fs = canvas.points(7)
    w, h = legend_size(entries, 7)
    pad = 0.5 * fs
    places = [(PLOT_W - pad - w, pad), (pad, pad), (pad, PLOT_H - pad - h), (PLOT_W - pad - w, PLOT_H - pad - h),
              (PLOT_W - pad - w, (PLOT_H - h) / 2), (pad, (PLOT_H - h) / 2), (PLOT_W - pad - w, (PLOT_H - h) / 2),
              ((PLOT_W - w) / 2, PLOT_H - pad - h), ((PLOT_W - w) / 2, pad), ((PLOT_W - w) / 2, (PLOT_H - h) / 2)]
    points = np.array(vertices) if vertices else np.zeros((0, 2))

    def covered(place):
        bx, by = place
        inside = (points[:, 0] >= bx) & (points[:, 0] <= bx + w) & (points[:, 1] >= by) & (points[:, 1] <= by + h)
        return int(inside.sum())

    bx, by = min(places, key=covered)  # min keeps the first of equals: matplotlib's preference
    corners = [(bx, by), (bx + w, by), (bx + w, by + h), (bx, by + h)]
    plot.polygon(corners, (255, 255, 255, 204))
    plot.polyline(corners + [corners[0]], (204, 204, 204, 255), canvas.points(1))
    for k, e in enumerate(entries):
        y = by + 0.4 * fs + k * 1.5 * fs + fs / 2
        legend_entry(plot, bx + 0.4 * fs, y, 2 * fs, e)
        page.text(x0 + bx + 0.4 * fs + 2.8 * fs, y0 + y, e["label"], size_pt=7, anchor="lm")


def draw(spec, svg=False):
    panels = spec["panels"]
    cols = min(len(panels), MAX_PANELS_PER_ROW)
    # One legend under the figure when every panel draws the same series: it covers no curve.
    labels = [[s.get("label", "") for s in p["series"] if not s.get("band_only")] for p in panels]
    shared_legend = len(panels) > 1 and all(x == labels[0] for x in labels) and any(labels[0])
    f = canvas.font(9)
    fs = canvas.points(9)
    tick, pad = canvas.points(3.5), canvas.points(3.5)
    prepared = []
    for panel in panels:
        series = panel["series"]
        xs = [as_array(s["x"]) for s in series]
        if panel.get("xmax") is not None:
            # Scale y to what is visible, not to the tail beyond xmax.
            right = panel["xmax"] if panel["xmax"] > 0 else 1.0
            xlim = (0.0, right)
            visible = [v for s in series
                       for x, v in zip(as_array(s["x"]), as_array(s["hi"] if s.get("band_only") else s["y"]))
                       if x <= right and np.isfinite(v)]
            ylim = (min(0.0, min(visible)), 1.1 * max(visible) + 1e-12) if visible else (0.0, 1.0)
        else:
            xlim = data_limits(xs)
            ylim = data_limits([as_array(s[k]) for s in series for k in ("y", "lo", "hi") if k in s])
        xticks = canvas.nice_ticks(*xlim, most=8)
        yticks = canvas.nice_ticks(*ylim, most=8)
        label_width = max((f.getlength(t) for t in yticks[1]), default=0)
        prepared.append((panel, xlim, ylim, xticks, yticks, label_width))
    left = max(p[5] for p in prepared) + tick + pad + fs + pad + 4
    top = fs + 2 * pad
    bottom = tick + pad + 2 * fs + 2 * pad + fs
    block_w, block_h = left + PLOT_W + 2 * fs, top + PLOT_H + bottom

    page = canvas.Canvas()
    shared_entries = None
    for n, (panel, xlim, ylim, xticks, yticks, label_width) in enumerate(prepared):
        X = round((n % cols) * block_w + left)
        Y = round((n // cols) * block_h + top)
        plot = canvas.Plot(PLOT_W, PLOT_H)
        page.plot(X, Y, plot)  # drawn when written: its shapes may still come, the legend's text lies above

        def px(x):
            return (x - xlim[0]) / (xlim[1] - xlim[0]) * PLOT_W

        def py(y):
            return PLOT_H - (y - ylim[0]) / (ylim[1] - ylim[0]) * PLOT_H

        for v in xticks[0]:
            plot.polyline([(px(v), 0), (px(v), PLOT_H)], GRID, canvas.points(0.8))
        for v in yticks[0]:
            plot.polyline([(0, py(v)), (PLOT_W, py(v))], GRID, canvas.points(0.8))
        def band(x, lo, hi, colour, step):
            """The area between lo and hi, broken where a value is missing."""
            for a, b in finite_runs(x, lo, hi):
                upper = [(px(u), py(v)) for u, v in vertices_of(x[a:b], hi[a:b], step)]
                lower = [(px(u), py(v)) for u, v in vertices_of(x[a:b], lo[a:b], step)]
                plot.polygon(upper + lower[::-1], colour)

        entries, vertices, cycle, last = [], [], 0, rgb_of(CYCLE[0])
        for s in panel["series"]:
            x, y = as_array(s["x"]), as_array(s["y"])
            colour, drawn, dash, marker = parse_style(s.get("style", "-"))
            step = s.get("step", False)
            if s.get("band_only"):
                band(x, as_array(s["lo"]), as_array(s["hi"]), last + (31,), step)  # alpha 0.12
                continue
            if colour is None:
                colour = rgb_of(CYCLE[cycle % len(CYCLE)])
                cycle += 1
            last = colour
            if "lo" in s:
                lo, hi = as_array(s["lo"]), as_array(s["hi"])
                if marker == "o":  # error bars with caps of 3 pt
                    for u, a, b in zip(x, lo, hi):
                        if np.isfinite(u) and np.isfinite(a) and np.isfinite(b):
                            plot.polyline([(px(u), py(a)), (px(u), py(b))], colour, LINE)
                            for v in (a, b):
                                plot.polyline([(px(u) - canvas.points(3), py(v)), (px(u) + canvas.points(3), py(v))],
                                              colour, LINE)
                else:
                    band(x, lo, hi, colour + (51,), False)  # alpha 0.2, straight as matplotlib's fill_between
            for a, b in finite_runs(x, y):
                points = [(px(u), py(v)) for u, v in vertices_of(x[a:b], y[a:b], step)]
                vertices += points
                if drawn:
                    plot.polyline(points, colour, LINE, dash)
                for u, v in points if marker else []:
                    if marker == "o":
                        plot.dot(u, v, canvas.points(3), colour)
                    else:
                        plot.polyline([(u, v - canvas.points(3)), (u, v + canvas.points(3))], colour, canvas.points(1))
            if s.get("label"):
                entries.append({"label": s["label"], "style": (colour, drawn, dash, marker)})
        if entries and not shared_legend:
            panel_legend(page, plot, X, Y, entries, vertices)
        page.rect(X, Y, PLOT_W, PLOT_H)
        for v, text in zip(*xticks):
            page.line(X + round(px(v)), Y + PLOT_H, X + round(px(v)), Y + PLOT_H + tick)
            page.text(X + px(v), Y + PLOT_H + tick + pad, text, anchor="ma")
        for v, text in zip(*yticks):
            page.line(X - tick, Y + round(py(v)), X, Y + round(py(v)))
            page.text(X - tick - pad, Y + py(v), text, anchor="rm")
        if panel.get("title"):
            page.text(X + PLOT_W / 2, Y - 2 * pad, panel["title"], anchor="ms")
        if panel.get("xlabel"):
            page.text(X + PLOT_W / 2, Y + PLOT_H + tick + 2 * pad + fs, panel["xlabel"], anchor="ma")
        if panel.get("ylabel"):
            page.text(X - tick - 2 * pad - label_width, Y + PLOT_H / 2, panel["ylabel"], anchor="md", vertical=True)
        if shared_entries is None:
            shared_entries = entries
    if shared_legend and shared_entries:
        # Under the panels, in up to four columns, unframed, 8 pt.
        ncol = min(4, len(shared_entries))
        rows = (len(shared_entries) + ncol - 1) // ncol
        fl, f8 = canvas.points(8), canvas.font(8)
        # Down the columns, the first len % ncol of them one entry longer, as matplotlib fills them.
        sizes = [len(shared_entries) // ncol + (1 if c < len(shared_entries) % ncol else 0) for c in range(ncol)]
        starts = np.cumsum([0] + sizes)
        columns = [shared_entries[starts[c]:starts[c + 1]] for c in range(ncol)]
        widths = [2 * fl + 0.8 * fl + max(f8.getlength(e["label"]) for e in column) for column in columns]
        total = sum(widths) + 2 * fl * (ncol - 1)
        used_w = cols * block_w - 2 * fs
        lx, ly = round((used_w - total) / 2), round(((len(panels) + cols - 1) // cols) * block_h)
        samples = canvas.Plot(round(total) + 1, round(rows * 1.5 * fl))
        page.plot(lx, ly, samples)
        x = 0.0
        for column, width in zip(columns, widths):
            for k, e in enumerate(column):
                y = k * 1.5 * fl + fl / 2
                legend_entry(samples, x, y, 2 * fl, e)
                page.text(lx + x + 2.8 * fl, ly + y, e["label"], size_pt=8, anchor="lm")
            x += width + 2 * fl
    if spec.get("title"):
        page.suptitle(spec["title"])
    page.write_png(spec["file"])
    if svg:
        page.write_svg(spec["file"])


def as_array(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)
