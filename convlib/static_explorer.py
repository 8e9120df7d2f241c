"""The padding, windows, dilation and input-gradient explorers without a kernel: their
figure data for a grid of layers, as one small script the HTML book loads when the reader
opens an explorer.

The notebook widgets (:mod:`convlib.explorers`) draw :mod:`convlib.figdata`'s dicts with
matplotlib; the book's static explorer (``offline/static_explorer.js``) draws the same dicts
as SVG in the browser. Every number it draws comes from here, that is from ``figdata``: the
cell categories of the padded (or cropped) input, the cells no window reads, the padding and
its split, the output size, and where each output pixel's window starts. The browser
computes no geometry.

Numpy only.
"""

from __future__ import annotations

import json

import numpy as np

from . import figdata
from .padding import resolve_h_out

__all__ = ["H_INS", "FS", "SS", "MODES", "CUSTOM", "layer_record", "layers", "colors",
           "layers_script"]

# The grid of the static explorer (the widget's ranges, trimmed so the whole grid stays small).
H_INS = range(2, 9)
FS = range(1, 5)
SS = range(1, 4)
MODES = ("valid", "same", "full")
CUSTOM = range(1, 9)


def _rows(a) -> str:
    """A small integer grid as text: one digit per cell, rows separated by '/'."""
    return "/".join("".join(str(int(v)) for v in row) for row in np.asarray(a))


def layer_record(h_in: int, f: int, s: int, h_out) -> dict:
    """What the static padding and windows explorers draw for one layer (square input).

    Raises the teaching ``ValueError`` of :mod:`convlib` for a layer that cannot exist.
    """
    d = figdata.padding_data(h_in, f, s, h_out)
    ho, wo = d["out_shape"]
    starts = []
    for k in range(max(ho, wo)):  # window of output (k, k): its top-left cell in q_bar
        w = figdata.windows_data(h_in, f, s, h_out, min(k, ho - 1), min(k, wo - 1))["window"]
        rows, cols = np.nonzero(w)
        starts.append([int(rows.min()), int(cols.min())])
    # eqs. 14-15 (the dilation explorer): dz_hat's entries (1) and zeros (0), and where
    # dz_hat sits on q_bar for dW(i, j), i, j < f (figdata's "placed", first cell)
    dil = figdata.dilation_data(h_in, f, s, h_out, 0, 0)
    dil_at = []
    for k in range(f):
        rows, cols = np.nonzero(figdata.dilation_data(h_in, f, s, h_out, k, k)["placed"])
        dil_at.append([int(rows.min()), int(cols.min())])
    # eqs. 17-29 (the input-gradient explorer), one input row/column k at a time (the square
    # layer is separable): q(k, k)'s cell in q_bar, the outputs it feeds with the filter
    # index that meets it, and dz_bar (its dz entries and its dilated part)
    g_rows, g_cols, g_pix = [], [], []
    for k in range(h_in):
        g = figdata.input_gradient_data(h_in, f, s, h_out, k, k)
        g_pix.append([int(v) for v in g["pixel"]])
        g_rows.append(sorted({(int(r), int(a)) for (r, _), (a, _) in g["weight_index"].items()}))
        g_cols.append(sorted({(int(c), int(b)) for (_, c), (_, b) in g["weight_index"].items()}))
    return {
        "gpix": g_pix,
        "grows": [[list(x) for x in row] for row in g_rows],
        "gcols": [[list(x) for x in col] for col in g_cols],
        "dzb": _rows(np.asarray(g["dz_bar"]) != 0),
        "dzin": _rows(g["dz_bar_inside"]),
        "dhat": _rows(np.asarray(dil["dz_hat"]) != 0),
        "drows": [r for r, _ in dil_at],
        "dcols": [c for _, c in dil_at],
        "cat": _rows(d["category"]),
        "read": _rows(d["read"]),
        "origin": [int(v) for v in d["origin"]],
        "pads": [[int(v) for v in side] for side in d["pads"]],
        "p": [int(v) for v in d["p"]],
        "out": [int(ho), int(wo)],
        # where the window of output row i (column j) starts, in padded coordinates
        "rows": [r for r, _ in starts[:ho]],
        "cols": [c for _, c in starts[:wo]],
    }


def layers() -> dict[str, dict | str]:
    """Every layer of the grid, keyed ``"h_in,f,s,h_out"``; an impossible layer maps to the
    error message the widget would show."""
    out = {}
    for h_in in H_INS:
        for f in FS:
            for s in SS:
                for h_out in (*MODES, *CUSTOM):
                    key = f"{h_in},{f},{s},{h_out}"
                    try:
                        resolve_h_out(h_in, h_in, f, s, h_out)
                        out[key] = layer_record(h_in, f, s, h_out)
                    except ValueError as err:
                        out[key] = str(err)
    return out


# matplotlib line styles of drawkit.NEIGHBOUR_DASHES as SVG stroke-dasharray values
_SVG_DASH = {"--": "6 3", ":": "1.5 3", "-.": "6 3 1.5 3"}


def _svg_dash(style) -> str:
    if isinstance(style, tuple):
        return " ".join(str(v) for v in style[1])
    return _SVG_DASH[style]


def colors() -> dict:
    """The explorer figures' colours and dash patterns (drawkit's), for the SVG renderer."""
    from .drawkit import COLORS, NEIGHBOUR_DASHES  # matplotlib: only at build time

    keys = ("image", "zero", "lit", "unread", "edge", "dz", "dz_zero")
    return {**{k: COLORS[k] for k in keys}, "neighbour": list(COLORS["neighbour"]),
            "dashes": [_svg_dash(d) for d in NEIGHBOUR_DASHES]}


def layers_script() -> str:
    """The grid as a script that hands it to the page (works from file:// too)."""
    grid = {"h_in": list(H_INS), "f": list(FS), "s": list(SS), "modes": list(MODES),
            "custom": list(CUSTOM), "colors": colors(), "layers": layers()}
    return ("window.convlibStaticExplorer && window.convlibStaticExplorer.load("
            + json.dumps(grid, separators=(",", ":")) + ");\n")
