"""A figure laid out in pixels and written as PNG (Pillow) and SVG (by hand) from the same items.

plots.py draws heat map grids on it instead of on matplotlib axes: a grid of maps with colour
bars needs no layout engine when every size is known in pixels, and matplotlib spent most of
its time laying out and measuring axes (0.78 s for a 4 x 3 grid with its colour bars, against
a few hundredths here). Items are placed anywhere; the canvas is their bounding box plus a
margin, so nothing is ever cut off and `box_of` says where an item landed.
"""
import base64
import io
import math
import os
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image, ImageDraw, ImageFont

DPI = 150
MARGIN = 15  # pixels around the content, as bbox_inches="tight" with pad_inches=0.1
BLACK = (0, 0, 0, 255)
WHITE = (255, 255, 255, 255)


def points(pt):
    """Font sizes and line widths in points, as pixels at DPI."""
    return pt * DPI / 72.0


def font_file():
    # matplotlib's own DejaVu Sans, so that these figures and the line plots share one face.
    import matplotlib
    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")


_FONTS = {}


def font_px(px):
    """DejaVu Sans at `px` pixels, loaded once per size."""
    if px not in _FONTS:
        _FONTS[px] = ImageFont.truetype(font_file(), px)
    return _FONTS[px]


def font(size_pt):
    return font_px(round(points(size_pt)))


def display_text(text):
    # matplotlib writes minus signs as U+2212; so do these figures.
    return text.replace("-", "\u2212") if text[:1] == "-" else text


class Canvas:
    def __init__(self):
        self.items = []

    def image(self, x, y, rgba):
        """An RGBA uint8 array with its top left corner at (x, y); returns the item."""
        item = {"kind": "image", "x": int(x), "y": int(y), "w": rgba.shape[1], "h": rgba.shape[0], "rgba": rgba}
        self.items.append(item)
        return item

    def plot(self, x, y, plot):
        """A Plot (below) with its top left corner at (x, y)."""
        item = {"kind": "plot", "x": int(x), "y": int(y), "w": plot.w, "h": plot.h, "plot": plot}
        self.items.append(item)
        return item

    def rect(self, x, y, w, h, width=1, colour=BLACK):
        """An outline drawn just outside the w x h pixels at (x, y)."""
        self.items.append({"kind": "rect", "x": int(x) - width, "y": int(y) - width, "w": int(w) + 2 * width,
                           "h": int(h) + 2 * width, "width": width, "colour": colour})

    def line(self, x0, y0, x1, y1, width=1, colour=BLACK):
        self.items.append({"kind": "line", "x": min(x0, x1), "y": min(y0, y1), "w": abs(x1 - x0) + width,
                           "h": abs(y1 - y0) + width, "points": (x0, y0, x1, y1), "width": width, "colour": colour})

    def text(self, x, y, text, size_pt=9, anchor="mm", vertical=False):
        """Text whose anchor (PIL's two letters: l/m/r, then a/m/s/d) lies at (x, y); vertical text
        reads bottom to top and its anchor letters refer to the text before it is turned."""
        f = font(size_pt)
        left, top, right, bottom = f.getbbox(text, anchor=anchor)
        if vertical:  # turned a quarter anticlockwise: text x runs up, text y runs right
            left, top, right, bottom = top, -right, bottom, -left
        item = {"kind": "text", "x": int(math.floor(x + left)), "y": int(math.floor(y + top)),
                "w": int(math.ceil(right - left)) + 1, "h": int(math.ceil(bottom - top)) + 1, "text": text,
                "size": f.size, "anchor": anchor, "vertical": vertical, "at": (x, y)}
        self.items.append(item)
        return item

    def suptitle(self, text, size_pt=11, gap=18):
        """The figure's title, centred above everything placed so far; lines split at newlines."""
        x0, y0, x1, _ = self.bounds()
        lines = text.split("\n")
        step = round(1.2 * points(size_pt))
        for i, line in enumerate(lines):
            self.text((x0 + x1) / 2, y0 - gap - (len(lines) - 1 - i) * step, line, size_pt=size_pt, anchor="ms")

    def bounds(self):
        x0 = min(i["x"] for i in self.items)
        y0 = min(i["y"] for i in self.items)
        x1 = max(i["x"] + i["w"] for i in self.items)
        y1 = max(i["y"] + i["h"] for i in self.items)
        return x0, y0, x1, y1

    def _frame(self):
        x0, y0, x1, y1 = self.bounds()
        return x0 - MARGIN, y0 - MARGIN, x1 - x0 + 2 * MARGIN, y1 - y0 + 2 * MARGIN

    def box_of(self, item):
        """Where an item lies in the written figure, as fractions of its width and height from the
        top left: [x0, y0, x1, y1]."""
        ox, oy, width, height = self._frame()
        return [(item["x"] - ox) / width, (item["y"] - oy) / height,
                (item["x"] + item["w"] - ox) / width, (item["y"] + item["h"] - oy) / height]

    def write_png(self, file):
        ox, oy, width, height = self._frame()
        picture = Image.new("RGBA", (width, height), WHITE)
        draw = ImageDraw.Draw(picture)
        for i in self.items:
            x, y = i["x"] - ox, i["y"] - oy
            if i["kind"] == "image":
                picture.alpha_composite(Image.fromarray(i["rgba"], "RGBA"), (x, y))
            elif i["kind"] == "plot":
                picture.alpha_composite(Image.fromarray(i["plot"].rgba(), "RGBA"), (x, y))
            elif i["kind"] == "rect":
                draw.rectangle([x, y, x + i["w"] - 1, y + i["h"] - 1], outline=i["colour"], width=i["width"])
            elif i["kind"] == "line":
                x0, y0, x1, y1 = i["points"]
                draw.line([(x0 - ox, y0 - oy), (x1 - ox, y1 - oy)], fill=i["colour"], width=i["width"])
            elif not i["vertical"]:
                draw.text((i["at"][0] - ox, i["at"][1] - oy), i["text"], font=font_px(i["size"]), fill=BLACK,
                          anchor=i["anchor"])
            else:
                f = font_px(i["size"])
                left, top, right, bottom = f.getbbox(i["text"], anchor=i["anchor"])
                flat = Image.new("RGBA", (int(math.ceil(right - left)) + 1, int(math.ceil(bottom - top)) + 1), (0, 0, 0, 0))
                ImageDraw.Draw(flat).text((-left, -top), i["text"], font=f, fill=BLACK, anchor=i["anchor"])
                picture.alpha_composite(flat.transpose(Image.Transpose.ROTATE_90), (x, y))
        picture.convert("RGB").save(file + ".png", dpi=(DPI, DPI))

    def write_svg(self, file):
        """Text and lines as vectors; maps and colour bars as embedded PNG, as drawn for the PNG (a map's
        cells already enlarged, so that a viewer's smoothing keeps its outlines when scaled down)."""
        ox, oy, width, height = self._frame()
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
               f'width="{width * 72 / DPI:.2f}pt" height="{height * 72 / DPI:.2f}pt" viewBox="0 0 {width} {height}">',
               f'<rect width="{width}" height="{height}" fill="white"/>']
        baseline = {"a": "text-before-edge", "m": "central", "s": "alphabetic", "d": "text-after-edge"}
        align = {"l": "start", "m": "middle", "r": "end"}
        for n, i in enumerate(self.items):
            x, y = i["x"] - ox, i["y"] - oy
            if i["kind"] == "plot":
                out.extend(i["plot"].svg(x, y, f"plot{n}"))
            elif i["kind"] == "image":
                buffer = io.BytesIO()
                Image.fromarray(i["rgba"], "RGBA").save(buffer, format="PNG")
                data = base64.b64encode(buffer.getvalue()).decode("ascii")
                out.append(f'<image x="{x}" y="{y}" width="{i["w"]}" height="{i["h"]}" '
                           f'xlink:href="data:image/png;base64,{data}"/>')
            elif i["kind"] == "rect":
                half = i["width"] / 2
                out.append(f'<rect x="{x + half}" y="{y + half}" width="{i["w"] - i["width"]}" '
                           f'height="{i["h"] - i["width"]}" fill="none" stroke="{svg_colour(i["colour"])}" '
                           f'stroke-width="{i["width"]}"/>')
            elif i["kind"] == "line":
                x0, y0, x1, y1 = i["points"]
                out.append(f'<line x1="{x0 - ox}" y1="{y0 - oy}" x2="{x1 - ox}" y2="{y1 - oy}" '
                           f'stroke="{svg_colour(i["colour"])}" stroke-width="{i["width"]}"/>')
            else:
                ax, ay = i["at"][0] - ox, i["at"][1] - oy
                turn = f' transform="rotate(-90 {ax:.1f} {ay:.1f})"' if i["vertical"] else ""
                out.append(f'<text x="{ax:.1f}" y="{ay:.1f}" font-family="DejaVu Sans" font-size="{i["size"]}" '
                           f'text-anchor="{align[i["anchor"][0]]}" dominant-baseline="{baseline[i["anchor"][1]]}"'
                           f'{turn}>{escape(i["text"])}</text>')
        out.append("</svg>")
        with open(file + ".svg", "w", encoding="utf-8") as f:
            f.write("\n".join(out) + "\n")


def svg_colour(rgba):
    return "#{:02x}{:02x}{:02x}".format(*rgba[:3])


def nice_ticks(lo, hi, most=6):
    """Round values inside [lo, hi], at most `most` + 1 of them, a step of 1, 2, 2.5 or 5 times a
    power of ten, and their labels with as many decimals as the step needs."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return ([lo], [display_text(f"{lo:.4g}")]) if math.isfinite(lo) else ([], [])
    magnitude = 10.0 ** math.floor(math.log10((hi - lo) / most))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if (hi - lo) / (m * magnitude) <= most)
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    values = [k * step for k in range(first, last + 1)]
    return values, [tick_label(v, step) for v in values]


def tick_label(value, step):
    if abs(value) < step * 1e-6:
        value = 0.0
    if step < 1e-5 or max(abs(value), step) >= 1e5:
        text = f"{value:.3g}"
    else:
        decimals = max(0, -math.floor(math.log10(step) + 1e-9))
        if abs(step / 10.0 ** -decimals - round(step / 10.0 ** -decimals)) > 1e-6:
            decimals += 1  # 2.5 x 10^k needs one more
        text = f"{value:.{decimals}f}"
    return display_text(text)


def shifted(mask, dy, dx):
    out = np.zeros_like(mask)
    h, w = mask.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        mask[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def upsampled(values, height, width, smooth):
    """A map resampled to height x width pixels: nearest (as imshow draws it) or bilinear between
    the values at the pixel centres (as a contour of it runs)."""
    rows, cols = values.shape
    if not smooth:
        r = np.minimum(((np.arange(height) + 0.5) * rows / height).astype(int), rows - 1)
        c = np.minimum(((np.arange(width) + 0.5) * cols / width).astype(int), cols - 1)
        return values[np.ix_(r, c)]
    v = np.clip((np.arange(height) + 0.5) * rows / height - 0.5, 0, rows - 1)
    u = np.clip((np.arange(width) + 0.5) * cols / width - 0.5, 0, cols - 1)
    r0, c0 = np.minimum(v.astype(int), rows - 2 if rows > 1 else 0), np.minimum(u.astype(int), cols - 2 if cols > 1 else 0)
    r1, c1 = np.minimum(r0 + 1, rows - 1), np.minimum(c0 + 1, cols - 1)
    fr, fc = (v - r0)[:, None], (u - c0)[None, :]
    top = values[np.ix_(r0, c0)] * (1 - fc) + values[np.ix_(r0, c1)] * fc
    bottom = values[np.ix_(r1, c0)] * (1 - fc) + values[np.ix_(r1, c1)] * fc
    return top * (1 - fr) + bottom * fr


def outline_and_hatch(rgba, mask):
    """Marks where mask >= 0.5 (its 0.5 contour) on an RGBA raster of the same map: a white line
    along the edge and white diagonal hatching inside, so that both sides stay readable."""
    h, w = rgba.shape[:2]
    inside = upsampled(np.nan_to_num(mask.astype(float)), h, w, smooth=True) >= 0.5
    if not inside.any():
        return
    core = inside & shifted(inside, 1, 0) & shifted(inside, -1, 0) & shifted(inside, 0, 1) & shifted(inside, 0, -1)
    edge = inside & ~core
    edge = edge | shifted(edge, 1, 0) | shifted(edge, 0, 1)  # about 2 px, as a 1.3 pt line
    y, x = np.mgrid[0:h, 0:w]
    hatch = inside & (((x + y) % 12) < 2)
    rgba[edge | hatch] = WHITE


def dashed_box(rgba, x0, y0, x1, y1, dash=6, gap=4):
    """A white dashed rectangle drawn into a raster, corners in its pixels."""
    h, w = rgba.shape[:2]
    x0, x1 = sorted((int(round(x0)), int(round(x1))))
    y0, y1 = sorted((int(round(y0)), int(round(y1))))
    period = dash + gap
    for x in range(max(x0, 0), min(x1 + 1, w)):
        if (x - x0) % period < dash:
            for y in (y0, y1):
                if 0 <= y < h:
                    rgba[y, x] = WHITE
    for y in range(max(y0, 0), min(y1 + 1, h)):
        if (y - y0) % period < dash:
            for x in (x0, x1):
                if 0 <= x < w:
                    rgba[y, x] = WHITE


# Plots: shapes in a plot area's own pixels (x right, y down), drawn anti-aliased by drawing at
# SUPERSAMPLE times the size and averaging down, or written to SVG as vectors.
SUPERSAMPLE = 4


def dashes_of(points, pattern):
    """Splits a polyline into its dashes: pattern (on, off) in pixels."""
    if not pattern:
        return [points]
    on, off = pattern
    out, current, drawing, left = [], [points[0]], True, on
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        length = math.hypot(x1 - x0, y1 - y0)
        done = 0.0
        while length - done > left:
            done += left
            t = done / length
            p = (x0 + t * (x1 - x0), y0 + t * (y1 - y0))
            if drawing:
                current.append(p)
                out.append(current)
            current = [p]
            drawing, left = not drawing, off if drawing else on
        left -= length - done
        if drawing:
            current.append((x1, y1))
    if drawing and len(current) > 1:
        out.append(current)
    return out


class Plot:
    """A w x h plot area on a white background; shapes are kept in order and clipped to it."""

    def __init__(self, w, h):
        self.w, self.h = w, h
        self.shapes = []

    def polyline(self, points, colour, width, dash=None):
        if len(points) > 1:
            self.shapes.append(("line", points, colour, width, dash))

    def polygon(self, points, colour):
        if len(points) > 2:
            self.shapes.append(("fill", points, colour))

    def dot(self, x, y, radius, colour):
        self.shapes.append(("dot", (x, y), radius, colour))

    def rgba(self):
        s = SUPERSAMPLE
        picture = Image.new("RGB", (self.w * s, self.h * s), WHITE[:3])
        draw = ImageDraw.Draw(picture, "RGBA")
        for shape in self.shapes:
            if shape[0] == "line":
                _, points, colour, width, dash = shape
                for piece in dashes_of(points, dash):
                    draw.line([(x * s, y * s) for x, y in piece], fill=colour, width=max(1, round(width * s)),
                              joint="curve" if dash is None else None)
            elif shape[0] == "fill":
                draw.polygon([(x * s, y * s) for x, y in shape[1]], fill=shape[2])
            else:
                (x, y), r, colour = shape[1], shape[2], shape[3]
                draw.ellipse([(x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s], fill=colour)
        small = picture.reduce(s).convert("RGBA")
        return np.asarray(small).copy()

    def svg(self, x0, y0, clip_id):
        out = [f'<clipPath id="{clip_id}"><rect x="{x0}" y="{y0}" width="{self.w}" height="{self.h}"/></clipPath>',
               f'<g clip-path="url(#{clip_id})">']
        for shape in self.shapes:
            if shape[0] == "line":
                _, points, colour, width, dash = shape
                path = " ".join(f"{x0 + x:.2f},{y0 + y:.2f}" for x, y in points)
                dashes = f' stroke-dasharray="{dash[0]:.2f} {dash[1]:.2f}"' if dash else ""
                out.append(f'<polyline points="{path}" fill="none" stroke="{svg_colour(colour)}"'
                           f'{opacity("stroke", colour)} stroke-width="{width:.2f}" stroke-linejoin="round"{dashes}/>')
            elif shape[0] == "fill":
                path = " ".join(f"{x0 + x:.2f},{y0 + y:.2f}" for x, y in shape[1])
                out.append(f'<polygon points="{path}" fill="{svg_colour(shape[2])}"{opacity("fill", shape[2])}/>')
            else:
                (x, y), r, colour = shape[1], shape[2], shape[3]
                out.append(f'<circle cx="{x0 + x:.2f}" cy="{y0 + y:.2f}" r="{r:.2f}" fill="{svg_colour(colour)}"/>')
        out.append("</g>")
        return out


def opacity(what, rgba):
    return f' {what}-opacity="{rgba[3] / 255:.3f}"' if len(rgba) > 3 and rgba[3] < 255 else ""
