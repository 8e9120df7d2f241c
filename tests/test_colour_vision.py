"""Colour is never the only carrier of meaning in the explorer figures (WCAG 1.4.1).

The figures are drawn, then looked at as a reader with deuteranopia or protanopia would see
them (the simulation matrices of Machado, Oliveira and Fernandes 2009, severity 1, applied
in linear RGB): every pair of outlines that the windows figure tells apart by colour stays
apart (CIELAB distance of at least 20) AND differs in dash pattern; the padding figure's
zero border, whose grey is close to the image's blue for such a reader, is hatched. The
simulated windows figure is saved for a person to look at (pytest's tmp folder).
"""

import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from convlib import plot  # noqa: E402
from convlib.drawkit import COLORS  # noqa: E402

MACHADO = {
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
}
MIN_DELTA_E = 20.0


def linear(c):
    c = np.asarray(c, dtype=float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def gamma(c):
    c = np.clip(c, 0, 1)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def simulate(rgb, kind):
    """sRGB in [0, 1] (..., 3) as seen with ``kind`` of colour vision deficiency."""
    return gamma(linear(rgb) @ MACHADO[kind].T)


def lab(rgb):
    xyz = linear(rgb) @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                                  [0.0193, 0.1192, 0.9505]]).T
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def delta_e(a, b, kind):
    return float(np.linalg.norm(lab(simulate(a, kind)) - lab(simulate(b, kind))))


def outlines(fig):
    """(colour, dash pattern) of every dashed outline the windows figure draws."""
    found = set()
    for artist in fig.axes[0].patches:
        ls = artist.get_linestyle()
        if ls not in ("solid", "-") and artist.get_edgecolor()[3] > 0:
            found.add((tuple(np.round(artist.get_edgecolor()[:3], 3)), str(ls)))
    return found


def test_the_simulation_sees_what_it_should():
    """The matrices are right: red and green merge for a deuteranope, blue and orange not."""
    red, green = to_rgb("#e15759"), to_rgb("#59a14f")
    assert np.linalg.norm(lab(red) - lab(green)) > 40  # far apart for most readers
    assert delta_e(red, green, "deuteranopia") < 5  # the same for a deuteranope
    assert delta_e(to_rgb("#0072b2"), to_rgb("#e69f00"), "deuteranopia") > 40


def test_windows_figure_tells_neighbours_apart_without_colour(tmp_path):
    fig = Figure()
    plot.draw_windows(7, 3, 2, "same", i=1, j=1, fig=fig)
    seen = outlines(fig)
    colours = {c for c, _ in seen}
    dashes = {d for _, d in seen}
    assert len(colours) == 4, seen  # four neighbouring windows, four colours ...
    assert len(dashes) == 4, seen  # ... and four dash patterns
    lit = to_rgb(COLORS["lit"])
    for kind in MACHADO:
        for a, b in itertools.combinations(sorted(colours) + [lit], 2):
            assert delta_e(a, b, kind) >= MIN_DELTA_E, (kind, a, b, delta_e(a, b, kind))

    # the whole figure as a deuteranope sees it, for a person to look at
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[..., :3] / 255.0
    seen_rgb = simulate(rgb, "deuteranopia")
    from PIL import Image

    out = tmp_path / "windows_deuteranopia.png"
    Image.fromarray((np.hstack([rgb, seen_rgb]) * 255).astype(np.uint8)).save(out)
    assert out.stat().st_size > 10_000


def test_padding_zero_border_is_hatched():
    fig = Figure()
    plot.draw_padding(5, 3, 2, 4, fig=fig)  # 'full': a border of zeros
    zero = to_rgb(COLORS["zero"])
    image = to_rgb(COLORS["image"])
    assert delta_e(zero, image, "deuteranopia") < MIN_DELTA_E  # close for such a reader ...
    hatches = {p.get_hatch() for p in fig.axes[0].patches if p.get_hatch()}
    assert "///" in hatches, hatches  # ... so the zeros carry a pattern too
