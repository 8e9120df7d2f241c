"""The two routes to dq in conv_backward (eq. 29 as a gather, and the col2im scatter) and the
forward's windows reused for dW: each against the loops of tests/reference.py, finite
differences and the other, bit for bit independent of ``threads``."""

import numpy as np
import pytest
from reference import assert_same, backward_ref, case_geometry, finite_differences

import convlib as cl
from convlib import chunks, nn
from convlib.backward import choose_dq_route

ROUTES = ["gather", "scatter"]
FD_STEP, FD_TOL = 1e-2, 1e-7  # as in test_backward.py: the loss is linear in q


@pytest.mark.parametrize("workspace", [1, None])
@pytest.mark.parametrize("route", ROUTES)
def test_each_route_matches_the_reference_loops(case, route, workspace):
    """Every case of the grid (strides, odd and negative padding, rectangles, batches), down to
    one output row per chunk: both routes give the loops' dq, dW and db."""
    q, W, _, dz = case.arrays()
    _, pads = case_geometry(case)
    got = cl.conv_backward(dz, q, W, **case.kwargs, workspace=workspace, dq_route=route)
    for g, r, name in zip(got, backward_ref(dz, q, W, case.s, pads), ("dq", "dW", "db"),
                          strict=True):
        assert_same(g, r, name)
    naive = cl.conv_backward_naive(dz, q, W, **case.kwargs)
    assert_same(got[0], naive[0], "dq vs conv_backward_naive")


@pytest.mark.parametrize("route", ROUTES)
def test_each_route_matches_finite_differences(case, route):
    q, W, b, dz = case.arrays()
    dq, _, _ = cl.conv_backward(dz, q, W, **case.kwargs, dq_route=route)

    def loss_q(x):
        return np.sum(dz * cl.conv_forward(x, W, b, **case.kwargs))

    assert_same(dq, finite_differences(loss_q, q, FD_STEP), "dq", FD_TOL)


@pytest.mark.parametrize("route", ROUTES)
def test_each_route_in_float32(case, route):
    q, W, _, dz = (x.astype(np.float32) for x in case.arrays())
    got = cl.conv_backward(dz, q, W, **case.kwargs, workspace=300, dq_route=route)
    ref = cl.conv_backward(*(x.astype(np.float64) for x in (dz, q, W)), **case.kwargs)
    for g, r in zip(got, ref, strict=True):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4 * np.abs(r).max())


@pytest.mark.parametrize("workspace", [1, None])
@pytest.mark.parametrize("route", ROUTES)
def test_each_route_is_bitwise_independent_of_threads(case, route, workspace):
    q, W, _, dz = case.arrays()
    kw = dict(case.kwargs, workspace=workspace, dq_route=route)
    ref = cl.conv_backward(dz, q, W, threads=1, **kw)
    for threads in (2, 5):
        for a, c in zip(cl.conv_backward(dz, q, W, threads=threads, **kw), ref, strict=True):
            np.testing.assert_array_equal(a, c)


def test_the_routes_differ_in_rounding_only():
    """Not the same sums (so not a test that restates one through the other), same values."""
    rng = np.random.default_rng(3)
    q, W = rng.normal(size=(3, 4, 11, 9)), rng.normal(size=(4, 5, 3, 3))
    dz = rng.normal(size=(3, 5, 11, 9))
    g = cl.conv_backward(dz, q, W, h_out="same", dq_route="gather")
    s = cl.conv_backward(dz, q, W, h_out="same", dq_route="scatter")
    assert_same(g[0], s[0], "dq")
    np.testing.assert_array_equal(g[1], s[1])  # dW: the same products in the same order


def test_auto_takes_the_rule_and_the_rule_is_the_measured_one():
    for (ci, co, s), want in {(16, 32, 1): "scatter", (32, 16, 1): "gather",
                              (8, 8, 1): "gather", (32, 16, 2): "scatter"}.items():
        L = cl.layer_geometry(12, 12, 3, s, "same", n_b=2, ch_in=ci, ch_out=co)
        assert choose_dq_route(L) == want, (ci, co, s)
    rng = np.random.default_rng(4)
    q, W = rng.normal(size=(2, 3, 8, 8)), rng.normal(size=(3, 2, 3, 3))
    dz = rng.normal(size=(2, 2, 8, 8))
    auto = cl.conv_backward(dz, q, W, h_out="same")
    for a, c in zip(auto, cl.conv_backward(dz, q, W, h_out="same", dq_route="gather"),
                    strict=True):
        np.testing.assert_array_equal(a, c)
    with pytest.raises(ValueError, match="dq_route must be one of"):
        cl.conv_backward(dz, q, W, h_out="same", dq_route="col2im")


@pytest.mark.parametrize("workspace", [1, None])
@pytest.mark.parametrize("route", ROUTES)
def test_kept_windows_give_the_same_gradients_bit_for_bit(case, route, workspace):
    q, W, b, dz = case.arrays()
    kw = dict(case.kwargs, workspace=workspace)
    kept = {}
    z = cl.conv_forward(q, W, b, keep=kept, **kw)
    np.testing.assert_array_equal(z, cl.conv_forward(q, W, b, **kw))
    assert kept  # every chunk's U
    got = cl.conv_backward(dz, q, W, windows=kept, dq_route=route, **kw)
    want = cl.conv_backward(dz, q, W, dq_route=route, **kw)
    for a, c in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, c)


def test_kept_windows_are_used():
    """Windows that are not q's change dW: the backward pass really reads them."""
    rng = np.random.default_rng(5)
    q, W = rng.normal(size=(2, 2, 6, 6)), rng.normal(size=(2, 3, 3, 3))
    dz = rng.normal(size=(2, 3, 6, 6))
    kept = {}
    cl.conv_forward(q, W, None, 1, "same", keep=kept)
    for U in kept.values():
        U *= 2
    dW = cl.conv_backward(dz, q, W, 1, "same", windows=kept)[1]
    assert_same(dW, 2 * cl.conv_backward(dz, q, W, 1, "same")[1])


def test_conv2d_keeps_its_windows_only_within_the_workspace(monkeypatch):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(4, 3, 10, 10))
    layer = nn.Conv2d(3, 5, 3, rng=0)
    z = layer.forward(x)
    kept = layer._cache[2]
    assert kept and sum(U.nbytes for U in kept.values()) == 3 * 9 * 4 * 100 * 8
    dz = rng.normal(size=z.shape)
    dx = layer.backward(dz)
    want = cl.conv_backward(dz, x, layer.params["W"], 1, "same")
    np.testing.assert_array_equal(dx, want[0])
    np.testing.assert_array_equal(layer.grads["W"], want[1])
    monkeypatch.setattr(chunks, "WORKSPACE", 3 * 9 * 4 * 100 * 8 - 1)
    layer.forward(x)
    assert layer._cache[2] is None  # more than the memory bound: gathered again instead
    np.testing.assert_array_equal(layer.backward(dz), want[0])
    with nn.no_grad():
        layer.forward(x)
    assert layer._cache is None


@pytest.mark.parametrize("route", ROUTES)
def test_each_route_keeps_the_memory_bound(route):
    """As test_chunks.test_memory_is_a_bounded_workspace_plus_the_outputs, for each route: the
    gather's window matrices of dz_bar are chunked in the same workspace."""
    import tracemalloc

    rng = np.random.default_rng(0)
    q, W = rng.normal(size=(1, 1, 512, 512)), rng.normal(size=(1, 1, 3, 3))
    dz = rng.normal(size=(1, 1, 512, 512))
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        cl.conv_backward(dz, q, W, h_out="same", workspace=2**20, dq_route=route)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak <= 4 * q.nbytes, (peak, q.nbytes)
