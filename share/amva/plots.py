"""Draws the figures amva describes in a JSON job file (see include/amva/viz/figures.hpp).

Usage: python3 plots.py JOB.json
Paths in the job are relative to the job's folder (absolute ones are read as they are).
Each figure is written as FILE.png (150 dpi), and as FILE.svg when the job says "svg": true.
Both kinds, heat map grids (heatmap_grid.py) and line panels (line_panels.py), are laid out
in pixels on a canvas (canvas.py) with matplotlib's look (its colour maps, colour cycle, font
and default sizes) but not its layout engines, which took most of the drawing time. The keys
read here and in those files are the ones FigureBatch writes (the structs in figures.hpp); a
test holds both sides to the same set.
"""
import functools
import json
import multiprocessing
import os
import sys

import heatmap_grid
import line_panels


def cost(spec):
    """About how long a figure takes to draw, in hundredths of a second: a heat map cell about
    one, a line panel about two (measured on 1,000 LFW faces)."""
    if spec["kind"] == "heatmap_grid":
        return sum(1 for row in spec["cells"] for c in row if c)
    return 2 * len(spec["panels"])


def draw(spec, colormap, svg):
    if spec["kind"] == "heatmap_grid":
        heatmap_grid.draw(spec, colormap, svg)
    else:
        line_panels.draw(spec, svg)


def main():
    # The job names its files relative to its own folder (a folder above may have a name JSON
    # cannot hold), so the script works there.
    os.chdir(os.path.dirname(os.path.abspath(sys.argv[1])))
    with open(os.path.basename(sys.argv[1]), encoding="utf-8") as f:
        job = json.load(f)
    draw_one = functools.partial(draw, colormap=job.get("colormap", "jet"), svg=job.get("svg", False))
    # Largest first, so that no worker is left drawing a big grid while the others are idle.
    figures = sorted(job["figures"], key=cost, reverse=True)
    workers = min(len(figures), os.cpu_count() or 1)
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pool.map(draw_one, figures, chunksize=1)
    else:
        for spec in figures:
            draw_one(spec)


if __name__ == "__main__":
    main()
