"""Padding conventions: the notes (eqs. 7-8), PyTorch ``padding=k``/``"same"`` and TensorFlow
``'SAME'``/``'VALID'``, each written from its definition (the frameworks' here, the notes' and
the layer's loops in ``tests/reference.py``), reproduced by ``convlib`` with an explicit
``padding=(top, bottom, left, right)``, forward and backward.

The chapter ``chapters/conventions.ipynb`` shows the same facts; these tests pin them down on a
grid of layers that includes even filters, odd padding, strides larger than the filter and rows
that no window reads. The comparison with PyTorch runs only where PyTorch is installed (it is not
a dependency of the course).
"""

import itertools
import math

import numpy as np
import pytest
from reference import assert_same, backward_ref, eq7_padding, eq8_split, forward_ref, mode_size

import convlib as cl
from convlib.conventions import convention_padding, unread_rows

# ----------------------------------------------------------------------------- definitions
# One axis at a time: (h_in, f, s) -> (before, after, h_out). The frameworks' rules are written
# here from their documentation; the notes' rule, the padded input, the layer and its
# gradient are the references of tests/reference.py (none of them uses convlib).


def notes_rule(h, f, s, h_out):
    """Notes eq. 7 (total padding from h_out) and eq. 8 (ceil before, floor after)."""
    return (*eq8_split(eq7_padding(h, f, s, h_out)), h_out)


def pytorch_rule(h, f, s, k):
    """torch.nn.functional.conv2d(padding=k): k on both sides, h_out rounded down."""
    return k, k, (h + 2 * k - f) // s + 1


def pytorch_same_rule(h, f, s):
    """padding="same" (stride 1 only): f - 1 in total, the extra pixel after."""
    assert s == 1
    total = f - 1
    return total // 2, total - total // 2, h


def tf_same_rule(h, f, s):
    """TensorFlow 'SAME': h_out = ceil(h/s), total max((h_out-1)s + f - h, 0), extra after."""
    h_out = math.ceil(h / s)
    total = max((h_out - 1) * s + f - h, 0)
    return total // 2, total - total // 2, h_out


def tf_valid_rule(h, f, s):
    """TensorFlow 'VALID': no padding, h_out = floor((h - f)/s) + 1."""
    return 0, 0, (h - f) // s + 1


def reference_layer(dz, q, W, s, rows, cols):
    """z, dq, dW, db of the layer padded by ``rows`` and ``cols`` (each (before, after,
    h_out)), from the loops of eq. (6) and its chain rule."""
    (top, bottom, h_out), (left, right, w_out) = rows, cols
    pads = ((top, bottom), (left, right))
    z = forward_ref(q, W, np.zeros(W.shape[1]), s, (h_out, w_out), pads)
    return (z, *backward_ref(dz, q, W, s, pads))


TOL = 1e-12

# ----------------------------------------------------------------------------- the grid
# (h_in, w_in, f, s): odd and even f, s < f, s == f, s > f, rectangular images.
GRID = [
    (6, 5, 3, 2),
    (7, 7, 3, 3),
    (8, 6, 2, 3),
    (5, 8, 4, 1),
    (9, 7, 1, 2),
    (4, 4, 3, 1),
    (7, 9, 2, 2),
    (10, 6, 3, 4),
    (6, 6, 1, 3),
    (5, 7, 2, 4),
]

RULES = {
    "notes-same": lambda h, f, s: notes_rule(h, f, s, mode_size(h, f, s, "same")),
    "notes-valid": lambda h, f, s: notes_rule(h, f, s, mode_size(h, f, s, "valid")),
    "notes-full": lambda h, f, s: notes_rule(h, f, s, mode_size(h, f, s, "full")),
    "pytorch-0": lambda h, f, s: pytorch_rule(h, f, s, 0),
    "pytorch-1": lambda h, f, s: pytorch_rule(h, f, s, 1),
    "pytorch-2": lambda h, f, s: pytorch_rule(h, f, s, 2),
    "pytorch-same": pytorch_same_rule,
    "tf-same": tf_same_rule,
    "tf-valid": tf_valid_rule,
}

CASES = [
    pytest.param(name, g, id=f"{name}-{'x'.join(map(str, g))}")
    for name in RULES
    for g in GRID
    if name != "pytorch-same" or g[3] == 1
    if g[2] <= min(g[0], g[1]) or not name.endswith("valid")
]


def layer(name, h, w, f, s, seed):
    rng = np.random.default_rng(seed)
    rows, cols = RULES[name](h, f, s), RULES[name](w, f, s)
    q = rng.normal(size=(2, 2, h, w))
    W = rng.normal(size=(2, 3, f, f))
    dz = rng.normal(size=(2, 3, rows[2], cols[2]))
    return rows, cols, q, W, dz


# ----------------------------------------------------------------------------- tests
@pytest.mark.parametrize("name, g", CASES)
def test_convlib_explicit_padding_reproduces_the_convention(name, g):
    h, w, f, s = g
    rows, cols, q, W, dz = layer(name, h, w, f, s, seed=sum(g))
    padding = (rows[0], rows[1], cols[0], cols[1])
    z = cl.conv_forward(q, W, np.zeros(3), s, padding=padding)
    z_ref, dq_ref, dW_ref, db_ref = reference_layer(dz, q, W, s, rows, cols)
    assert_same(z, z_ref, "z", TOL)
    dq, dW, db = cl.conv_backward(dz, q, W, s, padding=padding)
    assert_same(dq, dq_ref, "dq", TOL)
    assert_same(dW, dW_ref, "dW", TOL)
    assert_same(db, db_ref, "db", TOL)


@pytest.mark.parametrize("name, g", [c for c in CASES if c.values[0].startswith("notes")])
def test_the_notes_default_is_the_notes_rule(name, g):
    """convlib's default (h_out given, eqs. 7-8) equals the explicit padding of the rule."""
    h, w, f, s = g
    rows, cols, q, W, dz = layer(name, h, w, f, s, seed=sum(g) + 1)
    padding = (rows[0], rows[1], cols[0], cols[1])
    h_out = (rows[2], cols[2])
    z = cl.conv_forward(q, W, np.zeros(3), s, h_out)
    assert_same(z, cl.conv_forward(q, W, np.zeros(3), s, padding=padding), "z", TOL)
    got = cl.conv_backward(dz, q, W, s, h_out)
    want = cl.conv_backward(dz, q, W, s, padding=padding)
    for name_, a, b in zip(("dq", "dW", "db"), got, want, strict=True):
        assert_same(a, b, name_, TOL)


def all_layers(h_max=12, f_max=5, s_max=4):
    return [
        (h, f, s)
        for h in range(1, h_max + 1)
        for f in range(1, f_max + 1)
        for s in range(1, s_max + 1)
        if f <= h
    ]


def test_notes_and_tf_same_differ_exactly_when_p_is_odd():
    """Same h_out = ceil(h/s); for p >= 0 (always when s <= f) the extra pixel changes side,
    so the windows start at a different row exactly when p is odd."""
    checked = 0
    for h, f, s in all_layers():
        p = cl.padding_amount(h, f, s, math.ceil(h / s))
        if p < 0:
            continue
        notes_before = notes_rule(h, f, s, math.ceil(h / s))[0]
        tf_before = tf_same_rule(h, f, s)[0]
        assert (notes_before != tf_before) == (p % 2 == 1), (h, f, s, p)
        checked += 1
    assert checked > 100


def test_notes_and_tf_same_outputs_differ_exactly_when_the_split_differs():
    """On the outputs themselves, including s > f, where p < 0: the notes crop
    -ceil(p/2) rows at the top too, TensorFlow pads nothing; they agree when p is even and
    non-negative, or p = -1."""
    rng = np.random.default_rng(3)
    for h, f, s in all_layers(h_max=10, f_max=4, s_max=4):
        q = rng.normal(size=(1, 1, h, h))
        W = rng.normal(size=(1, 1, f, f))
        p = cl.padding_amount(h, f, s, math.ceil(h / s))
        t, b, _ = tf_same_rule(h, f, s)
        z_notes = cl.conv_forward(q, W, np.zeros(1), s, "same")
        z_tf = cl.conv_forward(q, W, np.zeros(1), s, padding=(t, b, t, b))
        assert z_notes.shape == z_tf.shape
        same = (p >= 0 and p % 2 == 0) or p == -1
        assert np.allclose(z_notes, z_tf) == same, (h, f, s, p)


def test_notes_equal_pytorch_exactly_when_at_most_one_row_is_unread():
    rng = np.random.default_rng(4)
    for h, f, s in all_layers(h_max=10, f_max=4, s_max=4):
        for k in range(3):
            q = rng.normal(size=(1, 1, h, h))
            W = rng.normal(size=(1, 1, f, f))
            z_torch = cl.conv_forward(q, W, np.zeros(1), s, padding=(k, k, k, k))
            if z_torch.shape[-1] > (h + f - 2) // s + 1:
                # beyond the 'full' size some windows read only padding: h_out refuses it
                with pytest.raises(ValueError, match=r"h_out=\d+ is too large"):
                    cl.conv_forward(q, W, np.zeros(1), s, z_torch.shape[-1])
                continue
            z_notes = cl.conv_forward(q, W, np.zeros(1), s, z_torch.shape[-1])
            unread = (h + 2 * k - f) % s
            assert np.allclose(z_notes, z_torch) == (unread <= 1), (h, f, s, k)


@pytest.mark.parametrize(
    "convention, mode, rule",
    [
        ("notes", "same", RULES["notes-same"]),
        ("notes", "valid", RULES["notes-valid"]),
        ("notes", "full", RULES["notes-full"]),
        ("tensorflow", "same", tf_same_rule),
        ("tensorflow", "valid", tf_valid_rule),
        ("pytorch", "valid", RULES["pytorch-0"]),
        ("pytorch", "full", lambda h, f, s: pytorch_rule(h, f, s, f - 1)),
    ],
)
def test_convention_padding_matches_the_definitions(convention, mode, rule):
    for h, f, s in all_layers():
        assert convention_padding(h, f, s, convention, mode) == rule(h, f, s), (h, f, s)


def test_pytorch_same_for_odd_filters_and_stride_one():
    for h, f in itertools.product(range(3, 10), (1, 3, 5)):
        assert convention_padding(h, f, 1, "pytorch", "same") == pytorch_same_rule(h, f, 1)


def test_unread_rows_get_zero_gradient():
    """h_in = 8, f = 3, s = 3: 'VALID' leaves rows 6-7 unread; the notes with h_out = 2
    crop rows 0 and 7 (p = -2)."""
    rng = np.random.default_rng(5)
    q = rng.normal(size=(1, 1, 8, 8))
    W = rng.normal(size=(1, 1, 3, 3))
    dz = rng.normal(size=(1, 1, 2, 2))
    assert unread_rows(8, 3, 3, 0, 0) == 2
    dq, _, _ = cl.conv_backward(dz, q, W, 3, padding=(0, 0, 0, 0))
    assert [i for i in range(8) if not dq[0, 0, i].any()] == [6, 7]
    dq, _, _ = cl.conv_backward(dz, q, W, 3, 2)
    assert [i for i in range(8) if not dq[0, 0, i].any()] == [0, 7]


# ----------------------------------------------------------------------------- PyTorch
TORCH_CASES = GRID


@pytest.mark.parametrize("g", TORCH_CASES, ids=lambda g: "x".join(map(str, g)))
@pytest.mark.parametrize("k", [0, 1, 2])
def test_against_torch_conv2d(g, k):
    """torch.nn.functional.conv2d(padding=k), forward and autograd backward, against convlib
    with padding=(k, k, k, k) and W = weight.transpose(1, 0, 2, 3)."""
    torch = pytest.importorskip("torch")
    h, w, f, s = g
    if h + 2 * k < f or w + 2 * k < f:
        pytest.skip("filter larger than the padded input")
    rng = np.random.default_rng(sum(g) + k)
    q = rng.normal(size=(2, 2, h, w))
    W = rng.normal(size=(2, 3, f, f))
    b = rng.normal(size=3)
    qt = torch.tensor(q, requires_grad=True)
    wt = torch.tensor(W.transpose(1, 0, 2, 3).copy(), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    zt = torch.nn.functional.conv2d(qt, wt, bt, stride=s, padding=k)
    z = cl.conv_forward(q, W, b, s, padding=(k, k, k, k))
    assert_same(z, zt.detach().numpy(), "z")
    dz = rng.normal(size=z.shape)
    zt.backward(torch.tensor(dz))
    dq, dW, db = cl.conv_backward(dz, q, W, s, padding=(k, k, k, k))
    assert_same(dq, qt.grad.numpy(), "dq")
    assert_same(dW, wt.grad.numpy().transpose(1, 0, 2, 3), "dW")
    assert_same(db, bt.grad.numpy(), "db")


def test_against_torch_padding_same():
    """PyTorch's padding="same" (stride 1) puts the extra pixel of an even filter after."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    for h, f in [(5, 2), (6, 4), (7, 3)]:
        q = rng.normal(size=(1, 2, h, h))
        W = rng.normal(size=(2, 3, f, f))
        t, bt_, _ = pytorch_same_rule(h, f, 1)
        zt = torch.nn.functional.conv2d(
            torch.tensor(q), torch.tensor(W.transpose(1, 0, 2, 3).copy()), padding="same"
        )
        z = cl.conv_forward(q, W, np.zeros(3), 1, padding=(t, bt_, t, bt_))
        assert_same(z, zt.numpy(), f"z, h={h}, f={f}")
