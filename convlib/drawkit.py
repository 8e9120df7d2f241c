"""The small drawing kit of the explorer figures: colours, panels of grid cells, a row
layout, a heading and a legend, all on one matplotlib axes.

Every figure is ONE axes covering the whole figure, in units of grid cells (y downwards):
each grid is a :class:`Panel` drawn at an offset. Creating matplotlib Axes is what costs most
in a redraw (ticks, formatters), so one axes instead of four keeps a slider move fast.
Settings travel as arguments; nothing is stored on the Figure.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgb, to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from .figdata import CROP, EMPTY, IMAGE, ZERO

__all__ = [
    "COLORS",
    "NEIGHBOUR_DASHES",
    "FONT",
    "CATEGORY_RGBA",
    "rgb",
    "entry_colors",
    "new_figure",
    "Panel",
    "fit_size",
    "layout",
    "suptitle",
    "legend",
]

COLORS = {
    "empty": "#ffffff",
    "image": "#cfe2f3",  # pixels of q
    "zero": "#e6e6e6",  # zero padding
    "crop": "#ffffff",  # pixels of q cropped away (p < 0)
    "lit": "#f28e2b",  # the window / pixel in focus
    "lit_soft": "#fbd3a8",
    "dz": "#8cd17d",  # entries of dz
    "dz_zero": "#f4f9f3",  # zeros the dilation inserted
    "edge": "#1f3b57",
    "unread": "#b07aa1",
    # windows of the neighbouring outputs: told apart by colour AND by dash pattern. The
    # colours stay distinct under deuteranopia and protanopia (red and green did not:
    # tests/test_colour_vision.py simulates both on a figure)
    "neighbour": ("#4e79a7", "#e15759", "#76b7b2", "#000000"),
}
NEIGHBOUR_DASHES = ("--", ":", "-.", (0, (6, 2, 1, 2, 1, 2)))
FONT = {"title": 11, "label": 10, "cell": 9, "tick": 8}

# RGBA of each cell category of a canvas (see convlib.figdata); empty cells are transparent.
CATEGORY_RGBA = np.zeros((4, 4))
CATEGORY_RGBA[EMPTY] = to_rgba(COLORS["empty"], alpha=0.0)
CATEGORY_RGBA[IMAGE] = to_rgba(COLORS["image"])
CATEGORY_RGBA[ZERO] = to_rgba(COLORS["zero"])
CATEGORY_RGBA[CROP] = to_rgba(COLORS["crop"])

# The label of the one full-figure axes, so that a redraw can find and reuse it.
AXES_LABEL = "convlib cells"


def rgb(color) -> np.ndarray:
    """Any matplotlib colour as an RGB array of floats in [0, 1]."""
    return np.array(to_rgb(color))


def entry_colors(values, on, off) -> np.ndarray:
    """``(..., 3)`` colours of a matrix: ``on`` where ``values`` is non-zero, ``off`` elsewhere."""
    return np.where((np.asarray(values) != 0)[..., None], rgb(on), rgb(off))


def new_figure(figsize, fig=None):
    """A figure with one full-figure axes: a new pyplot figure (shown by ``plt.show()``), or
    ``fig`` emptied for a redraw (its axes reused: building a new one costs more than the
    drawing). Returns ``(fig, ax)``."""
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=figsize)
    if len(fig.axes) == 1 and fig.axes[0].get_label() == AXES_LABEL:
        ax = fig.axes[0]
        for art in [*ax.images, *ax.patches, *ax.texts, *ax.lines, *ax.collections,
                    *fig.texts, *fig.legends]:
            art.remove()
    else:
        fig.clear()
        ax = fig.add_axes((0, 0, 1, 1), label=AXES_LABEL)
        ax.set_axis_off()
        ax.set_autoscale_on(False)
    fig.set_size_inches(*figsize)
    return fig, ax


class Panel:
    """One grid, rows ``r0 .. r0+nr-1`` and columns ``c0 .. c0+nc-1``, on the shared axes."""

    def __init__(self, ax, x, y, r0, c0, nr, nc):
        self.ax, self.r0, self.c0, self.nr, self.nc = ax, r0, c0, nr, nc
        self.dx, self.dy = x - c0, y - r0  # grid cell (r, c) is centred on (c + dx, r + dy)

    def image(self, colors):
        """Fill the cells with colours (an ``(nr, nc, 3 or 4)`` array)."""
        x0, y0 = self.dx + self.c0 - 0.5, self.dy + self.r0 - 0.5
        self.ax.imshow(colors, extent=(x0, x0 + self.nc, y0 + self.nr, y0),
                       interpolation="nearest", aspect="auto")

    def grid(self, ticks=True):
        """Cell borders and, with ``ticks``, the row and column indices."""
        x0, y0 = self.dx + self.c0 - 0.5, self.dy + self.r0 - 0.5
        self.ax.hlines(y0 + np.arange(self.nr + 1), x0, x0 + self.nc, color="#9a9a9a", lw=0.6)
        self.ax.vlines(x0 + np.arange(self.nc + 1), y0, y0 + self.nr, color="#9a9a9a", lw=0.6)
        if ticks:
            kw = {"fontsize": FONT["tick"], "color": "#555555", "parse_math": False}
            for c in range(self.c0, self.c0 + self.nc):
                self.ax.text(c + self.dx, y0 - 0.12, str(c), ha="center", va="bottom", **kw)
            for r in range(self.r0, self.r0 + self.nr):
                self.ax.text(x0 - 0.12, r + self.dy, str(r), ha="right", va="center", **kw)

    def box(self, r, c, h, w, **kw):
        """Outline (or fill, ``fill=True``) the cells rows r..r+h-1, cols c..c+w-1."""
        kw.setdefault("fill", False)
        self.ax.add_patch(Rectangle((c + self.dx - 0.5, r + self.dy - 0.5), w, h, **kw))

    def text(self, r, c, s, **kw):
        """Write ``s`` in cell ``(r, c)`` (centred, cell font, no mathtext)."""
        kw.setdefault("fontsize", FONT["cell"])
        kw.setdefault("ha", "center")
        kw.setdefault("va", "center")
        kw.setdefault("parse_math", False)
        self.ax.text(c + self.dx, r + self.dy, s, **kw)

    def title(self, s, fontsize=None):
        """A heading just above the grid's top-left corner."""
        self.ax.text(self.c0 + self.dx - 0.5, self.r0 + self.dy - 0.95, s, ha="left",
                     va="bottom", fontsize=fontsize or FONT["label"], parse_math=False)


def fit_size(width, height, min_size=None):
    """``(width, height)`` grown to at least ``min_size`` (an animation draws every frame
    at its largest size, so that the player does not jump)."""
    w_min, h_min = min_size or (0, 0)
    return max(width, w_min), max(height, h_min)


def layout(fig, grids, *, cell, top, bottom=0.75, right=0.25, min_width=0.0, min_size=None):
    """A figure holding a row of grids of equal cell size, aligned at the top.

    ``grids`` lists ``(r0, c0, nr, nc, slot)``: the grid's first row and column, its size
    and the least width in inches of its slot (room for a long title). ``top``, ``bottom``,
    ``right`` are margins in inches, ``cell`` the side of a cell in inches; ``min_size``
    ``(width, height)`` in inches, if given, is the least size of the figure.
    Returns the figure, its axes and one :class:`Panel` per grid.
    """
    left, gap = 0.35, 0.5
    slots = [max(g[3] * cell, g[4]) for g in grids]
    rows = max(g[2] for g in grids)
    width = max(left + sum(slots) + gap * (len(slots) - 1) + right, min_width)
    height = top + rows * cell + bottom
    width, height = fit_size(width, height, min_size)
    fig, ax = new_figure((width, height), fig)
    ax.set_xlim(0, width / cell)
    ax.set_ylim(height / cell, 0)
    panels, x = [], left
    for (r0, c0, nr, nc, _), slot in zip(grids, slots, strict=True):
        panels.append(Panel(ax, x / cell + 0.5, top / cell + 0.5, r0, c0, nr, nc))
        x += slot + gap
    return fig, ax, panels


def suptitle(fig, text):
    """The figure's heading, top left, without mathtext."""
    fig.text(0.02 / fig.get_figwidth() * 10, 1 - 0.08 / fig.get_figheight(), text,
             ha="left", va="top", fontsize=10, parse_math=False)


def legend(ax, handles):
    """A legend under the grids, in up to four columns, drawn as plain swatches and texts
    (``fig.legend`` costs a third of a redraw). ``handles`` are Patch/Line2D proxies as for
    ``fig.legend``."""
    inch = ax.figure.dpi_scale_trans
    width = ax.figure.get_figwidth()
    n = len(handles)
    ncol, rowh = min(n, 4), 0.22
    colw = min(2.2, (width - 0.2) / ncol)
    nrow = -(-n // ncol)
    x0, y0 = (width - ncol * colw) / 2, 0.1 + (nrow - 1) * rowh
    spots = [(x0 + (k % ncol) * colw, y0 - (k // ncol) * rowh) for k in range(n)]
    for h, (x, y) in zip(handles, spots, strict=True):
        if isinstance(h, Line2D):
            ax.add_line(Line2D([x, x + 0.3], [y + 0.06, y + 0.06], color=h.get_color(),
                               ls=h.get_linestyle(), lw=h.get_linewidth(), transform=inch))
        else:
            ax.add_patch(Rectangle((x, y), 0.3, 0.13, facecolor=h.get_facecolor(),
                                   edgecolor=h.get_edgecolor(), hatch=h.get_hatch(), lw=0.8,
                                   transform=inch))
        ax.text(x + 0.38, y + 0.065, h.get_label(), transform=inch, va="center",
                fontsize=FONT["label"], parse_math=False)
