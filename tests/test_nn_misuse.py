"""convlib.nn used the way people use torch.nn: every misuse either works or raises.

Each test here failed on the version before issue 16 (a silently wrong gradient, a result
that should have been an error, or a bare numpy message). References: PyTorch (float64, CPU)
and the same computation done without the misuse.
"""

import tracemalloc
import warnings

import numpy as np
import pytest

from convlib import chunks, nn


def small_net(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 10, rng=rng))


def data(seed, n=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 1, 8, 8)), rng.integers(0, 10, size=n)


def gradients(net, x, y):
    _, d = nn.softmax_cross_entropy(net.forward(x), y)
    dx = net.backward(d)
    return dx, {k: g.copy() for k, g in net.grads.items()}


# ----------------------------------------------------------------------------- item 1
def test_one_layer_object_at_two_positions_is_refused():
    relu, lin = nn.ReLU(), nn.Linear(4, 4, rng=0)
    with pytest.raises(ValueError, match=r"layer 2 is the same object as layer 0"):
        nn.Sequential(relu, nn.Linear(4, 4, rng=1), relu)
    with pytest.raises(ValueError, match=r"layer 1\.0 is the same object as layer 0"):
        nn.Sequential(lin, nn.Sequential(lin))
    nn.Sequential(nn.ReLU(), nn.Linear(4, 4, rng=1), nn.ReLU())  # one object per position


# ----------------------------------------------------------------------------- item 2
def test_accuracy_between_forward_and_backward_leaves_the_gradients():
    x, y = data(0)
    x_val, y_val = data(1)  # the same shape: nothing but the cache could tell them apart
    dx_ref, g_ref = gradients(small_net(), x, y)
    net = small_net()
    _, d = nn.softmax_cross_entropy(net.forward(x), y)
    nn.accuracy(net, x_val, y_val)  # logging progress
    nn.predict(net, x_val)
    dx = net.backward(d)
    np.testing.assert_array_equal(dx, dx_ref)
    for key, g in g_ref.items():
        np.testing.assert_array_equal(net.grads[key], g, err_msg=key)


def test_a_backward_that_does_not_match_the_last_forward_raises():
    x, y = data(0)
    net = small_net()
    _, d = nn.softmax_cross_entropy(net.forward(x), y)
    net[0].forward(data(1)[0])  # one layer run on other data in between
    with pytest.raises(RuntimeError, match="layer 0 ran forward on its own"):
        net.backward(d)
    net.forward(x)
    net.backward(d)
    with pytest.raises(RuntimeError, match="before forward"):
        net.backward(d)  # twice for one forward
    with nn.no_grad():
        net.forward(x)
    with pytest.raises(RuntimeError, match="before forward"):
        net.backward(d)  # inference keeps no cache


# ----------------------------------------------------------------------------- item 3
@pytest.mark.parametrize(("labels", "message"), [
    (lambda y: y[:, None], r"y must have shape \(n_b,\) = \(6,\)"),
    (lambda y: y[:5], r"y must have shape \(n_b,\) = \(6,\)"),
    (lambda y: np.eye(10, dtype=int)[y], "not one-hot"),
    (lambda y: y + 10, r"labels in 0\.\.9"),
    (lambda y: y.astype(float), "integer class labels"),
])
def test_accuracy_checks_the_labels(labels, message):
    x, y = data(0)
    with pytest.raises((ValueError, TypeError), match=message):
        nn.accuracy(small_net(), x, labels(y))


# ----------------------------------------------------------------------------- item 4
def test_a_nan_weight_stops_training_and_accuracy():
    x, y = data(0, n=20)
    net = small_net()
    net[4].params["W"][0, 0] = np.nan
    opt = nn.SGD(net.params, lr=0.1)
    with pytest.raises(FloatingPointError, match="at step 0 of the epoch"):
        nn.train_epoch(net, opt, x, y, 5, 0)
    with pytest.raises(FloatingPointError, match="non-finite logits for 20 of 20"):
        nn.accuracy(net, x, y)


def test_a_run_that_learns_nothing_warns_once():
    """lr = 10 on the digits: the loss stays at 2.5-8, above chance (log 10); the same
    network with Adam's default rate learns, and does not warn."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = (digits.images / 16.0)[:400, None], digits.target[:400]
    net = small_net()
    with pytest.warns(RuntimeWarning, match=r"above chance level, log\(10\) = 2\.30") as seen:
        nn.train_epoch(net, nn.SGD(net.params, lr=10.0), x, y, 10, 0)
    assert len(seen) == 1
    net = small_net()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses = nn.train_epoch(net, nn.Adam(net.params, lr=1e-2), x, y, 10, 0)
    assert losses[-10:].mean() < 0.75 * losses[:10].mean()  # it learns, and says nothing


class NanGradLinear(nn.Linear):
    """A layer whose weight gradient holds a NaN while its loss is finite."""

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["W"][0, 0] = np.nan
        return dx


def test_a_non_finite_gradient_stops_training_before_the_step():
    x, y = data(0, n=10)
    rng = np.random.default_rng(0)
    net = nn.Sequential(nn.Flatten(), NanGradLinear(64, 10, rng=rng))
    before = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(FloatingPointError, match="gradient 1.W is not finite at step 0"):
        nn.train_epoch(net, nn.SGD(net.params, lr=0.1), x, y, 5, 0)
    for key, p in net.params.items():
        np.testing.assert_array_equal(p, before[key], err_msg=key)  # nothing was updated


def test_relu_passes_nan_as_torch_does():
    torch = pytest.importorskip("torch")
    z = np.array([[-1.0, 0.0, 2.0, np.nan, np.nan, -3.0]])
    dy = np.array([[1.0, 2.0, 3.0, 4.0, np.nan, np.nan]])
    relu = nn.ReLU()
    out = relu.forward(z)
    dz = relu.backward(dy)
    zt = torch.tensor(z, requires_grad=True)
    yt = torch.relu(zt)
    yt.backward(torch.tensor(dy))
    np.testing.assert_array_equal(out, yt.detach().numpy())
    np.testing.assert_array_equal(dz[:, :5], zt.grad.numpy()[:, :5])  # NaN at z=NaN: dy
    # dy = NaN where z < 0: torch gives 0 (a select), eq. (11)'s product NaN; both are
    # defensible, and ours says so: dz = dy * sigma'(z)
    assert np.isnan(dz[0, 5])


# ----------------------------------------------------------------------------- item 5
def test_assigning_a_parameter_through_the_network_reaches_the_layer_and_the_optimizer():
    net = small_net()
    opt = nn.SGD(net.params, lr=0.5)
    W = np.full((1, 4, 3, 3), 0.25)
    net.params["0.W"] = W
    np.testing.assert_array_equal(net[0].params["W"], W)
    net[4].params["b"] = np.ones(10)
    grads = {k: np.ones_like(v) for k, v in net.params.items()}
    opt.step(grads)
    np.testing.assert_array_equal(net[0].params["W"], W - 0.5)  # the optimizer's array
    np.testing.assert_array_equal(net[4].params["b"], np.full(10, 0.5))
    assert W[0, 0, 0, 0] == 0.25  # copied in, not adopted


def test_replacing_parameters_wholesale_is_refused():
    net = small_net()
    with pytest.raises(AttributeError, match="params cannot be replaced"):
        net[0].params = {"W": np.zeros((1, 4, 3, 3)), "b": np.zeros(4)}
    with pytest.raises(ValueError, match=r"params\['0.W'\] must keep its shape \(1, 4, 3, 3\)"):
        net.params["0.W"] = np.zeros((4, 1, 3, 3))
    with pytest.raises(KeyError, match="no key '0.V'"):
        net.params["0.V"] = np.zeros(3)
    with pytest.raises(TypeError, match="fixed"):
        del net[0].params["W"]


# ----------------------------------------------------------------------------- item 6
def test_conv2d_with_padding_only_works_and_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    layer = nn.Conv2d(2, 3, 3, s=2, rng=rng, padding=(1, 1, 0, 2))
    x = rng.normal(size=(2, 2, 7, 6))
    z = layer.forward(x)
    xt = torch.nn.functional.pad(torch.tensor(x), (0, 2, 1, 1))
    Wt = torch.tensor(layer.params["W"].transpose(1, 0, 2, 3).copy())
    zt = torch.nn.functional.conv2d(xt, Wt, torch.tensor(layer.params["b"]), stride=2)
    np.testing.assert_allclose(z, zt.numpy(), rtol=1e-12, atol=1e-12)
    assert "padding=(1, 1, 0, 2)" in repr(layer)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"padding": "abc"}, "padding must be"),
    ({"padding": (1, 1)}, "padding must be"),
    ({"padding": (1, 1, 1, 1), "h_out": "same"}, "pass h_out or padding, not both"),
])
def test_conv2d_checks_padding_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.Conv2d(1, 2, 3, **kwargs)


# ----------------------------------------------------------------------------- item 7
def _opt():
    return nn.SGD({"w": np.zeros(2)}, lr=0.1)


def _set_lr(value):
    opt = _opt()
    opt.lr = value


EMPTY = np.zeros((0, 1, 8, 8))
MISUSES = [
    (lambda: nn.Adam({"w": np.zeros(2)}, betas=0.5), ValueError, "betas must be a pair"),
    (lambda: nn.Adam({"w": np.zeros(2)}, betas=(0.9,)), ValueError, "betas must be a pair"),
    (lambda: nn.SGD({"w": np.zeros(2)}, lr=np.inf), ValueError, "lr must be a finite number"),
    (lambda: nn.SGD({"w": np.zeros(2)}, lr=np.nan), ValueError, "lr must be a finite number"),
    (lambda: _set_lr(-0.1), ValueError, "lr must be a finite number in (0, inf); got -0.1"),
    (lambda: nn.Flatten().forward(EMPTY), ValueError, "at least one sample"),
    (lambda: nn.Linear(3, 2).forward(np.zeros((0, 3))), ValueError, "at least one sample"),
    (lambda: nn.MaxPool2d(2).forward(EMPTY), ValueError, "at least one sample"),
    (lambda: nn.AvgPool2d(2).forward(EMPTY), ValueError, "at least one sample"),
    (lambda: nn.ReLU().forward(EMPTY), ValueError, "at least one sample"),
    (lambda: nn.predict(small_net(), EMPTY), ValueError, "at least one sample"),
    (lambda: nn.accuracy(small_net(), EMPTY, np.zeros(0, int)), ValueError,
     "at least one sample"),
    (lambda: nn.predict(small_net(), 3.0), ValueError, "x must have a batch axis"),
    (lambda: nn.Conv2d(1, 2, 3, rng=-1), ValueError, "rng (a seed) must be an integer >= 0"),
]


@pytest.mark.parametrize(("call", "error", "message"), MISUSES, ids=[m[2] for m in MISUSES])
def test_misuses_raise_naming_the_parameter(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


# ----------------------------------------------------------------------------- item 8
@pytest.mark.parametrize("Pool", [nn.MaxPool2d, nn.AvgPool2d])
@pytest.mark.parametrize(("k", "s"), [(3, 1), (5, 1)])
def test_pooling_memory_is_bounded_like_the_convolution(Pool, k, s, monkeypatch):
    monkeypatch.setattr(chunks, "WORKSPACE", 8 * 2**20)
    x = np.random.default_rng(0).normal(size=(512, 4, 32, 32))  # 16 MiB
    pool = Pool(k, s)
    dy = np.ones((512, 4, (32 - k) // s + 1, (32 - k) // s + 1))
    tracemalloc.start()
    try:
        pool.forward(x)
        pool.backward(dy)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # y and dx (about x each), the argmax, a bounded workspace; was (k/s)^2 times x
    assert peak < 2.5 * x.nbytes, f"{peak / x.nbytes:.1f} x the input"


@pytest.mark.parametrize("Pool", [nn.MaxPool2d, nn.AvgPool2d])
def test_pooling_in_bands_of_one_large_image_matches_torch(Pool, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(chunks, "CHUNK", 2**12)  # bands of a few rows, overlapping (s < k)
    monkeypatch.setattr(chunks, "MIN_CHUNK", 2**12)
    rng = np.random.default_rng(1)
    x = rng.permutation(np.linspace(-1, 1, 2 * 60 * 47)).reshape(1, 2, 60, 47)
    pool = Pool(3, 2)
    y = pool.forward(x)
    dy = rng.normal(size=y.shape)
    dx = pool.backward(dy)
    xt = torch.tensor(x, requires_grad=True)
    f = torch.nn.functional.max_pool2d if Pool is nn.MaxPool2d else torch.nn.functional.avg_pool2d
    yt = f(xt, 3, 2)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-15)
