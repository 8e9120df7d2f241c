"""Figures of the explorers: padding (eqs. 7-8), windows (eq. 6), dilation (eqs. 14-15, 29)
and the input gradient (eqs. 17-29).

Each ``draw_*`` function takes the layer's sizes, gets every number it shows from the
matching ``*_data`` function of :mod:`convlib.figdata` (call that to check what is on the
screen) and draws it with the kit of :mod:`convlib.drawkit`. It returns a pyplot figure (end
the cell with ``plt.show()``), or redraws into ``fig``. Matplotlib only; the widgets live in
:mod:`convlib.explorers`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .drawkit import (
    CATEGORY_RGBA,
    COLORS,
    FONT,
    NEIGHBOUR_DASHES,
    Panel,
    entry_colors,
    fit_size,
    layout,
    legend,
    new_figure,
    rgb,
    suptitle,
)
from .figdata import (
    CROP,
    ZERO,
    dilation_data,
    input_gradient_data,
    padding_data,
    windows_data,
)

__all__ = ["draw_padding", "draw_windows", "draw_dilation", "draw_input_gradient"]


# ----------------------------------------------------------------------------- shared parts
def _draw_canvas(pn, d):
    """The padded input: image pixels, zero border (hatched), crops, unread rows."""
    (t, b), (l, r) = d["pads"]
    Hp, Wp = d["padded_shape"]
    pn.image(CATEGORY_RGBA[d["category"]])
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


def _render_padding(datas, fig, min_size):
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
    width, height = fit_size(width, height, min_size)
    fig, ax = new_figure((width, height), fig)
    ax.set_xlim(0, width / cell)
    ax.set_ylim(height / cell, 0)
    tx = max(left + gw + gap, width - text_w)  # the text column stays put in an animation
    y = top
    for d, title, h in zip(datas, titles, heights, strict=True):
        (r0, c0), (nr, nc) = d["origin"], d["category"].shape
        pn = Panel(ax, left / cell + 0.5, y / cell + 0.5, r0, c0, nr, nc)
        _draw_canvas(pn, d)
        ho, wo = d["out_shape"]
        _window_outline(pn, d, 0, 0, edgecolor=COLORS["lit"], lw=2.2)
        _window_outline(pn, d, ho - 1, wo - 1, edgecolor=COLORS["lit"], lw=2.2, ls=":")
        ax.text(tx / cell, y / cell, title, ha="left", va="top", fontsize=FONT["label"],
                linespacing=1.5, parse_math=False)
        y += h + sep
    legend(ax, handles)
    return fig


def _merge_cats(datas):
    """A stand-in canvas holding every category present in ``datas`` (for the legend)."""
    cats = np.concatenate([d["category"].ravel() for d in datas])[None, :]
    unread = [r for d in datas for r in d["unread_rows"]] + [
        c for d in datas for c in d["unread_cols"]
    ]
    return {"category": cats, "unread_rows": unread, "unread_cols": []}


def draw_padding(h_in=5, f=3, s=2, h_out="same", *, w_in=None, convention="notes", fig=None,
                 min_size=None, data=None):
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
    min_size : (width, height), optional
        Least size of the figure in inches (an animation draws every frame at one size).
    data : dict, optional
        The figure data of the same arguments, when the caller has it already (an explorer
        computes it once per redraw); by default computed here.

    Returns
    -------
    matplotlib.figure.Figure
        Showing :func:`convlib.figdata.padding_data` of the same arguments.
    """
    if data is None:
        data = padding_data(h_in, f, s, h_out, w_in=w_in, convention=convention)
    datas = list(data.values()) if convention == "all" else [data]
    return _render_padding(datas, fig, min_size)


def _render_output(pn, title):
    pn.image(np.full((pn.nr, pn.nc, 3), 0.97))
    pn.grid()
    pn.title(title)


def _render_windows(d, fig, min_size):
    i, j, f, s = d["i"], d["j"], d["f"], d["s"]
    ho, wo = d["out_shape"]
    fig, ax, (pn, pz) = layout(fig, [_canvas_grid(d), (0, 0, ho, wo, 2.0)], cell=0.4,
                               top=1.05, min_width=8.0, min_size=min_size)
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
    styles = zip(d["neighbours"], COLORS["neighbour"], NEIGHBOUR_DASHES, strict=False)
    for (k, m), color, dash in styles:  # colour and dash: colour is never the only cue
        _window_outline(pn, d, k, m, edgecolor=color, lw=2, ls=dash)
        pz.box(k, m, 1, 1, edgecolor=color, lw=2, ls=dash)
        handles.append(Line2D([], [], color=color, ls=dash, lw=2, label=f"window of z({k}, {m})"))
    r_lo, c_lo = i * s, j * s
    if s < f:
        how = "windows overlap (s < f)"
    elif s == f:
        how = "windows touch (s = f)"
    else:
        how = "rows between windows are skipped (s > f)"
    suptitle(fig, f"eq. 6: z({i}, {j}) = Σ q̄({i}·{s}+i′, {j}·{s}+j′) W(i′, j′) reads rows "
              f"{r_lo}–{r_lo + f - 1}, columns {c_lo}–{c_lo + f - 1} of q̄\n"
              f"h_in={d['h_in']}, f={f}, s={s}, h_out={d['mode']!r} → {ho}; p = {d['p'][0]}; "
              f"{how}")
    legend(ax, _legend_handles(d, handles))
    return fig


def draw_windows(h_in=7, f=3, s=2, h_out="same", i=0, j=0, *, w_in=None, fig=None,
                 min_size=None, data=None):
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
    min_size : (width, height), optional
        Least size of the figure in inches (an animation draws every frame at one size).
    data : dict, optional
        The figure data of the same arguments, when the caller has it already (an explorer
        computes it once per redraw); by default computed here.

    Returns
    -------
    matplotlib.figure.Figure
        Showing :func:`convlib.figdata.windows_data` of the same arguments.
    """
    if data is None:
        data = windows_data(h_in, f, s, h_out, i, j, w_in=w_in)
    return _render_windows(data, fig, min_size)


def _render_small(pn, values, colors, title, *, labels=True, ticks=True):
    """A small matrix (dz, dz_hat, dW): cells coloured by ``colors``, non-zeros written in."""
    pn.image(colors)
    pn.grid(ticks)
    if labels:
        for (a, b), v in np.ndenumerate(values):
            if v:  # zeros are told by their colour
                pn.text(a, b, f"{v}")
    pn.title(title)


def _render_dilation(d, fig, min_size):
    i, j, f, s = d["i"], d["j"], d["f"], d["s"]
    dz, dz_hat, placed = d["dz"], d["dz_hat"], d["placed"]
    ho, wo = dz.shape
    hh, hw = dz_hat.shape
    grids = [(0, 0, ho, wo, 1.1), (0, 0, hh, hw, 2.3), _canvas_grid(d, 2.0), (0, 0, f, f, 1.0)]
    fig, ax, (p_dz, p_hat, p_q, p_dw) = layout(fig, grids, cell=0.32, top=1.15, min_width=9.0,
                                               min_size=min_size)
    _render_small(p_dz, dz, entry_colors(dz, COLORS["dz"], COLORS["dz"]), f"dz ({ho} × {wo})")
    _render_small(p_hat, dz_hat, entry_colors(dz_hat, COLORS["dz"], COLORS["dz_zero"]),
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
    _render_small(p_dw, dw, entry_colors(dw, "#ffffff", "#f7f7f7"), "dW (f × f)",
                  labels=False)
    p_dw.box(i, j, 1, 1, fill=True, facecolor=COLORS["lit"], edgecolor="black", lw=2)
    suptitle(fig, f"eqs. 14-15: dW({i}, {j}) = Σ dz(k, m) q̄({i}+{s}k, {j}+{s}m): dẑ placed at "
              f"({i}, {j}) of q̄\n"
              f"dẑ: s−1 = {s - 1} zeros between entries, s(h_out−1)+1 = {hh} cells a side "
              f"(the notes print h_out(s+1)−1 = {ho * (s + 1) - 1})")
    handles = [Patch(facecolor=COLORS["dz"], edgecolor="black", label="entry of dz"),
               Patch(facecolor=COLORS["dz_zero"], edgecolor="#9a9a9a",
                     label="zero of the dilation"),
               Line2D([], [], color="#2c7a2c", lw=2.2, label="dẑ on q̄")]
    legend(ax, _legend_handles(d, handles))
    return fig


def draw_dilation(h_in=7, f=3, s=2, h_out="same", i=0, j=0, *, w_in=None, fig=None,
                  min_size=None, data=None):
    """Draw ``dz``, its dilation ``dz_hat`` and ``dz_hat`` on the padded input: eqs. 14-15, 29.

    ``dW(i, j) = sum_{k, m} dz(k, m) q_bar(i + s k, j + s m)`` (eq. 14 without the notes'
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
    min_size : (width, height), optional
        Least size of the figure in inches (an animation draws every frame at one size).
    data : dict, optional
        The figure data of the same arguments, when the caller has it already (an explorer
        computes it once per redraw); by default computed here.

    Returns
    -------
    matplotlib.figure.Figure
        Showing :func:`convlib.figdata.dilation_data` of the same arguments.
    """
    if data is None:
        data = dilation_data(h_in, f, s, h_out, i, j, w_in=w_in)
    return _render_dilation(data, fig, min_size)


def _render_input_gradient(d, fig, min_size):
    i, j, f = d["i"], d["j"], d["f"]
    ho, wo = d["out_shape"]
    dz_bar, inside, rot = d["dz_bar"], d["dz_bar_inside"], d["rot"]
    grids = [_canvas_grid(d, 2.6), (0, 0, ho, wo, 1.6), (0, 0, *dz_bar.shape, 2.6)]
    fig, ax, (p_q, p_z, p_b) = layout(fig, grids, cell=0.34, top=1.15, min_width=9.0,
                                      min_size=min_size)
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
    colors = np.where(inside[..., None], rgb(COLORS["dz_zero"]), rgb(COLORS["zero"]))
    colors[dz_bar != 0] = rgb(COLORS["dz"])
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
    suptitle(fig, f"eqs. 17-29: dq({i}, {j}) = Σ dz̄({i}+a, {j}+b) rot180(W)(a, b) meets dz "
              f"entries {met if met else 'none: dq = 0'}\n"
              f"dz̄: dẑ padded top {bt}, bottom {bb}, left {bl}, right {br} "
              f"(eqs. 24-26: f−1−⌈p/2⌉ before)")
    handles = [Patch(facecolor=COLORS["lit"], edgecolor="black", label="influenced output"),
               Patch(facecolor=COLORS["dz"], edgecolor="#9a9a9a", label="entry of dz"),
               Patch(facecolor=COLORS["dz_zero"], edgecolor="#9a9a9a",
                     label="zero of the dilation"),
               Line2D([], [], color="black", lw=2, label="rot180(W) at (i, j)")]
    legend(ax, _legend_handles(d, handles))
    return fig


def draw_input_gradient(h_in=7, f=3, s=2, h_out="same", i=3, j=3, *, w_in=None, fig=None,
                        min_size=None, data=None):
    """Draw which outputs input pixel ``(i, j)`` influences and eq. (29) computing ``dq(i, j)``.

    Left: the padded input with ``q(i, j)`` (dark) and every window of eq. (6) that reads it.
    Middle: those outputs ``z(k, m)``, each labelled with the filter entry ``W(a, b)`` that
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
    min_size : (width, height), optional
        Least size of the figure in inches (an animation draws every frame at one size).
    data : dict, optional
        The figure data of the same arguments, when the caller has it already (an explorer
        computes it once per redraw); by default computed here.

    Returns
    -------
    matplotlib.figure.Figure
        Showing :func:`convlib.figdata.input_gradient_data` of the same arguments.
    """
    if data is None:
        data = input_gradient_data(h_in, f, s, h_out, i, j, w_in=w_in)
    return _render_input_gradient(data, fig, min_size)
