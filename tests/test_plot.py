"""What the explorer figures draw agrees with convlib (eqs. 6-8, 14-15, 17-29): the numbers of
``convlib.figdata`` against the definitions, and the drawings of ``convlib.plot``."""

# Agg for this process only: setting MPLBACKEND in os.environ would leak into the kernels
# that nbval starts in the same pytest run and take the figures out of the notebooks.
import matplotlib

matplotlib.use("Agg")

import itertools
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest

import convlib
from convlib import figdata, plot
from convlib.conventions import convention_padding, explicit_output_size, unread_rows

# stride 1-3, p odd, even, zero and negative (valid with a stride that does not divide),
# rectangular images.
GRID = [
    (h_in, w_in, f, s, h_out)
    for h_in, w_in, f, s in [(5, 5, 3, 2), (6, 8, 3, 2), (7, 7, 2, 3), (4, 6, 1, 1), (9, 5, 4, 2)]
    for h_out in ("valid", "same", "full", 3)
]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _forward(h_in, w_in, f, s, h_out, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(1, 1, h_in, w_in))
    W = rng.normal(size=(1, 1, f, f))
    return q, W, convlib.layer_geometry(h_in, w_in, f, s, h_out)


@pytest.mark.parametrize(("h_in", "w_in", "f", "s", "h_out"), GRID)
def test_padding_grid_is_the_padded_input(h_in, w_in, f, s, h_out):
    q, _, L = _forward(h_in, w_in, f, s, h_out)
    fig = plot.draw_padding(h_in, f, s, h_out, w_in=w_in)
    d = figdata.padding_data(h_in, f, s, h_out, w_in=w_in)
    assert d["pads"] == L.pads
    assert d["padded_shape"] == convlib.pad(q, L.pads).shape[-2:]
    assert d["out_shape"] == (L.h_out, L.w_out)
    assert (d["category"] == figdata.IMAGE).sum() == convlib.pad(q, L.pads)[0, 0].size - (
        (d["category"] == figdata.ZERO).sum()
    )
    # eq. 7 fits exactly: the only rows no window reads are the gaps between windows (s > f)
    Hp, Wp = d["padded_shape"]
    assert list(d["unread_rows"]) == [r for r in range(Hp) if r % s >= f]
    assert list(d["unread_cols"]) == [c for c in range(Wp) if c % s >= f]
    # the drawn canvas spans the padded input (and the cropped rows, if any): one image of
    # the category grid, its cells one unit each
    (img,) = fig.axes[0].images
    nr, nc = d["category"].shape
    assert img.get_array().shape[:2] == (nr, nc)
    left, right, bottom, top = img.get_extent()
    assert np.allclose((right - left, bottom - top), (nc, nr))
    if min(min(L.pads[0]), min(L.pads[1])) < 0:
        assert (d["category"] == figdata.CROP).any()


@pytest.mark.parametrize("convention", ["pytorch", "tensorflow"])
@pytest.mark.parametrize(("h_in", "f", "s"), [(5, 3, 2), (6, 3, 2), (7, 2, 3), (8, 4, 3)])
@pytest.mark.parametrize("mode", ["valid", "same"])
def test_framework_conventions(convention, h_in, f, s, mode):
    before, after, h_out = convention_padding(h_in, f, s, convention, mode)
    q = np.zeros((1, 1, h_in, h_in))
    W = np.zeros((1, 1, f, f))
    z = convlib.conv_forward(q, W, np.zeros(1), s, padding=(before, after, before, after))
    assert z.shape[-1] == h_out
    if convention == "pytorch":
        # PyTorch itself, with the one symmetric padding the convention gives
        torch = pytest.importorskip("torch")
        assert before == after == (0 if mode == "valid" else f // 2)
        zt = torch.nn.functional.conv2d(torch.zeros(1, 1, h_in, h_in), torch.zeros(1, 1, f, f),
                                        stride=s, padding=before)
        assert zt.shape[-1] == h_out
    else:
        assert after - before in (0, 1)  # TensorFlow: the extra pixel goes after
        if mode == "same":
            assert h_out == -(-h_in // s)
    d = figdata.padding_data(h_in, f, s, mode, convention=convention)
    reach = s * (h_out - 1) + f  # the last window's end (eq. 6)
    bottom = [r for r in d["unread_rows"] if r >= reach]
    assert len(bottom) == unread_rows(h_in, f, s, before, after) == d["unread_bottom"][0]
    assert explicit_output_size(h_in, f, s, before, after) == h_out


def test_tensorflow_same_matches_its_formula():
    for h_in, f, s in itertools.product(range(1, 9), range(1, 5), range(1, 4)):
        before, after, h_out = convention_padding(h_in, f, s, "tensorflow", "same")
        total = max((-(-h_in // s) - 1) * s + f - h_in, 0)
        assert (before, after, h_out) == (total // 2, total - total // 2, -(-h_in // s))


def test_conventions_reject_what_they_do_not_have():
    with pytest.raises(ValueError, match="TensorFlow"):
        convention_padding(5, 3, 1, "tensorflow", "full")
    with pytest.raises(ValueError, match="convention"):
        convention_padding(5, 3, 1, "keras")
    assert set(figdata.padding_data(5, 3, 1, "full", convention="all")) == {"notes", "pytorch"}
    d = figdata.padding_data(5, 3, 1, "same", convention="all")
    assert set(d) == {"notes", "pytorch", "tensorflow"}
    tf = figdata.padding_data(5, 3, 1, "same", convention="tensorflow")
    assert d["tensorflow"]["pads"] == tf["pads"] and d["tensorflow"]["convention"] == "tensorflow"


@pytest.mark.parametrize(("h_in", "w_in", "f", "s", "h_out"), GRID)
def test_windows_are_the_cells_eq6_reads(h_in, w_in, f, s, h_out):
    q, _, L = _forward(h_in, w_in, f, s, h_out)
    q_bar = convlib.pad(q, L.pads)[0, 0]
    for i, j in {(0, 0), (L.h_out - 1, L.w_out - 1), (L.h_out // 2, 0)}:
        d = figdata.windows_data(h_in, f, s, h_out, i, j, w_in=w_in)
        expected = np.zeros(q_bar.shape, dtype=bool)
        for a, b in itertools.product(range(f), range(f)):
            expected[i * s + a, j * s + b] = True  # eq. 6: q_bar(i s + i', j s + j')
        np.testing.assert_array_equal(d["window"], expected)
        assert d["window"].sum() == f * f
        # the values under the window are exactly the window convlib.windows returns
        np.testing.assert_array_equal(q_bar[d["window"]].reshape(f, f),
                                      convlib.windows(q_bar, f, s)[i, j])
        for (k, m), mask in d["neighbours"].items():
            assert abs(k - i) + abs(m - j) == 1
            assert mask.sum() == f * f
            overlap = (mask & d["window"]).any()
            assert overlap == (s < f)


def test_output_size_pairs_for_rectangular_images():
    d = figdata.padding_data(6, 3, 2, (3, 2), w_in=5)
    assert d["out_shape"] == (3, 2) and d["p"] == (1, 0)
    d = figdata.windows_data(6, 3, 2, (3, 2), 2, 1, w_in=5)
    assert d["window"][4:7, 2:5].all() and d["window"].sum() == 9


def test_windows_rejects_an_output_pixel_out_of_range():
    with pytest.raises(ValueError, match="i=4"):
        figdata.windows_data(7, 3, 2, "same", 4, 0)


def test_skipped_rows_are_the_rows_no_window_reads():
    d = figdata.windows_data(9, 2, 3, "valid", 0, 0)
    # windows start at 0, 3, 6 and are 2 wide: rows 2 and 5 are skipped
    assert list(d["unread_rows"]) == [2, 5]


@pytest.mark.parametrize(("h_in", "w_in", "f", "s", "h_out"), GRID)
def test_dilated_dz_and_its_placement(h_in, w_in, f, s, h_out):
    q, W, L = _forward(h_in, w_in, f, s, h_out)
    rng = np.random.default_rng(1)
    for i, j in {(0, 0), (f - 1, f - 1), (f // 2, 0)}:
        d = figdata.dilation_data(h_in, f, s, h_out, i, j, w_in=w_in)
        assert d["dz_hat"].shape == (s * (L.h_out - 1) + 1, s * (L.w_out - 1) + 1)
        np.testing.assert_array_equal(d["dz_hat"][::s, ::s], d["dz"])
        assert np.count_nonzero(d["dz_hat"]) == d["dz"].size
        # dz(k, l) lands on q_bar(i + s k, j + s l), the cell eq. 14 multiplies it with
        q_bar = convlib.pad(q, L.pads)[0, 0]
        placed = d["placed"]
        for (k, m), v in np.ndenumerate(d["dz"]):
            assert placed[i + s * k, j + s * m] == v
        # and the sum over the placed cells is dW(i, j) of conv_backward (dz random)
        dz = rng.normal(size=d["dz"].shape)
        lit = placed != 0
        order = placed[lit] - 1  # dz numbers -> flat index of dz
        value = (dz.ravel()[order] * q_bar[lit]).sum()
        _, dW, _ = convlib.conv_backward(dz[None, None], q, W, s, h_out)
        np.testing.assert_allclose(value, dW[0, 0, i, j], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("h_in", "w_in", "f", "s", "h_out"), GRID)
def test_influenced_outputs_are_those_whose_dz_changes_dq(h_in, w_in, f, s, h_out):
    q, W, L = _forward(h_in, w_in, f, s, h_out)
    W = W + np.sign(W) * 0.5  # no zero weights: every link shows in dq
    pixels = {(0, 0), (h_in - 1, w_in - 1), (h_in // 2, w_in // 2)}
    for i, j in pixels:
        d = figdata.input_gradient_data(h_in, f, s, h_out, i, j, w_in=w_in)
        changes = np.zeros((L.h_out, L.w_out), dtype=bool)
        for k, m in itertools.product(range(L.h_out), range(L.w_out)):
            dz = np.zeros((1, 1, L.h_out, L.w_out))
            dz[0, 0, k, m] = 1.0
            dq, _, _ = convlib.conv_backward(dz, q, W, s, h_out)
            changes[k, m] = dq[0, 0, i, j] != 0
            if changes[k, m]:
                a, b = d["weight_index"][(k, m)]
                assert dq[0, 0, i, j] == W[0, 0, a, b]  # the labelled weight links them
        np.testing.assert_array_equal(d["influenced"], changes)
        # eq. 29: the rotated filter at (i, j) of dz_bar meets exactly those dz entries
        met = {int(v) for v in d["met"].ravel() if v}
        numbers = {int(v) for v in d["dz"][d["influenced"]]}
        assert met == numbers
        assert d["dz_bar"].shape == (h_in + f - 1, w_in + f - 1)
        # each met entry sits under rot180(W)(a, b) = W(f-1-a, f-1-b), the linking weight
        for (a, b), v in np.ndenumerate(d["met"]):
            if v:
                k, m = np.argwhere(d["dz"] == v)[0]
                r = d["rot"][a, b]
                assert d["weight_index"][(int(k), int(m))] == (r // f, r % f)


def _texts(fig):
    return "\n".join(t.get_text() for t in [*fig.texts, *fig.axes[0].texts])


def test_figures_state_the_padding_in_their_titles():
    title = _texts(plot.draw_padding(5, 3, 2, "same"))
    assert "h_out = 3" in title and "= 2·2 + 3 − 5 = 2" in title
    assert "⌈p/2⌉ = 1 top/left" in title and "⌊p/2⌋ = 1 bottom/right" in title
    title = _texts(plot.draw_padding(6, 3, 2, "same", convention="tensorflow"))
    assert "= 1:  ⌊total/2⌋ = 0 top/left" in title and "the rest, 1, bottom/right" in title
    title = _texts(plot.draw_padding(6, 3, 2, "same", convention="pytorch"))
    assert "k = 1" in title and "rows read by no window: 1 at the bottom" in title
    assert "dW(1, 2)" in _texts(plot.draw_dilation(i=1, j=2))
    assert "dq(3, 3)" in _texts(plot.draw_input_gradient())
    assert "z(1, 2)" in _texts(plot.draw_windows(i=1, j=2))


DRAWS = (plot.draw_padding, plot.draw_windows, plot.draw_dilation, plot.draw_input_gradient)


def _pixels(fig):
    """The figure rendered by Agg at 40 dpi (enough to see any stray mark, and quick): an
    (h, w, 4) array of bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig.set_dpi(40)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


@pytest.mark.parametrize("draw", DRAWS, ids=lambda d: d.__name__)
def test_a_redraw_into_a_used_figure_looks_like_a_fresh_one(draw):
    from matplotlib.figure import Figure

    fig = Figure()
    first = draw(h_in=6, fig=fig)
    assert first is fig and len(fig.axes) == 1
    draw(h_in=9, f=2, fig=fig)  # another layer, drawn over the first
    assert draw(fig=fig) is fig and len(fig.axes) == 1  # a redraw reuses the axes
    fresh = draw(fig=Figure())
    np.testing.assert_array_equal(_pixels(fig), _pixels(fresh))
    assert plt.get_fignums() == []


@pytest.mark.parametrize("draw", DRAWS, ids=lambda d: d.__name__)
def test_settings_are_arguments_not_attributes_of_the_figure(draw):
    from matplotlib.figure import Figure

    plain = Figure()  # what matplotlib itself keeps on a figure with axes, texts, a render
    plain.add_axes((0, 0, 1, 1)).text(0, 0, "x")
    plain.text(0, 0, "y")
    _pixels(plain)
    fig = draw(fig=Figure(), min_size=(12.0, 9.0))
    assert tuple(fig.get_size_inches()) == (12.0, 9.0)  # min_size grows the figure
    _pixels(fig)
    assert set(vars(fig)) <= set(vars(plain))


def test_the_figure_data_needs_no_matplotlib():
    """convlib and convlib.figdata are numpy only (the drawing kit and renderers are not)."""
    code = ("import sys, convlib, convlib.figdata, convlib.conventions; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
