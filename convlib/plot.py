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
FONT = {"title": 11, "label": 9, "cell": 8, "tick": 7}


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
    h_out : int or {"valid", "same", "full"}
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
    t, b, ho = convention_padding(h_in, f, s, convention, h_out)
    l, r, wo = convention_padding(w_in, f, s, convention, h_out)
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
def _new_figure(figsize, fig=None):
    """A pyplot figure (shown by ``plt.show()``), or ``fig`` cleared for a redraw."""
    if fig is None:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=figsize)
    fig.clear()
    fig.set_size_inches(*figsize)
    return fig


def _layout(fig, panels, rows, *, cell, top, bottom=0.75, right=0.25, min_width=0.0):
    """A figure holding a row of grids of equal cell size (inches), aligned at the top.

    ``panels`` lists ``(columns, minimum slot width in inches)``; a slot wider than its grid
    leaves room for a long title. ``top``/``bottom``/``right``: margins in inches (titles,
    legend). Returns the figure and the axes.
    """
    left, gap = 0.35, 0.5
    slots = [max(nc * cell, w) for nc, w in panels]
    width = max(left + sum(slots) + gap * (len(slots) - 1) + right, min_width)
    height = top + rows * cell + bottom
    # an animation draws every frame at its largest size, so that the player does not jump
    w_min, h_min = getattr(fig, "convlib_min_size", (0, 0))
    width, height = max(width, w_min), max(height, h_min)
    fig = _new_figure((width, height), fig)
    axes, x = [], left
    y = (height - top - rows * cell) / height  # grids hang from the top
    for (nc, _), slot in zip(panels, slots, strict=True):
        ax = fig.add_axes((x / width, y, nc * cell / width, rows * cell / height))
        ax.set_anchor("NW")
        axes.append(ax)
        x += slot + gap
    return fig, axes


def _grid_axes(ax, r0, c0, nr, nc, *, ticks=True):
    """Matrix-style axes: cell (r, c) centred on (c, r), row 0 on top, grid lines."""
    ax.set_xlim(c0 - 0.5, c0 + nc - 0.5)
    ax.set_ylim(r0 + nr - 0.5, r0 - 0.5)
    ax.set_aspect("equal")
    ax.hlines(np.arange(r0, r0 + nr + 1) - 0.5, c0 - 0.5, c0 + nc - 0.5, color="#9a9a9a", lw=0.6)
    ax.vlines(np.arange(c0, c0 + nc + 1) - 0.5, r0 - 0.5, r0 + nr - 0.5, color="#9a9a9a", lw=0.6)
    ax.set_xticks([])
    ax.set_yticks([])
    if ticks:  # index labels as plain texts: much cheaper to build than Tick objects
        kw = {"fontsize": FONT["tick"], "color": "#555555"}
        for c in range(c0, c0 + nc):
            ax.text(c, r0 - 0.62, str(c), ha="center", va="bottom", **kw)
        for r in range(r0, r0 + nr):
            ax.text(c0 - 0.62, r, str(r), ha="right", va="center", **kw)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _box(ax, r, c, h, w, **kw):
    """Outline (or fill) the cells rows r..r+h-1, cols c..c+w-1."""
    kw.setdefault("fill", False)
    ax.add_patch(Rectangle((c - 0.5, r - 0.5), w, h, **kw))


def _draw_canvas(ax, d):
    """The padded input: image pixels, zero border (hatched), crops, unread rows."""
    cat = d["category"]
    (r0, c0), (nr, nc) = d["origin"], cat.shape
    (t, b), (l, r) = d["pads"]
    Hp, Wp = d["padded_shape"]
    ax.imshow(
        _PALETTE[cat],
        extent=(c0 - 0.5, c0 + nc - 0.5, r0 + nr - 0.5, r0 - 0.5),
        interpolation="nearest",
    )
    _grid_axes(ax, r0, c0, nr, nc)
    hatch = {"hatch": "///", "edgecolor": "#8a8a8a", "lw": 0}
    strips = [(0, 0, t, Wp), (Hp - b, 0, b, Wp), (0, 0, Hp, l), (0, Wp - r, Hp, r)]
    for rr, cc, hh, ww in strips:
        if hh > 0 and ww > 0:
            _box(ax, rr, cc, hh, ww, **hatch)
    cross = {"hatch": "xx", "edgecolor": "#d62728", "lw": 0}
    crops = [(t, l, -t, d["w_in"]), (Hp, l, -b, d["w_in"]), (t, l, d["h_in"], -l)]
    crops.append((t, Wp, d["h_in"], -r))
    for rr, cc, hh, ww in crops:
        if hh > 0 and ww > 0:
            _box(ax, rr, cc, hh, ww, **cross)
    dots = {"hatch": "..", "edgecolor": COLORS["unread"], "lw": 0}
    for rr in d["unread_rows"]:
        _box(ax, rr, 0, 1, Wp, **dots)
    for cc in d["unread_cols"]:
        _box(ax, 0, cc, Hp, 1, **dots)
    _box(ax, t, l, d["h_in"], d["w_in"], edgecolor=COLORS["edge"], lw=2.2)
    _box(ax, 0, 0, Hp, Wp, edgecolor="black", lw=1.2, ls="--")


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


def _legend(fig, handles, y=0.005):
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4),
               fontsize=FONT["label"], frameon=False, bbox_to_anchor=(0.5, y))


def _sides(d):
    (t, b), (l, r) = d["pads"]
    if (t, b) == (l, r):
        return f"top/left {t}, bottom/right {b}"
    return f"top {t}, bottom {b}, left {l}, right {r}"


def _padding_title(d):
    """Two or three lines stating the convention, p, its split and h_out."""
    h, w, f, s = d["h_in"], d["w_in"], d["f"], d["s"]
    (t, b), (l, r) = d["pads"]
    ho, wo = d["out_shape"]
    conv, mode = d["convention"], d["mode"]
    size = f"h_out = {ho}" if (h, ho) == (w, wo) else f"(h_out, w_out) = ({ho}, {wo})"
    if conv == "notes":
        head = f"notes, eqs. 7-8 (h_out={mode!r}): {size}"
        ph = f"p = s(h_out−1)+f−h_in = {s}·{ho - 1}+{f}−{h} = {t + b}"
        if h != w or ho != wo:
            ph += f";  width: {s}·{wo - 1}+{f}−{w} = {l + r}"
        verb = "crop" if min(t, b, l, r) < 0 else "split"
        return f"{head}\n{ph}\n{verb} (⌈p/2⌉ before, ⌊p/2⌋ after): {_sides(d)}"
    if conv == "pytorch":
        return (
            f"PyTorch, padding=k={t} on every side ({mode!r})\n"
            f"h_out = ⌊(h_in+2k−f)/s⌋+1 = ⌊({h}+{2 * t}−{f})/{s}⌋+1 = {ho}\n"
            f"unread rows at the bottom: {d['unread_bottom'][0]}"
        )
    name = "'SAME'" if mode == "same" else "'VALID'"
    if mode == "same":
        line = f"total = max((⌈h_in/s⌉−1)s+f−h_in, 0) = {t + b}\nextra pixel after: {_sides(d)}"
    else:
        line = "no padding"
    return (
        f"TensorFlow {name}: {size}\n{line}\n"
        f"unread rows at the bottom: {d['unread_bottom'][0]}"
    )


def _draw_windows_outline(ax, d, i, j, **kw):
    f, s = d["f"], d["s"]
    _box(ax, i * s, j * s, f, f, **kw)


def _render_padding(fig, datas):
    one = len(datas) == 1
    cell = 0.42 if one else 0.3
    rows = max(d["category"].shape[0] for d in datas)
    panels = [(d["category"].shape[1], 0 if one else 3.9) for d in datas]
    fig, axes = _layout(fig, panels, rows, cell=cell, top=1.05, bottom=0.35 if one else 0.75,
                        right=2.3 if one else 0.25)
    for ax, d in zip(axes, datas, strict=True):
        _draw_canvas(ax, d)
        ho, wo = d["out_shape"]
        _draw_windows_outline(ax, d, 0, 0, edgecolor=COLORS["lit"], lw=2.2)
        _draw_windows_outline(ax, d, ho - 1, wo - 1, edgecolor=COLORS["lit"], lw=2.2, ls=":")
        ax.set_title(_padding_title(d), fontsize=FONT["label"] if one else FONT["label"] - 1,
                     loc="left", pad=14)
    extra = [Line2D([], [], color=COLORS["lit"], lw=2.2, label="first window (f × f)"),
             Line2D([], [], color=COLORS["lit"], lw=2.2, ls=":", label="last window")]
    handles = _legend_handles(_merge_cats(datas), extra)
    if one:
        fig.legend(handles=handles, loc="center right", fontsize=FONT["label"], frameon=False)
    else:
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


def _render_output(ax, ho, wo, title):
    ax.imshow(np.ones((ho, wo, 3)) * 0.97, extent=(-0.5, wo - 0.5, ho - 0.5, -0.5))
    _grid_axes(ax, 0, 0, ho, wo)
    ax.set_title(title, fontsize=FONT["label"], pad=12)


def _render_windows(fig, d):
    i, j, f, s = d["i"], d["j"], d["f"], d["s"]
    ho, wo = d["out_shape"]
    nr, nc = d["category"].shape
    fig, (ax, ax_out) = _layout(fig, [(nc, 0), (wo, 2.0)], max(nr, ho), cell=0.4, top=0.95,
                                min_width=8.0)
    _draw_canvas(ax, d)
    rows, cols = np.nonzero(d["window"])
    _box(ax, rows.min(), cols.min(), f, f, fill=True, facecolor=COLORS["lit"], alpha=0.75,
         edgecolor="none")
    _box(ax, rows.min(), cols.min(), f, f, edgecolor="black", lw=2)
    if f <= 5:
        for a in range(f):
            for b in range(f):
                ax.text(j * s + b, i * s + a, f"W{a}{b}", ha="center", va="center",
                        fontsize=FONT["cell"] - (f > 3))
    _render_output(ax_out, ho, wo, "output z (h_out × w_out)")
    _box(ax_out, i, j, 1, 1, fill=True, facecolor=COLORS["lit"], edgecolor="black", lw=2)
    handles = [Patch(facecolor=COLORS["lit"], edgecolor="black", label=f"window of z({i}, {j})")]
    for (k, m), color in zip(d["neighbours"], COLORS["neighbour"], strict=False):
        _draw_windows_outline(ax, d, k, m, edgecolor=color, lw=2, ls="--")
        _box(ax_out, k, m, 1, 1, edgecolor=color, lw=2, ls="--")
        handles.append(Line2D([], [], color=color, ls="--", lw=2, label=f"window of z({k}, {m})"))
    r_lo, c_lo = i * s, j * s
    fig.suptitle(
        f"eq. 6: z({i}, {j}) = Σ q̄({i}·{s}+i′, {j}·{s}+j′) W(i′, j′) reads rows {r_lo}–"
        f"{r_lo + f - 1}, columns {c_lo}–{c_lo + f - 1} of q̄\n"
        f"h_in={d['h_in']}, f={f}, s={s}, h_out={d['mode']!r} → {ho}; p = {d['p'][0]}; "
        + ("windows overlap (s < f)" if s < f else "windows touch (s = f)" if s == f
           else "rows between windows are skipped (s > f)"),
        fontsize=10, x=0.02, ha="left", y=0.995, va="top",
    )
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


def _render_small(ax, values, colors, title, *, labels=True, fontsize=None):
    """A small matrix (dz, dz_hat, dW): cells coloured by ``colors``, values written in."""
    nr, nc = values.shape
    ax.imshow(colors, extent=(-0.5, nc - 0.5, nr - 0.5, -0.5), interpolation="nearest")
    _grid_axes(ax, 0, 0, nr, nc)
    if labels:
        for (a, b), v in np.ndenumerate(values):
            if v:  # zeros are told by their colour
                ax.text(b, a, f"{v}", ha="center", va="center", fontsize=fontsize or FONT["cell"])
    ax.set_title(title, fontsize=FONT["label"], pad=12)


def _rgb(color):
    return np.array([int(color[k : k + 2], 16) / 255 for k in (1, 3, 5)])


def _entry_colors(values, on, off):
    return np.where((values != 0)[..., None], _rgb(on), _rgb(off))


def _render_dilation(fig, d):
    i, j, f, s = d["i"], d["j"], d["f"], d["s"]
    dz, dz_hat, placed = d["dz"], d["dz_hat"], d["placed"]
    ho, wo = dz.shape
    nr, nc = d["category"].shape
    panels = [(wo, 1.1), (dz_hat.shape[1], 2.3), (nc, 2.0), (f, 1.0)]
    fig, (ax_dz, ax_hat, ax_q, ax_dw) = _layout(fig, panels, max(nr, dz_hat.shape[0]),
                                                cell=0.32, top=1.0, min_width=9.0)
    _render_small(ax_dz, dz, _entry_colors(dz, COLORS["dz"], COLORS["dz"]),
                  f"dz ({ho} × {wo})")
    _render_small(ax_hat, dz_hat, _entry_colors(dz_hat, COLORS["dz"], COLORS["dz_zero"]),
                  f"dẑ = dilate(dz, s): {dz_hat.shape[0]} × {dz_hat.shape[1]}",
                  labels=dz_hat.size <= 400)
    _draw_canvas(ax_q, d)
    hh, hw = dz_hat.shape
    _box(ax_q, i, j, hh, hw, fill=True, facecolor=COLORS["dz_zero"], alpha=0.6,
         edgecolor="none")
    for (a, b), v in np.ndenumerate(placed):
        if v:
            _box(ax_q, a, b, 1, 1, fill=True, facecolor=COLORS["dz"], edgecolor="black", lw=0.8)
            ax_q.text(b, a, f"{v}", ha="center", va="center", fontsize=FONT["cell"])
    _box(ax_q, i, j, hh, hw, edgecolor="#2c7a2c", lw=2.2)
    ax_q.set_title(f"q̄ with dẑ placed at ({i}, {j})", fontsize=FONT["label"], pad=12)
    dw = np.zeros((f, f), dtype=int)
    _render_small(ax_dw, dw, _entry_colors(dw, "#ffffff", "#f7f7f7"), "dW (f × f)",
                  labels=False)
    _box(ax_dw, i, j, 1, 1, fill=True, facecolor=COLORS["lit"], edgecolor="black", lw=2)
    ax_dw.text(j, i, f"{i}{j}", ha="center", va="center", fontsize=FONT["cell"])
    fig.suptitle(
        f"eqs. 14-15: dW({i}, {j}) = Σ_k,l dz(k, l) q̄({i}+{s}k, {j}+{s}l): dẑ slides over q̄ "
        f"(stride 1), its top-left corner at ({i}, {j})\n"
        f"dẑ has s−1 = {s - 1} zeros between entries: s(h_out−1)+1 = {s}·{ho - 1}+1 = "
        f"{hh} cells a side (not h_out(s+1)−1 = {ho * (s + 1) - 1} as printed in the notes)",
        fontsize=10, x=0.02, ha="left", y=0.995, va="top",
    )
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
    i, j, f, s = d["i"], d["j"], d["f"], d["s"]
    ho, wo = d["out_shape"]
    dz_bar, inside, rot = d["dz_bar"], d["dz_bar_inside"], d["rot"]
    nr, nc = d["category"].shape
    panels = [(nc, 2.6), (wo, 1.6), (dz_bar.shape[1], 2.6)]
    fig, (ax_q, ax_z, ax_b) = _layout(fig, panels, max(nr, dz_bar.shape[0]), cell=0.34,
                                      top=1.0, min_width=9.0)
    # Forward view: the pixel and every window of eq. (6) that reads it.
    _draw_canvas(ax_q, d)
    pr, pc = d["pixel"]
    for k, m in d["weight_index"]:
        _draw_windows_outline(ax_q, d, k, m, edgecolor=COLORS["lit"], lw=1.6)
    _box(ax_q, pr, pc, 1, 1, fill=True, facecolor="#1f3b57", edgecolor="black")
    ax_q.set_title(f"q̄: pixel q({i}, {j}) and the windows reading it", fontsize=FONT["label"],
                   pad=12)
    # Outputs it influences, each labelled with the weight that links them.
    _render_output(ax_z, ho, wo, "outputs z it influences")
    for (k, m), (a, b) in d["weight_index"].items():
        _box(ax_z, k, m, 1, 1, fill=True, facecolor=COLORS["lit"], edgecolor="black", lw=1.2)
        ax_z.text(m, k, f"W{a}{b}", ha="center", va="center", fontsize=FONT["cell"] - 1)
    # Eq. (29): dz_bar and the rotated filter at (i, j).
    colors = np.where(inside[..., None], _rgb(COLORS["dz_zero"]), _rgb(COLORS["zero"]))
    colors[dz_bar != 0] = _rgb(COLORS["dz"])
    _render_small(ax_b, dz_bar, colors, f"dz̄: dẑ padded to h_in+f−1 = {dz_bar.shape[0]}",
                  labels=False)
    for (a, b), v in np.ndenumerate(dz_bar):
        if v:
            ax_b.text(b, a, f"{v}", ha="center", va="center", fontsize=FONT["cell"])
    ia, ib = np.nonzero(inside)
    if len(ia):
        _box(ax_b, ia.min(), ib.min(), ia.max() - ia.min() + 1, ib.max() - ib.min() + 1,
             edgecolor="#2c7a2c", lw=1.5)
    _box(ax_b, i, j, f, f, fill=True, facecolor=COLORS["lit"], alpha=0.35, edgecolor="none")
    _box(ax_b, i, j, f, f, edgecolor="black", lw=2)
    for (a, b), v in np.ndenumerate(d["met"]):
        if v:
            _box(ax_b, i + a, j + b, 1, 1, edgecolor=COLORS["lit"], lw=2.2)
    if f <= 4:
        for a in range(f):
            for b in range(f):
                w_idx = rot[a, b]
                ax_b.text(j + b + 0.45, i + a + 0.42, f"W{w_idx // f}{w_idx % f}", ha="right",
                          va="bottom", fontsize=FONT["tick"] - 1, color="#7a3d00")
    (bt, bb), (bl, br) = d["back_pads"]
    met = sorted(int(v) for v in d["met"].ravel() if v)
    fig.suptitle(
        f"eqs. 17-29: dq({i}, {j}) = Σ_a,b dz̄({i}+a, {j}+b) rot180(W)(a, b); "
        f"dz entries met: {met if met else 'none (dq = 0)'}\n"
        f"dz̄ = dẑ padded by (top {bt}, bottom {bb}, left {bl}, right {br}) "
        f"(eqs. 24-26: f−1−⌈p/2⌉ before); h_in={d['h_in']}, f={f}, s={s}, h_out={ho}",
        fontsize=10, x=0.02, ha="left", y=0.995, va="top",
    )
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
