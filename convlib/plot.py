"""Figures of the explorers: padding (eqs. 7-8), windows (eq. 6), dilation (eqs. 14-15, 29)
and the input gradient (eqs. 17-29).

Each figure has two halves: a pure ``*_data`` function that asks :mod:`convlib` for every
number drawn (padding, windows, dilation, rotation, ``dz_bar``) and returns them in a dict,
and a renderer that only draws that dict. ``draw_*`` returns a pyplot figure (end the cell
with ``plt.show()``) whose ``convlib_data`` attribute is the dict, so tests and readers can
check what is on the screen. Matplotlib only; the widgets live in :mod:`convlib.explorers`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from .backward import dilated_padded_dz
from .conventions import CONVENTIONS, convention_padding, unread_rows
from .forward import prepare
from .ops import dilate, rot180, windows
from .padding import backward_padding, pad

__all__ = [
    "draw_padding",
    "draw_windows",
    "draw_dilation",
    "draw_input_gradient",
    "padding_data",
    "windows_data",
    "dilation_data",
    "input_gradient_data",
]

# Cell categories of a canvas and their colours.
EMPTY, IMAGE, ZERO, CROP = 0, 1, 2, 3
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
    "neighbour": ("#4e79a7", "#e15759", "#59a14f", "#9c6ade"),
}
_PALETTE = np.array(
    [[1, 1, 1, 0]]
    + [
        [int(c[k : k + 2], 16) / 255 for k in (1, 3, 5)] + [1]
        for c in (COLORS["image"], COLORS["zero"], COLORS["crop"])
    ]
)
FONT = {"title": 11, "label": 10, "cell": 9, "tick": 8}


# ----------------------------------------------------------------------------- geometry
def _layer(h_in, w_in, f, s, h_out):
    """The notes' layer (eqs. 7-8) for one image and one channel, via ``convlib.prepare``."""
    w_in = h_in if w_in is None else w_in
    q = np.zeros((1, 1, h_in, w_in))
    W = np.zeros((1, 1, f, f))
    return prepare(q, W, None, s, h_out)[3]


def _canvas(h_in, w_in, f, s, pads):
    """Cells to draw for an input padded (or cropped) by ``pads``, in padded coordinates.

    Row ``r`` of ``q`` sits at row ``r + top`` of ``q_bar`` (eq. 8); cropped rows get
    negative coordinates. Which rows and columns some window reads comes from
    ``convlib.windows`` applied to an array of cell numbers.
    """
    (t, b), (l, r) = pads
    Hp, Wp = pad(np.zeros((h_in, w_in)), pads).shape
    r0, r1 = min(0, t), max(Hp, t + h_in)
    c0, c1 = min(0, l), max(Wp, l + w_in)
    rows = np.arange(r0, r1)[:, None]
    cols = np.arange(c0, c1)[None, :]
    in_pad = (rows >= 0) & (rows < Hp) & (cols >= 0) & (cols < Wp)
    in_img = (rows >= t) & (rows < t + h_in) & (cols >= l) & (cols < l + w_in)
    cat = np.where(in_img & in_pad, IMAGE, np.where(in_pad, ZERO, np.where(in_img, CROP, EMPTY)))
    ids = np.arange(Hp * Wp).reshape(Hp, Wp)
    read = np.zeros(Hp * Wp, dtype=bool)
    read[windows(ids, f, s).ravel()] = True
    read = read.reshape(Hp, Wp)
    return {
        "h_in": h_in,
        "w_in": w_in,
        "f": f,
        "s": s,
        "pads": ((t, b), (l, r)),
        "padded_shape": (Hp, Wp),
        "origin": (r0, c0),
        "category": cat,
        "read": read,
        "unread_rows": np.flatnonzero(~read.any(axis=1)),
        "unread_cols": np.flatnonzero(~read.any(axis=0)),
    }


def _check_index(name, value, size, what):
    if not 0 <= value < size:
        raise ValueError(f"{name}={value} is out of range: {what} has indices 0..{size - 1}")


# ----------------------------------------------------------------------------- data
def padding_data(h_in=5, f=3, s=2, h_out="same", *, w_in=None, convention="notes"):
    """Everything :func:`draw_padding` draws: eqs. (7)-(8) or a framework's convention.

    Parameters
    ----------
    h_in, f, s : int
        Input height, filter width, stride.
    h_out : int, (h_out, w_out) or {"valid", "same", "full"}
        Output size asked for (eq. 7 turns it into the padding ``p``).
    w_in : int, optional
        Input width (default ``h_in``).
    convention : {"notes", "pytorch", "tensorflow"}
        See :func:`convlib.conventions.convention_padding`.

    Returns
    -------
    dict
        ``pads`` ``((top, bottom), (left, right))``, ``p`` (totals per axis), ``out_shape``
        ``(h_out, w_out)``, ``padded_shape`` (the shape of ``convlib.pad(q, pads)``),
        ``category`` (canvas cells: 1 image, 2 zero padding, 3 cropped), ``origin`` (padded
        coordinates of the canvas's top-left cell), ``unread_rows``/``unread_cols`` (of the
        padded input, read by no window).
    """
    w_in = h_in if w_in is None else w_in
    hh, hw = h_out if isinstance(h_out, (tuple, list)) else (h_out, h_out)
    t, b, ho = convention_padding(h_in, f, s, convention, hh)
    l, r, wo = convention_padding(w_in, f, s, convention, hw)
    data = _canvas(h_in, w_in, f, s, ((t, b), (l, r)))
    data.update(
        convention=convention,
        mode=h_out,
        p=(t + b, l + r),
        out_shape=(ho, wo),
        unread_bottom=(unread_rows(h_in, f, s, t, b), unread_rows(w_in, f, s, l, r)),
    )
    return data


def windows_data(h_in=7, f=3, s=2, h_out="same", i=0, j=0, *, w_in=None):
    """Everything :func:`draw_windows` draws: the window eq. (6) reads for output ``(i, j)``.

    Returns
    -------
    dict
        The canvas of :func:`padding_data` (notes' convention) plus ``window``, a boolean
        mask on the padded input of the cells ``q_bar(i s + i', j s + j')`` that ``z(i, j)``
        reads (from ``convlib.windows``), and ``neighbours``: ``{(k, l): mask}`` for the
        output pixels next to ``(i, j)``.
    """
    L = _layer(h_in, w_in, f, s, h_out)
    data = _canvas(L.h_in, L.w_in, f, s, L.pads)
    Hp, Wp = data["padded_shape"]
    _check_index("i", i, L.h_out, f"the output (h_out={L.h_out})")
    _check_index("j", j, L.w_out, f"the output (w_out={L.w_out})")
    ids = np.arange(Hp * Wp).reshape(Hp, Wp)
    win = windows(ids, f, s)  # (h_out, w_out, f, f): the cell numbers each output reads

    def mask(k, m):
        out = np.zeros(Hp * Wp, dtype=bool)
        out[win[k, m].ravel()] = True
        return out.reshape(Hp, Wp)

    near = [(i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)]
    data.update(
        mode=h_out,
        out_shape=(L.h_out, L.w_out),
        p=(sum(L.pads[0]), sum(L.pads[1])),
        i=i,
        j=j,
        window=mask(i, j),
        neighbours={
            (k, m): mask(k, m) for k, m in near if 0 <= k < L.h_out and 0 <= m < L.w_out
        },
    )
    return data


def dilation_data(h_in=7, f=3, s=2, h_out="same", i=0, j=0, *, w_in=None):
    """Everything :func:`draw_dilation` draws: eqs. (14)-(15) with ``dz`` dilated.

    ``dz`` holds the numbers ``1 .. h_out w_out`` so each entry can be followed;
    ``dz_hat = convlib.dilate(dz, s)`` has ``s (h_out - 1) + 1`` rows. Placed on the padded
    input at offset ``(i, j)`` its entries sit on the cells ``q_bar(i + s k, j + s l)`` that
    eq. (14) multiplies by ``dz(k, l)`` to give ``dW(i, j)``.

    Returns
    -------
    dict
        The canvas of :func:`padding_data` plus ``dz``, ``dz_hat``, ``placed`` (array on the
        padded input: the dz value on the cells eq. 14 reads, 0 elsewhere), ``i``, ``j``.
    """
    L = _layer(h_in, w_in, f, s, h_out)
    data = _canvas(L.h_in, L.w_in, f, s, L.pads)
    _check_index("i", i, f, f"dW (f={f})")
    _check_index("j", j, f, f"dW (f={f})")
    dz = np.arange(1, L.h_out * L.w_out + 1).reshape(L.h_out, L.w_out)
    dz_hat = dilate(dz, s)
    placed = np.zeros(data["padded_shape"], dtype=dz.dtype)
    placed[i : i + dz_hat.shape[0], j : j + dz_hat.shape[1]] = dz_hat
    data.update(
        mode=h_out,
        out_shape=(L.h_out, L.w_out),
        p=(sum(L.pads[0]), sum(L.pads[1])),
        i=i,
        j=j,
        dz=dz,
        dz_hat=dz_hat,
        placed=placed,
    )
    return data


def input_gradient_data(h_in=7, f=3, s=2, h_out="same", i=3, j=3, *, w_in=None):
    """Everything :func:`draw_input_gradient` draws: eqs. (17)-(29) for input pixel ``(i, j)``.

    Returns
    -------
    dict
        The canvas of :func:`padding_data` plus

        - ``pixel``: ``(i + top, j + left)``, the pixel in padded coordinates (eq. 8);
        - ``influenced``: boolean ``(h_out, w_out)`` mask of the outputs whose window
          (eq. 6, ``convlib.windows``) reads the pixel, and ``weight_index[k, l] = (a, b)``,
          the filter entry ``W(a, b)`` that multiplies it in ``z(k, l)``;
        - ``dz``: the numbers ``1 .. h_out w_out``; ``dz_bar``: ``convlib.dilated_padded_dz``
          of it (eqs. 24-26, 29), shape ``(h_in + f - 1, w_in + f - 1)``; ``dz_bar_inside``:
          True on the cells of ``dz_bar`` inside the dilated ``dz_hat`` (not padding);
          ``back_pads``: ``convlib.backward_padding`` per axis;
        - ``rot``: ``convlib.rot180`` of the filter's index grid, ``rot[a, b] = (f-1-a)*f +
          (f-1-b)``; ``met``: the ``dz`` numbers inside the ``f x f`` window of ``dz_bar`` at
          ``(i, j)``, which eq. (29) multiplies by ``rot180(W)``.
    """
    L = _layer(h_in, w_in, f, s, h_out)
    data = _canvas(L.h_in, L.w_in, f, s, L.pads)
    _check_index("i", i, L.h_in, f"the input (h_in={L.h_in})")
    _check_index("j", j, L.w_in, f"the input (w_in={L.w_in})")
    (t, _), (l, _) = L.pads
    Hp, Wp = data["padded_shape"]
    pr, pc = i + t, j + l
    win = windows(np.arange(Hp * Wp).reshape(Hp, Wp), f, s)  # (h_out, w_out, f, f)
    target = pr * Wp + pc if (0 <= pr < Hp and 0 <= pc < Wp) else -1
    hits = win == target
    influenced = hits.any(axis=(2, 3))
    weight_index = {}
    for k, m in zip(*np.nonzero(influenced), strict=True):
        a, b = np.argwhere(hits[k, m])[0]
        weight_index[(int(k), int(m))] = (int(a), int(b))
    dz = np.arange(1, L.h_out * L.w_out + 1).reshape(1, 1, L.h_out, L.w_out)
    dz_bar = dilated_padded_dz(dz, L)[0, 0]
    back_pads = (
        backward_padding(L.h_in, f, s, L.h_out, t),
        backward_padding(L.w_in, f, s, L.w_out, l),
    )
    inside = pad(np.ones(dilate(dz, s).shape[-2:], dtype=bool), back_pads)
    met = dz_bar[i : i + f, j : j + f]
    data.update(
        mode=h_out,
        out_shape=(L.h_out, L.w_out),
        p=(sum(L.pads[0]), sum(L.pads[1])),
        i=i,
        j=j,
        pixel=(pr, pc),
        influenced=influenced,
        weight_index=weight_index,
        dz=dz[0, 0],
        dz_bar=dz_bar,
        dz_bar_inside=inside,
        back_pads=back_pads,
        rot=rot180(np.arange(f * f).reshape(f, f)),
        met=met,
    )
    return data


# ----------------------------------------------------------------------------- drawing
# Every figure is ONE axes covering the whole figure, in units of grid cells (y downwards):
# each grid is a panel drawn at an offset. Creating matplotlib Axes is what costs most in a
# redraw (ticks, formatters), so one axes instead of four keeps a slider move fast.
def _new_figure(figsize, fig=None):
    """A pyplot figure (shown by ``plt.show()``) with one full-figure axes, or ``fig`` emptied
    for a redraw (its axes reused: building a new one costs more than the drawing)."""
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=figsize)
    ax = getattr(fig, "_convlib_ax", None)
    if ax is None or ax not in fig.axes or len(fig.axes) != 1:
        fig.clear()
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.set_autoscale_on(False)
        fig._convlib_ax = ax
    else:
        for art in [*ax.images, *ax.patches, *ax.texts, *ax.lines, *ax.collections,
                    *fig.texts, *fig.legends]:
            art.remove()
    fig.set_size_inches(*figsize)
    return fig, ax


class _Panel:
    """One grid, rows ``r0 .. r0+nr-1`` and columns ``c0 .. c0+nc-1``, on the shared axes."""

    def __init__(self, ax, x, y, r0, c0, nr, nc):
        self.ax, self.r0, self.c0, self.nr, self.nc = ax, r0, c0, nr, nc
        self.dx, self.dy = x - c0, y - r0  # grid cell (r, c) is centred on (c + dx, r + dy)

    def image(self, rgb):
        """Fill the cells with colours (an ``(nr, nc, 3 or 4)`` array)."""
        x0, y0 = self.dx + self.c0 - 0.5, self.dy + self.r0 - 0.5
        self.ax.imshow(rgb, extent=(x0, x0 + self.nc, y0 + self.nr, y0),
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
        kw.setdefault("fontsize", FONT["cell"])
        kw.setdefault("ha", "center")
        kw.setdefault("va", "center")
        kw.setdefault("parse_math", False)
        self.ax.text(c + self.dx, r + self.dy, s, **kw)

    def title(self, s, fontsize=None):
        self.ax.text(self.c0 + self.dx - 0.5, self.r0 + self.dy - 0.95, s, ha="left",
                     va="bottom", fontsize=fontsize or FONT["label"], parse_math=False)


def _layout(fig, grids, *, cell, top, bottom=0.75, right=0.25, min_width=0.0):
    """A figure holding a row of grids of equal cell size, aligned at the top.

    ``grids`` lists ``(r0, c0, nr, nc, slot)``: the grid's first row and column, its size
    and the least width in inches of its slot (room for a long title). ``top``, ``bottom``,
    ``right`` are margins in inches, ``cell`` the side of a cell in inches.
    Returns the figure and one :class:`_Panel` per grid.
    """
    left, gap = 0.35, 0.5
    slots = [max(g[3] * cell, g[4]) for g in grids]
    rows = max(g[2] for g in grids)
    width = max(left + sum(slots) + gap * (len(slots) - 1) + right, min_width)
    height = top + rows * cell + bottom
    # an animation draws every frame at its largest size, so that the player does not jump
    w_min, h_min = getattr(fig, "convlib_min_size", (0, 0))
    width, height = max(width, w_min), max(height, h_min)
    fig, ax = _new_figure((width, height), fig)
    ax.set_xlim(0, width / cell)
    ax.set_ylim(height / cell, 0)
    panels, x = [], left
    for (r0, c0, nr, nc, _), slot in zip(grids, slots, strict=True):
        panels.append(_Panel(ax, x / cell + 0.5, top / cell + 0.5, r0, c0, nr, nc))
        x += slot + gap
    return fig, panels


def _suptitle(fig, text):
    fig.text(0.02 / fig.get_figwidth() * 10, 1 - 0.08 / fig.get_figheight(), text,
             ha="left", va="top", fontsize=10, parse_math=False)


def _draw_canvas(pn, d):
    """The padded input: image pixels, zero border (hatched), crops, unread rows."""
    (t, b), (l, r) = d["pads"]
    Hp, Wp = d["padded_shape"]
    pn.image(_PALETTE[d["category"]])
    pn.grid()
    hatch = {"hatch": "///", "edgecolor": "#8a8a8a", "lw": 0}
    strips = [(0, 0, t, Wp), (Hp - b, 0, b, Wp), (0, 0, Hp, l), (0, Wp - r, Hp, r)]
    for rr, cc, hh, ww in strips:
        if hh > 0 and ww > 0:
            pn.box(rr, cc, hh, ww, **hatch)
    cross = {"hatch": "xx", "edgecolor": "#d62728", "lw": 0}
    crops = [(t, l, -t, d["w_in"]), (Hp, l, -b, d["w_in"]), (t, l, d["h_in"], -l)]
    crops.append((t, Wp, d["h_in"], -r))
    for rr, cc, hh, ww in crops:
        if hh > 0 and ww > 0:
            pn.box(rr, cc, hh, ww, **cross)
    dots = {"hatch": "..", "edgecolor": COLORS["unread"], "lw": 0}
    for rr in d["unread_rows"]:
        pn.box(rr, 0, 1, Wp, **dots)
    for cc in d["unread_cols"]:
        pn.box(0, cc, Hp, 1, **dots)
    pn.box(t, l, d["h_in"], d["w_in"], edgecolor=COLORS["edge"], lw=2.2)
    pn.box(0, 0, Hp, Wp, edgecolor="black", lw=1.2, ls="--")


def _canvas_grid(d, slot=0.0):
    (r0, c0), (nr, nc) = d["origin"], d["category"].shape
    return (r0, c0, nr, nc, slot)


def _legend_handles(d, extra=()):
    cat = d["category"]
    hs = [Patch(facecolor=COLORS["image"], edgecolor=COLORS["edge"], label="pixel of q")]
    if (cat == ZERO).any():
        hs.append(Patch(facecolor=COLORS["zero"], hatch="///", edgecolor="#8a8a8a",
                        label="zero padding"))
    if (cat == CROP).any():
        hs.append(Patch(facecolor="white", hatch="xx", edgecolor="#d62728", label="cropped"))
    if len(d["unread_rows"]) or len(d["unread_cols"]):
        hs.append(Patch(facecolor="white", hatch="..", edgecolor=COLORS["unread"],
                        label="read by no window"))
    hs.append(Line2D([], [], color="black", ls="--", lw=1.2, label="padded input q̄"))
    return hs + list(extra)


def _legend(fig, handles, loc="lower center", x=None):
    """A legend drawn as plain swatches and texts (``fig.legend`` costs a third of a redraw).

    ``handles`` are Patch/Line2D proxies as for ``fig.legend``; ``loc`` is ``"lower center"``
    (up to four columns under the grids) or ``"center right"`` (one column, starting at
    ``x`` inches if given).
    """
    ax = fig._convlib_ax
    inch = fig.dpi_scale_trans
    width, height = fig.get_size_inches()
    n = len(handles)
    if loc == "lower center":
        ncol, rowh = min(n, 4), 0.22
        colw = min(2.2, (width - 0.2) / ncol)
        nrow = -(-n // ncol)
        x0, y0 = (width - ncol * colw) / 2, 0.1 + (nrow - 1) * rowh
        spots = [(x0 + (k % ncol) * colw, y0 - (k // ncol) * rowh) for k in range(n)]
    else:
        rowh = 0.24
        y0 = height / 2 + (n - 1) * rowh / 2
        spots = [(width - 2.2 if x is None else x, y0 - k * rowh) for k in range(n)]
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


def _sides(d):
    (t, b), (l, r) = d["pads"]
    if (t, b) == (l, r):
        return f"top/left {t}, bottom/right {b}"
    return f"top {t}, bottom {b}, left {l}, right {r}"


def _padding_title(d):
    """Lines stating the convention, h_out, p and its split (eqs. 7-8) or the framework's."""
    h, w, f, s = d["h_in"], d["w_in"], d["f"], d["s"]
    (t, b), (l, r) = d["pads"]
    ho, wo = d["out_shape"]
    conv, mode = d["convention"], d["mode"]
    size = f"h_out = {ho}" if (h, ho) == (w, wo) else f"(h_out, w_out) = ({ho}, {wo})"
    square = (t, b) == (l, r)
    if conv == "notes":
        lines = ["The notes, eqs. 7-8", f"h_out={mode!r}:  {size}", "p = s(h_out−1) + f − h_in",
                 f"   = {s}·{ho - 1} + {f} − {h} = {t + b}"]
        if (h, ho) != (w, wo):
            lines.append(f"width: {s}·{wo - 1} + {f} − {w} = {l + r}")
        verb = "crop" if min(t, b, l, r) < 0 else "split"
        if square:
            where = ("top/left", "bottom/right")
        else:
            where = (f"top, {l} left", f"bottom, {r} right")
        pad_ = " " * len(verb)
        lines += [f"{verb}: ⌈p/2⌉ = {t} {where[0]},", f"{pad_}  ⌊p/2⌋ = {b} {where[1]}"]
    elif conv == "pytorch":
        lines = ["PyTorch: padding=k on every side", f"{mode!r}:  k = {t},  {size}",
                 "h_out = ⌊(h_in + 2k − f)/s⌋ + 1",
                 f"   = ⌊({h} + {2 * t} − {f})/{s}⌋ + 1 = {ho}"]
    else:
        lines = [f"TensorFlow padding='{str(mode).upper()}'", size]
        if mode == "same":
            lines += ["total = max((⌈h_in/s⌉−1)s + f − h_in, 0)",
                      f"   = {t + b}:  ⌊total/2⌋ = {t} top/left,",
                      f"   the rest, {b}, bottom/right"]
        else:
            lines.append("no padding")
    if conv != "notes":
        lines.append(f"rows read by no window: {d['unread_bottom'][0]} at the bottom")
    return "\n".join(lines)


def _window_outline(pn, d, i, j, **kw):
    f, s = d["f"], d["s"]
    pn.box(i * s, j * s, f, f, **kw)


def _render_padding(fig, datas):
    """One row per convention: the padded input, and beside it the arithmetic."""
    one = len(datas) == 1
    cell, left, gap, text_w, top, sep = (0.42 if one else 0.34), 0.45, 0.45, 4.0, 0.4, 0.35
    titles = [_padding_title(d) for d in datas]
    gw = max(d["category"].shape[1] for d in datas) * cell
    heights = [max(d["category"].shape[0] * cell, 0.21 * (t.count("\n") + 1))
               for d, t in zip(datas, titles, strict=True)]
    extra = [Line2D([], [], color=COLORS["lit"], lw=2.2, label="first window (f × f)"),
             Line2D([], [], color=COLORS["lit"], lw=2.2, ls=":", label="last window")]
    handles = _legend_handles(datas[0] if one else _merge_cats(datas), extra)
    legend_h = 0.22 * -(-len(handles) // 4) + 0.3
    width = left + gw + gap + text_w
    height = top + sum(heights) + sep * (len(datas) - 1) + legend_h
    w_min, h_min = getattr(fig, "convlib_min_size", (0, 0))
    width, height = max(width, w_min), max(height, h_min)
    fig, ax = _new_figure((width, height), fig)
    ax.set_xlim(0, width / cell)
    ax.set_ylim(height / cell, 0)
    tx = max(left + gw + gap, width - text_w)  # the text column stays put in an animation
    y = top
    for d, title, h in zip(datas, titles, heights, strict=True):
        (r0, c0), (nr, nc) = d["origin"], d["category"].shape
        pn = _Panel(ax, left / cell + 0.5, y / cell + 0.5, r0, c0, nr, nc)
        _draw_canvas(pn, d)
        ho, wo = d["out_shape"]
        _window_outline(pn, d, 0, 0, edgecolor=COLORS["lit"], lw=2.2)
        _window_outline(pn, d, ho - 1, wo - 1, edgecolor=COLORS["lit"], lw=2.2, ls=":")
        ax.text(tx / cell, y / cell, title, ha="left", va="top", fontsize=FONT["label"],
                linespacing=1.5, parse_math=False)
        y += h + sep
    _legend(fig, handles)
    fig.convlib_data = datas[0] if one else {d["convention"]: d for d in datas}
    return fig


def _merge_cats(datas):
    """A stand-in canvas holding every category present in ``datas`` (for the legend)."""
    cats = np.concatenate([d["category"].ravel() for d in datas])[None, :]
    unread = [r for d in datas for r in d["unread_rows"]] + [
        c for d in datas for c in d["unread_cols"]
    ]
    return {"category": cats, "unread_rows": unread, "unread_cols": []}


def draw_padding(h_in=5, f=3, s=2, h_out="same", *, w_in=None, convention="notes", fig=None):
    """Draw the padded input of eqs. (7)-(8): ``p``, its split, the zero border, the crop.

    The image ``q`` is the blue block with the heavy outline, the zero padding is grey and
    hatched, rows cropped away when ``p < 0`` are crossed out in red, and rows of the padded
    input ``q_bar`` (dashed) that no window reads are dotted. The first and the last window
    of eq. (6) are outlined. The title states ``p = s (h_out - 1) + f - h_in`` (eq. 7), its
    split ``ceil(p/2)`` before, ``floor(p/2)`` after (eq. 8) and ``h_out``.

    Parameters
    ----------
    h_in, f, s : int
        Input height, filter width, stride.
    h_out : int or {"valid", "same", "full"}
        Output size asked for.
    w_in : int, optional
        Input width (default ``h_in``).
    convention : {"notes", "pytorch", "tensorflow", "all"}
        The notes' eqs. (7)-(8), PyTorch's symmetric ``padding=k`` or TensorFlow's
        ``'SAME'``/``'VALID'`` (see :func:`convlib.conventions.convention_padding`);
        ``"all"`` draws the three side by side (TensorFlow only for ``"same"``/``"valid"``).
    fig : matplotlib Figure, optional
        Redraw into this figure instead of a new pyplot figure.

    Returns
    -------
    matplotlib.figure.Figure
        With ``fig.convlib_data``: the dict of :func:`padding_data` (for ``"all"``, a dict
        of them keyed by convention).
    """
    if convention == "all":
        convs = [c for c in CONVENTIONS if c != "tensorflow" or h_out in ("same", "valid")]
    else:
        convs = [convention]
    datas = [padding_data(h_in, f, s, h_out, w_in=w_in, convention=c) for c in convs]
    return _render_padding(fig, datas)


def _render_output(pn, title):
    pn.image(np.full((pn.nr, pn.nc, 3), 0.97))
    pn.grid()
    pn.title(title)


def _render_windows(fig, d):
    i, j, f, s = d["i"], d["j"], d["f"], d["s"]
    ho, wo = d["out_shape"]
    fig, (pn, pz) = _layout(fig, [_canvas_grid(d), (0, 0, ho, wo, 2.0)], cell=0.4, top=1.05,
                            min_width=8.0)
    _draw_canvas(pn, d)
    rows, cols = np.nonzero(d["window"])
    pn.box(rows.min(), cols.min(), f, f, fill=True, facecolor=COLORS["lit"], alpha=0.75,
           edgecolor="none")
    pn.box(rows.min(), cols.min(), f, f, edgecolor="black", lw=2)
    if f <= 5:
        for a in range(f):
            for b in range(f):
                pn.text(i * s + a, j * s + b, f"W{a}{b}", fontsize=FONT["cell"] - (f > 3))
    _render_output(pz, "output z (h_out × w_out)")
    pz.box(i, j, 1, 1, fill=True, facecolor=COLORS["lit"], edgecolor="black", lw=2)
    handles = [Patch(facecolor=COLORS["lit"], edgecolor="black", label=f"window of z({i}, {j})")]
    for (k, m), color in zip(d["neighbours"], COLORS["neighbour"], strict=False):
        _window_outline(pn, d, k, m, edgecolor=color, lw=2, ls="--")
        pz.box(k, m, 1, 1, edgecolor=color, lw=2, ls="--")
        handles.append(Line2D([], [], color=color, ls="--", lw=2, label=f"window of z({k}, {m})"))
    r_lo, c_lo = i * s, j * s
    if s < f:
        how = "windows overlap (s < f)"
    elif s == f:
        how = "windows touch (s = f)"
    else:
        how = "rows between windows are skipped (s > f)"
    _suptitle(fig, f"eq. 6: z({i}, {j}) = Σ q̄({i}·{s}+i′, {j}·{s}+j′) W(i′, j′) reads rows "
              f"{r_lo}–{r_lo + f - 1}, columns {c_lo}–{c_lo + f - 1} of q̄\n"
              f"h_in={d['h_in']}, f={f}, s={s}, h_out={d['mode']!r} → {ho}; p = {d['p'][0]}; "
              f"{how}")
    _legend(fig, _legend_handles(d, handles))
    fig.convlib_data = d
    return fig


def draw_windows(h_in=7, f=3, s=2, h_out="same", i=0, j=0, *, w_in=None, fig=None):
    """Draw the ``f x f`` window of the padded input that output pixel ``(i, j)`` reads: eq. (6).

    ``z(i, j) = sum_{i', j'} q_bar(i s + i', j s + j') W(i', j')``: the window (orange,
    each cell labelled with the filter entry ``W(i', j')`` it meets) starts at row ``i s``
    and column ``j s``. The windows of the neighbouring outputs are dashed, so that windows
    overlapping (``s < f``) and rows skipped (``s > f``, dotted) show.

    Parameters
    ----------
    h_in, f, s, h_out, w_in
        As in :func:`draw_padding` (the notes' convention).
    i, j : int
        The output pixel, ``0 <= i < h_out``, ``0 <= j < w_out``.
    fig : matplotlib Figure, optional
        Redraw into this figure.

    Returns
    -------
    matplotlib.figure.Figure
        With ``fig.convlib_data``, the dict of :func:`windows_data`.
    """
    return _render_windows(fig, windows_data(h_in, f, s, h_out, i, j, w_in=w_in))


def _rgb(color):
    return np.array([int(color[k : k + 2], 16) / 255 for k in (1, 3, 5)])


def _entry_colors(values, on, off):
    return np.where((values != 0)[..., None], _rgb(on), _rgb(off))


def _render_small(pn, values, colors, title, *, labels=True, ticks=True):
    """A small matrix (dz, dz_hat, dW): cells coloured by ``colors``, non-zeros written in."""
    pn.image(colors)
    pn.grid(ticks)
    if labels:
        for (a, b), v in np.ndenumerate(values):
            if v:  # zeros are told by their colour
                pn.text(a, b, f"{v}")
    pn.title(title)


def _render_dilation(fig, d):
    i, j, f, s = d["i"], d["j"], d["f"], d["s"]
    dz, dz_hat, placed = d["dz"], d["dz_hat"], d["placed"]
    ho, wo = dz.shape
    hh, hw = dz_hat.shape
    grids = [(0, 0, ho, wo, 1.1), (0, 0, hh, hw, 2.3), _canvas_grid(d, 2.0), (0, 0, f, f, 1.0)]
    fig, (p_dz, p_hat, p_q, p_dw) = _layout(fig, grids, cell=0.32, top=1.15, min_width=9.0)
    _render_small(p_dz, dz, _entry_colors(dz, COLORS["dz"], COLORS["dz"]), f"dz ({ho} × {wo})")
    _render_small(p_hat, dz_hat, _entry_colors(dz_hat, COLORS["dz"], COLORS["dz_zero"]),
                  f"dẑ = dilate(dz, s): {hh} × {hw}", labels=dz_hat.size <= 400, ticks=False)
    _draw_canvas(p_q, d)
    p_q.box(i, j, hh, hw, fill=True, facecolor=COLORS["dz_zero"], alpha=0.6, edgecolor="none")
    for (a, b), v in np.ndenumerate(placed):
        if v:
            p_q.box(a, b, 1, 1, fill=True, facecolor=COLORS["dz"], edgecolor="black", lw=0.8)
            p_q.text(a, b, f"{v}")
    p_q.box(i, j, hh, hw, edgecolor="#2c7a2c", lw=2.2)
    p_q.title(f"q̄ with dẑ placed at ({i}, {j})")
    dw = np.zeros((f, f), dtype=int)
    _render_small(p_dw, dw, _entry_colors(dw, "#ffffff", "#f7f7f7"), "dW (f × f)",
                  labels=False)
    p_dw.box(i, j, 1, 1, fill=True, facecolor=COLORS["lit"], edgecolor="black", lw=2)
    _suptitle(fig, f"eqs. 14-15: dW({i}, {j}) = Σ dz(k, l) q̄({i}+{s}k, {j}+{s}l): dẑ placed at "
              f"({i}, {j}) of q̄\n"
              f"dẑ: s−1 = {s - 1} zeros between entries, s(h_out−1)+1 = {hh} cells a side "
              f"(the notes print h_out(s+1)−1 = {ho * (s + 1) - 1})")
    handles = [Patch(facecolor=COLORS["dz"], edgecolor="black", label="entry of dz"),
               Patch(facecolor=COLORS["dz_zero"], edgecolor="#9a9a9a",
                     label="zero of the dilation"),
               Line2D([], [], color="#2c7a2c", lw=2.2, label="dẑ on q̄")]
    _legend(fig, _legend_handles(d, handles))
    fig.convlib_data = d
    return fig


def draw_dilation(h_in=7, f=3, s=2, h_out="same", i=0, j=0, *, w_in=None, fig=None):
    """Draw ``dz``, its dilation ``dz_hat`` and ``dz_hat`` on the padded input: eqs. 14-15, 29.

    ``dW(i, j) = sum_{k, l} dz(k, l) q_bar(i + s k, j + s l)`` (eq. 14 without the notes'
    sum over ``nu``) is a stride-1 cross-correlation of ``q_bar`` with ``dz_hat``, ``dz``
    with ``s - 1`` zeros between entries (eq. 15), ``s (h_out - 1) + 1`` cells a side. The
    entries of ``dz`` (numbered ``1 .. h_out w_out``) land on the cells of ``q_bar`` they
    multiply; moving ``(i, j)`` over the ``f x f`` entries of ``dW`` slides ``dz_hat``.

    Parameters
    ----------
    h_in, f, s, h_out, w_in
        As in :func:`draw_padding` (the notes' convention).
    i, j : int
        The entry of ``dW``, ``0 <= i, j < f``.
    fig : matplotlib Figure, optional
        Redraw into this figure.

    Returns
    -------
    matplotlib.figure.Figure
        With ``fig.convlib_data``, the dict of :func:`dilation_data`.
    """
    return _render_dilation(fig, dilation_data(h_in, f, s, h_out, i, j, w_in=w_in))


def _render_input_gradient(fig, d):
    i, j, f = d["i"], d["j"], d["f"]
    ho, wo = d["out_shape"]
    dz_bar, inside, rot = d["dz_bar"], d["dz_bar_inside"], d["rot"]
    grids = [_canvas_grid(d, 2.6), (0, 0, ho, wo, 1.6), (0, 0, *dz_bar.shape, 2.6)]
    fig, (p_q, p_z, p_b) = _layout(fig, grids, cell=0.34, top=1.15, min_width=9.0)
    # Forward view: the pixel and every window of eq. (6) that reads it.
    _draw_canvas(p_q, d)
    pr, pc = d["pixel"]
    for k, m in d["weight_index"]:
        _window_outline(p_q, d, k, m, edgecolor=COLORS["lit"], lw=1.6)
    p_q.box(pr, pc, 1, 1, fill=True, facecolor="#1f3b57", edgecolor="black")
    p_q.title(f"q̄: pixel q({i}, {j}) and the windows reading it")
    # Outputs it influences, each labelled with the weight that links them.
    _render_output(p_z, "outputs z it influences")
    for (k, m), (a, b) in d["weight_index"].items():
        p_z.box(k, m, 1, 1, fill=True, facecolor=COLORS["lit"], edgecolor="black", lw=1.2)
        p_z.text(k, m, f"W{a}{b}", fontsize=FONT["cell"] - 1)
    # Eq. (29): dz_bar and the rotated filter at (i, j).
    colors = np.where(inside[..., None], _rgb(COLORS["dz_zero"]), _rgb(COLORS["zero"]))
    colors[dz_bar != 0] = _rgb(COLORS["dz"])
    _render_small(p_b, dz_bar, colors, f"dz̄: dẑ padded to h_in+f−1 = {dz_bar.shape[0]}")
    ia, ib = np.nonzero(inside)
    if len(ia):
        p_b.box(ia.min(), ib.min(), ia.max() - ia.min() + 1, ib.max() - ib.min() + 1,
                edgecolor="#2c7a2c", lw=1.5)
    p_b.box(i, j, f, f, fill=True, facecolor=COLORS["lit"], alpha=0.35, edgecolor="none")
    p_b.box(i, j, f, f, edgecolor="black", lw=2)
    for (a, b), v in np.ndenumerate(d["met"]):
        if v:
            p_b.box(i + a, j + b, 1, 1, edgecolor=COLORS["lit"], lw=2.2)
    if f <= 4:
        for a in range(f):
            for b in range(f):
                w_idx = rot[a, b]
                p_b.text(i + a + 0.42, j + b + 0.45, f"W{w_idx // f}{w_idx % f}", ha="right",
                         va="bottom", fontsize=FONT["tick"] - 1, color="#7a3d00")
    (bt, bb), (bl, br) = d["back_pads"]
    met = sorted(int(v) for v in d["met"].ravel() if v)
    _suptitle(fig, f"eqs. 17-29: dq({i}, {j}) = Σ dz̄({i}+a, {j}+b) rot180(W)(a, b) meets dz "
              f"entries {met if met else 'none: dq = 0'}\n"
              f"dz̄: dẑ padded top {bt}, bottom {bb}, left {bl}, right {br} "
              f"(eqs. 24-26: f−1−⌈p/2⌉ before)")
    handles = [Patch(facecolor=COLORS["lit"], edgecolor="black", label="influenced output"),
               Patch(facecolor=COLORS["dz"], edgecolor="#9a9a9a", label="entry of dz"),
               Patch(facecolor=COLORS["dz_zero"], edgecolor="#9a9a9a",
                     label="zero of the dilation"),
               Line2D([], [], color="black", lw=2, label="rot180(W) at (i, j)")]
    _legend(fig, _legend_handles(d, handles))
    fig.convlib_data = d
    return fig


def draw_input_gradient(h_in=7, f=3, s=2, h_out="same", i=3, j=3, *, w_in=None, fig=None):
    """Draw which outputs input pixel ``(i, j)`` influences and eq. (29) computing ``dq(i, j)``.

    Left: the padded input with ``q(i, j)`` (dark) and every window of eq. (6) that reads it.
    Middle: those outputs ``z(k, l)``, each labelled with the filter entry ``W(a, b)`` that
    multiplies ``q(i, j)`` in it (eqs. 17-22). Right: ``dz_bar``, the dilated ``dz``
    (entries numbered ``1 .. h_out w_out``) padded by eqs. (24)-(26) to ``h_in + f - 1``,
    with the rotated filter ``rot180(W)`` (eq. 22) placed at ``(i, j)``: the ``dz`` entries
    it meets are exactly the influenced outputs, and each meets the same ``W(a, b)``, which is
    eq. (29): ``dq(i, j) = sum_{a, b} dz_bar(i + a, j + b) rot180(W)(a, b)``.

    Parameters
    ----------
    h_in, f, s, h_out, w_in
        As in :func:`draw_padding` (the notes' convention).
    i, j : int
        The input pixel, ``0 <= i < h_in``, ``0 <= j < w_in``.
    fig : matplotlib Figure, optional
        Redraw into this figure.

    Returns
    -------
    matplotlib.figure.Figure
        With ``fig.convlib_data``, the dict of :func:`input_gradient_data`.
    """
    return _render_input_gradient(fig, input_gradient_data(h_in, f, s, h_out, i, j, w_in=w_in))
