"""The explorers build, redraw for every slider setting in a small range, and their
kernel-free animations are deterministic, self-contained HTML with the expected frames."""

# Agg for this process only: setting MPLBACKEND in os.environ would leak into the kernels
# that nbval starts in the same pytest run and take the figures out of the notebooks.
import matplotlib

matplotlib.use("Agg")

import itertools
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

pytest.importorskip("ipywidgets")

from convlib import explorers, figdata, plot  # noqa: E402

BUILDERS = {
    "padding": explorers.padding_explorer,
    "windows": explorers.windows_explorer,
    "dilation": explorers.dilation_explorer,
    "input gradient": explorers.input_gradient_explorer,
}
DRAWS = {
    "padding": plot.draw_padding,
    "windows": plot.draw_windows,
    "dilation": plot.draw_dilation,
    "input gradient": plot.draw_input_gradient,
}


@pytest.mark.parametrize("name", BUILDERS)
def test_explorer_builds_and_shows_a_figure(name):
    ex = BUILDERS[name]()
    assert bytes(ex.image.value).startswith(b"\x89PNG")
    assert ex.message.value == ""
    assert ex.redraws == 1
    assert repr(ex) == f"<convlib {name} explorer>"
    assert plt.get_fignums() == []  # nothing left behind in pyplot


def _drive(ex, settings):
    """Set controls one by one; every settled change redraws or explains why it cannot, and
    shows the same picture as before only if the figure drawn is really the same."""
    for key, value in settings.items():
        before_img, before_n = ex.image.value, ex.redraws
        before = None if ex.message.value else ex.params()  # what the image shows
        ctrl = ex.controls[key]
        if ctrl.value == value or (hasattr(ctrl, "max") and not ctrl.min <= value <= ctrl.max):
            continue
        ctrl.value = value
        if not ex.message.value:
            assert ex.redraws == before_n + 1
            if bytes(ex.image.value) == bytes(before_img) and before is not None:
                assert _same_figure(DRAWS[ex.name], before, ex.params())


def _pixels(draw, params):
    """``draw(**params)`` into a fresh figure, rendered by Agg at 40 dpi (enough to see any
    difference, and quick): an (h, w, 4) array of bytes."""
    fig = draw(**params, fig=Figure(dpi=40))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def _same_figure(draw, params_a, params_b):
    """Whether two settings draw the same picture, pixel for pixel (a change of a control may
    leave it identical: a custom h_out while the mode is 'same', an index clamped)."""
    a, b = _pixels(draw, params_a), _pixels(draw, params_b)
    return a.shape == b.shape and bool((a == b).all())


def test_same_figure_tells_figures_apart():
    windows = {"h_in": 7, "f": 3, "s": 2, "h_out": "same", "i": 1, "j": 2}
    assert _same_figure(plot.draw_windows, windows, dict(windows))
    assert not _same_figure(plot.draw_windows, windows, {**windows, "j": 1})  # same size
    assert not _same_figure(plot.draw_padding, {"h_in": 5}, {"h_in": 6})
    assert plt.get_fignums() == []


def test_a_control_that_changes_nothing_shows_the_same_figure():
    ex = explorers.padding_explorer()  # mode 'same': the custom h_out slider is ignored
    before, n = bytes(ex.image.value), ex.redraws
    ex.controls["h_out"].value = 5
    assert ex.redraws == n + 1 and bytes(ex.image.value) == before
    _drive(ex, {"h_out": 4, "mode": "custom"})  # custom h_out=4 is 'full': a new figure
    assert bytes(ex.image.value) != before
    assert ex.params()["h_out"] == 4 and ex.data["out_shape"] == (4, 4)
    assert ex.data["pads"] == figdata.padding_data(5, 3, 2, 4)["pads"] == ((2, 2), (2, 2))


@pytest.fixture
def fast_png(monkeypatch):
    """Build every figure but skip the PNG encoding (covered above): a distinct stamp."""
    stamps = itertools.count()
    monkeypatch.setattr(explorers, "render_png", lambda fig: b"png %d" % next(stamps))


SLOW = pytest.mark.slow  # over 2 s on the 2-core machine: out of `make check`


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=SLOW if n in ("dilation", "input gradient") else ())
             for n in BUILDERS]
)
def test_every_slider_combination_redraws(name, fast_png):
    ex = BUILDERS[name]()
    for h_in, f, s, mode in itertools.product((3, 6), (1, 4), (1, 3), ("valid", "same")):
        _drive(ex, {"h_in": h_in, "f": f, "s": s, "mode": mode})
        p = ex.params()
        if ex.message.value:  # e.g. 'valid' with f > h_in: the error says so, no figure
            assert mode == "valid" and f > h_in
            continue
        if "i" in ex.controls:
            for i, j in {(0, 0), (ex.controls["i"].max, ex.controls["j"].max)}:
                _drive(ex, {"i": i, "j": j})
                assert ex.message.value == ""
        data = ex.data
        assert data["h_in"] == h_in and data["f"] == f and data["s"] == s
        assert p["h_out"] == mode
    assert plt.get_fignums() == []


def test_index_sliders_follow_the_layer(fast_png):
    ex = explorers.windows_explorer()  # h_in=7, s=2, same: h_out=4
    assert ex.controls["i"].max == 3
    ex.controls["s"].value = 1  # h_out=7
    assert ex.controls["i"].max == 6
    ex.controls["i"].value = 6
    ex.controls["s"].value = 3  # h_out=3: i is clamped, the figure stays valid
    assert ex.controls["i"].value == 2 and ex.message.value == ""
    assert ex.data["i"] == 2
    ex = explorers.dilation_explorer()
    ex.controls["f"].value = 5
    assert ex.controls["i"].max == 4
    ex = explorers.input_gradient_explorer()
    ex.controls["h_in"].value = 4
    assert ex.controls["i"].max == 3 and ex.data["i"] == 3


def test_custom_h_out_and_conventions(fast_png):
    ex = explorers.padding_explorer()
    assert ex.controls["h_out"].disabled
    ex.controls["mode"].value = "custom"
    assert not ex.controls["h_out"].disabled
    ex.controls["h_out"].value = 1  # p = 2*0 + 3 - 5 = -2: a crop
    d = ex.data
    assert d["pads"] == ((-1, -1), (-1, -1)) and (d["category"] == figdata.CROP).any()
    for conv in ("pytorch", "notes"):
        ex.controls["convention"].value = conv
        assert ex.message.value == ""
    ex.controls["convention"].value = "tensorflow"  # TensorFlow has no custom h_out
    assert "TensorFlow" in ex.message.value
    ex.controls["mode"].value = "same"
    assert ex.message.value == "" and ex.data["convention"] == "tensorflow"
    ex.controls["convention"].value = "all"
    assert set(ex.data) == {"notes", "pytorch", "tensorflow"}


def test_invalid_layer_explains_itself(fast_png):
    ex = explorers.windows_explorer()
    ex.controls["mode"].value = "valid"
    n = ex.redraws
    ex.controls["f"].value = 6
    ex.controls["h_in"].value = 4  # f > h_in with 'valid'
    assert "filter" in ex.message.value and ex.redraws == n + 1
    ex.controls["h_in"].value = 8
    assert ex.message.value == "" and ex.redraws == n + 2


ANIMATIONS = {
    explorers.padding_animation: 4,  # h_out = 1..4
    explorers.windows_animation: 16,  # 4 x 4 outputs
    explorers.dilation_animation: 9,  # 3 x 3 entries of dW
    explorers.input_gradient_animation: 7,  # j = 0..6
}


@SLOW
@pytest.mark.parametrize("build", ANIMATIONS, ids=lambda b: b.__name__)
def test_animation_is_deterministic_self_contained_html(build):
    html = build().data
    frames = re.findall(r'frames\[(\d+)\] = "data:image/png;base64,', html)
    assert len(frames) == ANIMATIONS[build]
    assert len(html) < 400_000
    assert "font-awesome" not in html and "fa fa-" not in html
    assert not re.search(r"(href|src)=[\"']?(https?:)?//", html)  # nothing fetched from the web
    if build is explorers.padding_animation:  # the smallest: rebuild it once
        assert build().data == html  # byte-identical on a rerun: nbval strict compares it
    assert plt.get_fignums() == []


@pytest.mark.parametrize("name", BUILDERS)
def test_figure_data_computed_once_per_redraw(name, fast_png, monkeypatch):
    """Each redraw computes its figure data once (the explorer hands it to the drawing),
    wherever figdata's function is called from (the explorer, its limits, plot)."""
    fn = {"padding": "padding_data", "windows": "windows_data", "dilation": "dilation_data",
          "input gradient": "input_gradient_data"}[name]
    calls = []
    for module in (figdata, plot):
        real = getattr(figdata, fn)
        monkeypatch.setattr(module, fn, lambda *a, _real=real, **k: calls.append(1) or
                            _real(*a, **k))
    for other in ("windows_data",):  # what the limits once called for the output size
        if other != fn:
            real = getattr(figdata, other)
            for module in (figdata, plot):
                monkeypatch.setattr(module, other, lambda *a, _real=real, **k:
                                    calls.append(1) or _real(*a, **k))
    ex = BUILDERS[name]()
    assert ex.redraws == 1 and len(calls) == 1, calls
    for h_in in (8, 9, 10):  # settings not drawn before (a cached figure costs nothing)
        _drive(ex, {"h_in": h_in})
    assert ex.redraws == 4 and len(calls) == 4, (ex.redraws, len(calls))


def test_player_controls_are_labelled():
    html = explorers.padding_animation(h_outs=(1, 2)).data
    assert re.search(r'<input id="_anim_slider\w+" type="range" aria-label="Frame of the '
                     r'padding animation"', html)
    assert 'alt="Padding figure of eqs. 7-8 for h_in = 5' in html
