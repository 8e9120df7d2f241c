"""convlib.nn: every layer against centered finite differences and against PyTorch, the loss,
the optimizers against torch.optim, whole-network gradients, reproducibility, bad inputs.

The references never call convlib: finite differences and the relative error come from
``reference.py``, the padding of the notes' layer from its eqs. (7)-(8) there, and the rest
from PyTorch (float64 on the CPU).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import finite_differences, geometry, rel_error

from convlib import nn

# (ch_in, ch_out, f, s, h_out, padding, h_in, w_in): strides 1-3, odd and even padding,
# rectangular and odd-sized images, explicit (asymmetric) padding (then h_out is None).
CONV_CASES = [
    (2, 3, 3, 1, "same", None, 5, 6),
    (1, 2, 3, 2, "same", None, 7, 5),
    (2, 2, 2, 3, "valid", None, 8, 7),
    (3, 2, 3, 2, "full", None, 5, 5),
    (2, 3, 3, 1, (4, 7), None, 5, 6),
    (2, 2, 3, 2, None, (1, 0, 2, 1), 6, 5),
]
# (k, s, h_in, w_in): tiling, not tiling (floor), overlapping windows, gaps between windows.
POOL_CASES = [(2, None, 4, 4), (2, None, 5, 7), (3, 2, 7, 6), (3, 1, 5, 5), (2, 3, 8, 7)]


@pytest.fixture(autouse=True)
def _torch_on_one_thread():
    """PyTorch's OpenMP threads slow its tiny operations here down tenfold on a busy machine
    (they wait for each other at every call); one thread is enough for these sizes."""
    try:
        import torch
    except ImportError:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def distinct(rng, shape):
    """Values in (-1, 1), at least 2 / n apart and 0.6 / n away from 0 (n entries, a few
    hundred here), so that no finite-difference step of 1e-5 moves a maximum to another pixel
    or crosses ReLU's kink."""
    n = int(np.prod(shape))
    v = (np.arange(n) - n / 2 + 0.3) * (2 / n)  # no two sum to 0
    return rng.permutation(v).reshape(shape)


def layer_fd_check(layer, x, rng, tol=1e-7):
    """dx and every parameter gradient of ``layer`` against finite differences of
    ``L = sum(G * layer(x))`` for a random ``G`` (so that dy = G)."""
    y = layer.forward(x)
    G = rng.normal(size=y.shape)
    dx = layer.backward(G)
    grads = {k: g.copy() for k, g in layer.grads.items()}
    assert rel_error(dx, finite_differences(lambda v: np.sum(G * layer.forward(v)), x)) < tol
    for key, p in layer.params.items():

        def loss(v, key=key):
            old = layer.params[key].copy()
            layer.params[key][...] = v
            out = np.sum(G * layer.forward(x))
            layer.params[key][...] = old
            return out

        assert rel_error(grads[key], finite_differences(loss, p)) < tol, key


# ----------------------------------------------------------------------------- finite diffs
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d_finite_differences(case):
    ch_in, ch_out, f, s, h_out, padding, h, w = case
    rng = np.random.default_rng(1)
    layer = nn.Conv2d(ch_in, ch_out, f, s, h_out, rng=rng, padding=padding)
    layer.params["b"][...] = rng.normal(size=ch_out)
    layer_fd_check(layer, rng.normal(size=(2, ch_in, h, w)), rng)


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("Pool", [nn.MaxPool2d, nn.AvgPool2d])
def test_pool_finite_differences(Pool, case):
    k, s, h, w = case
    rng = np.random.default_rng(2)
    layer_fd_check(Pool(k, s), distinct(rng, (2, 3, h, w)), rng)


@pytest.mark.parametrize("Layer", [nn.ReLU, nn.Flatten])
def test_relu_flatten_finite_differences(Layer):
    rng = np.random.default_rng(3)
    layer_fd_check(Layer(), distinct(rng, (2, 3, 4, 5)), rng)


def test_linear_finite_differences():
    rng = np.random.default_rng(4)
    layer = nn.Linear(7, 4, rng=rng)
    layer.params["b"][...] = rng.normal(size=4)
    layer_fd_check(layer, rng.normal(size=(5, 7)), rng)


def test_softmax_cross_entropy_finite_differences():
    rng = np.random.default_rng(5)
    logits, y = rng.normal(size=(6, 10)), rng.integers(0, 10, size=6)
    loss, d = nn.softmax_cross_entropy(logits, y)
    fd = finite_differences(lambda v: nn.softmax_cross_entropy(v, y)[0], logits)
    assert rel_error(d, fd) < 1e-7
    # the loss of eq. "mean of -log softmax at the label", written out directly
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert abs(loss - np.mean(-np.log(p[np.arange(6), y]))) < 1e-12


def test_softmax_cross_entropy_is_stable():
    """Logits of 1e4 overflow a naive exp; the log-sum-exp shift keeps the loss finite and
    shift-invariant."""
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4 - 2.0]])
    y = np.array([1, 2])
    loss, d = nn.softmax_cross_entropy(logits, y)
    assert np.isfinite(loss) and np.isfinite(d).all()
    expected = np.mean([1e4, 2.0 + np.log1p(np.exp(-2.0))])
    assert abs(loss - expected) < 1e-9
    assert abs(nn.softmax_cross_entropy(logits - 5e3, y)[0] - loss) < 1e-9


def test_max_pool_ties_go_to_the_first_maximum():
    x = np.array([[[[1.0, 3.0, 0.0], [3.0, 0.0, 0.0], [9.0, 9.0, 9.0]]]])
    pool = nn.MaxPool2d(2, 1)
    y = pool.forward(x)
    np.testing.assert_array_equal(y, [[[[3.0, 3.0], [9.0, 9.0]]]])
    dx = pool.backward(np.ones_like(y))
    # window (0, 0): 3 at (0, 1) and (1, 0) -> (0, 1); window (0, 1): 3 at (0, 1) -> (0, 1);
    # windows (1, 0) and (1, 1): 9 at (2, 0)/(2, 1) and (2, 1)/(2, 2) -> (2, 0) and (2, 1)
    np.testing.assert_array_equal(dx[0, 0], [[0, 2, 0], [0, 0, 0], [1, 1, 0]])


def test_pools_drop_what_does_not_tile():
    x = np.arange(2 * 5 * 7, dtype=float).reshape(1, 2, 5, 7)
    assert nn.MaxPool2d(2).forward(x).shape == (1, 2, 2, 3)
    pool = nn.AvgPool2d(3, 2)
    y = pool.forward(x)
    assert y.shape == (1, 2, 2, 3)
    dx = pool.backward(np.ones_like(y))
    assert not dx[..., 5:, :].any() and not dx[..., :, 7:].any()  # nothing past the image
    assert dx[0, 0, 0, 2] == 2 / 9  # read by two overlapping windows
    maxpool = nn.MaxPool2d(2)
    maxpool.forward(x)
    dx = maxpool.backward(np.ones((1, 2, 2, 3)))
    assert not dx[..., 4, :].any() and not dx[..., 6].any()
    assert dx.sum() == 2 * 2 * 3


# ----------------------------------------------------------------------------- PyTorch
def torch_conv(torch, layer, x):
    """The notes' layer in PyTorch: explicit (possibly asymmetric) padding, then conv2d with
    the weight in PyTorch's layout (ch_out, ch_in, f, f)."""
    F = torch.nn.functional
    _, ((t, b), (l, r)) = geometry(x.shape[2], x.shape[3], layer.f, layer.s, layer.h_out,
                                   layer.padding)
    W = torch.tensor(layer.params["W"].transpose(1, 0, 2, 3).copy(), requires_grad=True)
    bias = torch.tensor(layer.params["b"], requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    xp = F.pad(xt, (max(l, 0), max(r, 0), max(t, 0), max(b, 0)))
    xp = xp[:, :, max(-t, 0) : xp.shape[2] - max(-b, 0), max(-l, 0) : xp.shape[3] - max(-r, 0)]
    return F.conv2d(xp, W, bias, stride=layer.s), xt, W, bias


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d_against_torch(case):
    torch = pytest.importorskip("torch")
    ch_in, ch_out, f, s, h_out, padding, h, w = case
    rng = np.random.default_rng(6)
    layer = nn.Conv2d(ch_in, ch_out, f, s, h_out, rng=rng, padding=padding)
    layer.params["b"][...] = rng.normal(size=ch_out)
    x = rng.normal(size=(3, ch_in, h, w))
    zt, xt, Wt, bt = torch_conv(torch, layer, x)
    z = layer.forward(x)
    assert rel_error(z, zt.detach().numpy()) < 1e-10
    dz = rng.normal(size=z.shape)
    zt.backward(torch.tensor(dz))
    dx = layer.backward(dz)
    assert rel_error(dx, xt.grad.numpy()) < 1e-10
    assert rel_error(layer.grads["W"], Wt.grad.numpy().transpose(1, 0, 2, 3)) < 1e-10
    assert rel_error(layer.grads["b"], bt.grad.numpy()) < 1e-10


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_against_torch(kind, case):
    torch = pytest.importorskip("torch")
    k, s, h, w = case
    rng = np.random.default_rng(7)
    x = distinct(rng, (2, 3, h, w))
    layer = nn.MaxPool2d(k, s) if kind == "max" else nn.AvgPool2d(k, s)
    fn = getattr(torch.nn.functional, f"{kind}_pool2d")
    xt = torch.tensor(x, requires_grad=True)
    yt = fn(xt, k, stride=s)
    y = layer.forward(x)
    assert rel_error(y, yt.detach().numpy()) < 1e-12
    dy = rng.normal(size=y.shape)
    yt.backward(torch.tensor(dy))
    assert rel_error(layer.backward(dy), xt.grad.numpy()) < 1e-12


@st.composite
def conv_layers(draw):
    """A random layer of the notes: odd or even filter, stride 1-3, any output-size rule
    (an int h_out at most the "full" size, so that every window overlaps the image)."""
    f, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    h, w = draw(st.integers(f, 9)), draw(st.integers(f, 9))
    full = min((h + f - 2) // s + 1, (w + f - 2) // s + 1)
    h_out = draw(st.one_of(st.sampled_from(["valid", "same", "full"]), st.integers(1, full)))
    return (draw(st.integers(1, 3)), draw(st.integers(1, 3)), f, s, h_out, None, h, w)


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(case=conv_layers())
def test_random_conv2d_against_torch(case):
    test_conv2d_against_torch(case)


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(k=st.integers(1, 4), s=st.one_of(st.none(), st.integers(1, 4)),
       h=st.integers(4, 11), w=st.integers(4, 11), kind=st.sampled_from(["max", "avg"]))
def test_random_pool_against_torch(k, s, h, w, kind):
    test_pool_against_torch(kind, (k, s, h, w))


def test_relu_linear_flatten_loss_against_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(8)
    x = rng.normal(size=(4, 2, 3, 5))
    lin = nn.Linear(30, 6, rng=rng)
    lin.params["b"][...] = rng.normal(size=6)
    y = rng.integers(0, 6, size=4)
    net = nn.Sequential(nn.ReLU(), nn.Flatten(), lin)
    loss, d = nn.softmax_cross_entropy(net.forward(x), y)
    dx = net.backward(d)
    xt = torch.tensor(x, requires_grad=True)
    Wt = torch.tensor(lin.params["W"].T.copy(), requires_grad=True)  # PyTorch's (out, in)
    bt = torch.tensor(lin.params["b"], requires_grad=True)
    lt = F.cross_entropy(F.linear(torch.flatten(F.relu(xt), 1), Wt, bt), torch.tensor(y))
    lt.backward()
    assert abs(loss - lt.item()) < 1e-12
    assert rel_error(dx, xt.grad.numpy()) < 1e-10
    assert rel_error(lin.grads["W"], Wt.grad.numpy().T) < 1e-10
    assert rel_error(lin.grads["b"], bt.grad.numpy()) < 1e-10


def chapter_net(seed, dtype=np.float64, widths=(8, 32)):
    """The network of chapter 7 (conv2 has stride 2 and odd padding (1, 0)); ``widths`` are
    the two convolutions' output channels."""
    c1, c2 = widths
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, s=2, rng=rng, dtype=dtype), nn.ReLU(), nn.Flatten(),
        nn.Linear(c2 * 2 * 2, 10, rng=rng, dtype=dtype),
    )


def torch_chapter_net(torch, net):
    """The same network in PyTorch, with the same weights (layouts converted)."""
    tnn = torch.nn
    conv1 = tnn.Conv2d(1, 8, 3, padding=1).double()
    conv2 = tnn.Conv2d(8, 32, 3, stride=2).double()
    lin = tnn.Linear(128, 10).double()
    with torch.no_grad():
        for module, i in ((conv1, 0), (conv2, 3)):
            module.weight.copy_(torch.tensor(net.params[f"{i}.W"].transpose(1, 0, 2, 3)))
            module.bias.copy_(torch.tensor(net.params[f"{i}.b"]))
        lin.weight.copy_(torch.tensor(net.params["6.W"].T))
        lin.bias.copy_(torch.tensor(net.params["6.b"]))
    # conv2: h_out = ceil(4 / 2) = 2 needs p = 2 (2 - 1) + 3 - 4 = 1, split (1, 0) by eq. 8
    tnet = tnn.Sequential(conv1, tnn.ReLU(), tnn.MaxPool2d(2), tnn.ZeroPad2d((1, 0, 1, 0)),
                          conv2, tnn.ReLU(), tnn.Flatten(), lin)
    keys = {"0.W": conv1.weight, "0.b": conv1.bias, "3.W": conv2.weight, "3.b": conv2.bias,
            "6.W": lin.weight, "6.b": lin.bias}
    return tnet, keys


def to_notes_layout(key, g):
    if key.endswith(".W"):
        return g.transpose(1, 0, 2, 3) if g.ndim == 4 else g.T
    return g


def test_whole_network_gradients_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    net = chapter_net(10)
    for key, p in net.params.items():  # nonzero biases, so that they matter
        if key.endswith(".b"):
            p[...] = 0.1 * rng.normal(size=p.shape)
    x, y = rng.random(size=(16, 1, 8, 8)), rng.integers(0, 10, size=16)
    loss, d = nn.softmax_cross_entropy(net.forward(x), y)
    net.backward(d)
    tnet, keys = torch_chapter_net(torch, net)
    lt = torch.nn.functional.cross_entropy(tnet(torch.tensor(x)), torch.tensor(y))
    lt.backward()
    assert abs(loss - lt.item()) < 1e-12
    for key, g in net.grads.items():
        assert rel_error(g, to_notes_layout(key, keys[key].grad.numpy())) < 1e-9, key


@pytest.mark.slow  # over 2 s on 2 cores
def test_whole_network_gradient_check():
    """gradient_check on the chapter's network (narrower, to keep the test fast), and proof
    that it can fail: with eq. 11 as printed (sigma instead of sigma') in one ReLU, the check
    reports large errors."""
    rng = np.random.default_rng(11)
    net = chapter_net(12, widths=(3, 4))
    x, y = rng.random(size=(3, 1, 8, 8)), rng.integers(0, 10, size=3)
    errors = nn.gradient_check(net, x, y)
    assert sorted(errors) == ["0.W", "0.b", "3.W", "3.b", "6.W", "6.b"]
    assert max(errors.values()) < 1e-6, errors

    class PrintedEq11(nn.ReLU):
        def backward(self, dy):
            return dy * np.maximum(self._cache, 0)  # dq * sigma(z)

    net.layers[1] = PrintedEq11()
    errors = nn.gradient_check(net, x, y, keys=["0.W", "6.W"])
    assert errors["0.W"] > 1e-2 and errors["6.W"] < 1e-6


# ----------------------------------------------------------------------------- optimizers
def run_optimizer(torch, make_ours, make_torch, steps=5):
    rng = np.random.default_rng(13)
    params = {"a": rng.normal(size=(3, 4)), "b": rng.normal(size=5)}
    tparams = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    ours, theirs = make_ours(params), make_torch(list(tparams.values()))
    for _ in range(steps):
        grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
        ours.step(grads)
        for k, t in tparams.items():
            t.grad = torch.tensor(grads[k])
        theirs.step()
        for k in params:
            assert rel_error(params[k], tparams[k].detach().numpy()) < 1e-12, k


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_against_torch(momentum):
    torch = pytest.importorskip("torch")
    run_optimizer(torch, lambda p: nn.SGD(p, lr=0.1, momentum=momentum),
                  lambda p: torch.optim.SGD(p, lr=0.1, momentum=momentum))


def test_adam_against_torch():
    torch = pytest.importorskip("torch")
    run_optimizer(torch, lambda p: nn.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6),
                  lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6))


def test_sgd_without_momentum_is_plain_descent():
    p = {"w": np.array([1.0, -2.0])}
    nn.SGD(p, lr=0.5).step({"w": np.array([2.0, 4.0])})
    np.testing.assert_array_equal(p["w"], [0.0, -4.0])


def test_training_follows_torch_step_by_step():
    """Same weights, same batches, Adam in both: the losses agree for 5 steps (float64)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(14)
    x, y = rng.random(size=(40, 1, 8, 8)), rng.integers(0, 10, size=40)
    net = chapter_net(15)
    tnet, keys = torch_chapter_net(torch, net)
    opt = nn.Adam(net.params, lr=0.01)
    topt = torch.optim.Adam(tnet.parameters(), lr=0.01)
    for idx in nn.batches(40, 8, 16):
        loss, d = nn.softmax_cross_entropy(net.forward(x[idx]), y[idx])
        net.backward(d)
        opt.step(net.grads)
        topt.zero_grad()
        lt = torch.nn.functional.cross_entropy(tnet(torch.tensor(x[idx])), torch.tensor(y[idx]))
        lt.backward()
        topt.step()
        assert abs(loss - lt.item()) < 1e-10
    for key, p in net.params.items():
        assert rel_error(p, to_notes_layout(key, keys[key].detach().numpy())) < 1e-8, key


# ----------------------------------------------------------------------------- behaviour
def test_training_is_reproducible_from_a_seed():
    rng = np.random.default_rng(17)
    x, y = rng.random(size=(30, 1, 8, 8)), rng.integers(0, 10, size=30)

    def train(seed):
        net = chapter_net(seed)
        losses = nn.train_epoch(net, nn.SGD(net.params, 0.1, 0.9), x, y, 8, seed)
        return losses, net.params

    (l1, p1), (l2, p2), (l3, _) = train(0), train(0), train(1)
    np.testing.assert_array_equal(l1, l2)
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])
    assert not np.array_equal(l1, l3)
    assert len(l1) == 4  # 30 samples in batches of 8: 8, 8, 8, 6


def test_training_lowers_the_loss():
    rng = np.random.default_rng(18)
    x, y = rng.random(size=(20, 1, 8, 8)), rng.integers(0, 10, size=20)
    net = chapter_net(19)
    opt = nn.Adam(net.params, lr=0.01)
    first = nn.train_epoch(net, opt, x, y, 20, 0)[0]
    for epoch in range(40):
        last = nn.train_epoch(net, opt, x, y, 20, epoch)[0]
    assert first > 2.0 and last < 0.05
    assert nn.accuracy(net, x, y) == 1.0


def test_float32_network():
    rng = np.random.default_rng(20)
    x, y = rng.random(size=(4, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, size=4)
    net32, net64 = chapter_net(21, np.float32), chapter_net(21)
    out = net32.forward(x)
    assert out.dtype == np.float32
    assert rel_error(out, net64.forward(x.astype(np.float64))) < 1e-4
    net32.backward(nn.softmax_cross_entropy(out, y)[1])
    assert all(g.dtype == np.float32 for g in net32.grads.values())
    nn.Adam(net32.params, 0.01).step(net32.grads)
    assert all(p.dtype == np.float32 for p in net32.params.values())


def test_he_initialisation():
    conv = nn.Conv2d(16, 64, 3, rng=0)
    assert conv.params["W"].shape == (16, 64, 3, 3)
    assert abs(conv.params["W"].std() - np.sqrt(2 / (16 * 9))) < 0.01
    assert not conv.params["b"].any()
    lin = nn.Linear(400, 300, rng=0)
    assert abs(lin.params["W"].std() - np.sqrt(2 / 400)) < 0.002
    np.testing.assert_array_equal(nn.Linear(5, 3, rng=7).params["W"],
                                  nn.Linear(5, 3, rng=np.random.default_rng(7)).params["W"])


def test_sequential_params_are_the_layers_arrays():
    net = chapter_net(0)
    assert net.params["3.W"] is net[3].params["W"]
    nn.SGD(net.params, lr=1.0).step({k: np.ones_like(v) for k, v in net.params.items()})
    assert net[6].params["b"][0] == -1.0


# ----------------------------------------------------------------------------- bad inputs
def _net_after_forward():
    net = chapter_net(0)
    net.forward(np.zeros((2, 1, 8, 8)))
    return net


BAD = [
    (lambda: nn.Conv2d(0, 2, 3), ValueError, "ch_in must be an integer >= 1"),
    (lambda: nn.Conv2d(1, 2, 2.5), ValueError, "f must be an integer"),
    (lambda: nn.Conv2d(1, 2, 3, s=0), ValueError, "s must be an integer >= 1"),
    (lambda: nn.Conv2d(1, 2, 3, h_out="sam"), ValueError, "h_out must be"),
    (lambda: nn.Conv2d(1, 2, 3, rng="seed"), TypeError, "rng must be"),
    (lambda: nn.Conv2d(1, 2, 3, dtype=np.int32), TypeError, "dtype must be float32"),
    (lambda: nn.Conv2d(2, 3, 3).forward(np.zeros((1, 1, 5, 5))), ValueError, "channel"),
    (lambda: nn.Conv2d(1, 3, 3).forward(np.zeros((5, 5))), ValueError, "x must be 4-D"),
    (lambda: nn.Conv2d(1, 3, 3).backward(np.zeros((1, 3, 5, 5))), RuntimeError, "before"),
    (lambda: nn.MaxPool2d(0), ValueError, "k must be an integer >= 1"),
    (lambda: nn.AvgPool2d(2, s=1.5), ValueError, "s must be an integer"),
    (lambda: nn.MaxPool2d(4).forward(np.zeros((1, 1, 3, 5))), ValueError, "bigger"),
    (lambda: nn.Linear(4, 2).forward(np.zeros((3, 5))), ValueError, "n_in=4"),
    (lambda: nn.Linear(4, 2).forward(np.zeros((3, 4), dtype=complex)), TypeError, "real"),
    (lambda: nn.Sequential(nn.ReLU(), print), TypeError, "layer 1"),
    (lambda: _net_after_forward().backward(np.zeros((2, 9))), ValueError, "(2, 10)"),
    (lambda: nn.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0])), TypeError,
     "integer class labels"),
    (lambda: nn.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3])), ValueError,
     "labels in 0..2"),
    (lambda: nn.softmax_cross_entropy(np.zeros((2, 3)), np.array([0])), ValueError,
     "shape (n_b,)"),
    (lambda: nn.softmax_cross_entropy(np.zeros(3), np.array([0])), ValueError, "2-D"),
    (lambda: nn.SGD({"w": np.zeros(2)}, lr=0), ValueError,
     "lr must be a finite number in (0, inf); got 0"),
    (lambda: nn.SGD({"w": np.zeros(2)}, lr=0.1, momentum=1.0), ValueError, "momentum"),
    (lambda: nn.SGD({}, lr=0.1), TypeError, "non-empty dict"),
    (lambda: nn.SGD({"w": [1.0]}, lr=0.1), TypeError, "params['w']"),
    (lambda: nn.Adam({"w": np.zeros(2)}, betas=(0.9, 1.0)), ValueError, "betas[1]"),
    (lambda: nn.Adam({"w": np.zeros(2)}, eps=-1), ValueError, "eps must be"),
    (lambda: nn.SGD({"w": np.zeros(2)}, 0.1).step({"v": np.zeros(2)}), ValueError,
     "keys of params"),
    (lambda: nn.Adam({"w": np.zeros(2)}).step({"w": np.zeros(3)}), ValueError,
     "grads['w'] must have shape (2,)"),
    (lambda: nn.gradient_check(chapter_net(0), np.zeros((1, 1, 8, 8)), np.zeros(1, int),
                               keys=["1.W"]), ValueError, "keys must name parameters"),
    (lambda: nn.batches(10, 0, 0), ValueError, "batch_size must be an integer >= 1"),
    (lambda: nn.train_epoch(chapter_net(0), None, np.zeros((3, 1, 8, 8)), np.zeros(2, int),
                            2, 0), ValueError, "as many samples"),
]


@pytest.mark.parametrize("call, error, message", BAD, ids=[b[2] for b in BAD])
def test_bad_inputs(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)
