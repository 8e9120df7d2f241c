"""Assignment 2 (the backward pass of the dilated, strided layer): the hidden cases.

`plan(grade_id, seed)` lists the calls, (label, function name, args); the kernel runs them
(`run`) and the trusted grader (classroom/grading/checks/a2.py) makes the same plan to compute
its references. Nothing here computes an answer.

The layer (shared with a1): q (n_b, ch_in, h_in, w_in), W (ch_out, ch_in, f_h, f_w), stride
s = (s_h, s_w), dilation d = (d_h, d_w), padding p = s (h_out - 1) + d (f - 1) + 1 - h_in per
axis, ceil(p/2) before.

Parts 1-5 call the part's own function on cases of their own (part 4 on stride-1 cases only,
part 5 on any stride; neither calls the other). While parts 3-5 run, the provided
`conv_forward` (and any alias of it) is switched off: one call of it with the arguments
rearranged gives dW or dq, and the parts forbid it. Part 6 calls the student's
`directional_check` on `Cubic`, sum(c x^3), whose c is secret (the trusted oracle answers
each call). Part 7 runs the student's `gradient_check` with every function it builds on
swapped for a stand-in (`StandIn`): the provided `conv_forward` becomes a made-up layer that
is not a convolution, z_n = (A q_n) * (B w) + C b with secret random matrices, and
`input_gradient`, `filter_gradient`, `bias_gradient` its exact gradients (or, one run at a
time, wrong ones; which run is which is drawn by the trusted oracle and never known here);
`directional_check` a unit-step forward difference along the specified direction, exact for
this layer's losses only (affine in each argument). The student's other parts are never
called in part 7.
"""

from __future__ import annotations

import numpy as np

from . import call, function, oracle

PARTS = {
    "a2-act-tests": "elu_output_error",
    "a2-db-tests": "bias_gradient",
    "a2-dw-tests": "filter_gradient",
    "a2-dq1-tests": "input_gradient_dilated",
    "a2-dq-tests": "input_gradient",
    "a2-num-tests": "directional_check",
    "a2-check-tests": "gradient_check",
}

KEYS = ("dq", "dW", "db")
RUNS = 6  # part 7's runs; which stand-in is wrong in which run is known outside only
H = 0.05  # part 6's step: large, so the centered difference differs from the derivative
NUM_CASES = (((2, 3, 4), np.float64), ((5,), np.float32), ((3, 4), np.float32))

# (label, n_b, ch_in, ch_out, h_in, w_in, f_h, f_w, s_h, s_w, d_h, d_w, h_out, w_out)
FIXED = [
    ("stride 1, no dilation, no padding", 1, 1, 1, 5, 5, 3, 3, 1, 1, 1, 1, 3, 3),
    ("stride 1, dilation 2, odd padding", 1, 1, 2, 6, 5, 3, 2, 1, 1, 2, 2, 5, 4),
    ("rectangular filter 2 x 3, dilation (2, 1)", 2, 2, 1, 6, 7, 2, 3, 1, 1, 2, 1, 5, 4),
    ("stride (2, 1), dilation (1, 2), odd padding", 1, 2, 2, 8, 6, 3, 2, 2, 1, 1, 2, 4, 5),
    ("stride (1, 3), dilation (2, 1), rectangular image", 1, 1, 2, 5, 9, 2, 3, 1, 3, 2, 1, 5, 3),
    ("negative padding (cropped rows), stride 2, dilation 2", 1, 1, 1, 9, 8, 2, 2, 2, 2, 2, 2,
     3, 2),
    ("padding larger than d (f - 1) on each side", 1, 1, 1, 3, 4, 2, 2, 1, 1, 2, 2, 7, 8),
    ("a batch of 3 images, 3 input and 2 output channels", 3, 3, 2, 7, 6, 3, 3, 2, 2, 2, 1,
     3, 3),
    ("1 x 1 filter, stride (2, 3)", 2, 2, 3, 5, 7, 1, 1, 2, 3, 3, 2, 3, 3),
]


def _random(rng, stride1):
    f_h, f_w = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    s_h, s_w = (1, 1) if stride1 else (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    d_h, d_w = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    h_out, w_out = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    sizes = []
    for f, s, d, n_out in ((f_h, s_h, d_h, h_out), (f_w, s_w, d_w, w_out)):
        span = s * (n_out - 1) + d * (f - 1) + 1  # rows of q_bar
        p = int(rng.integers(-2, d * (f - 1) + 2))  # cropped, padded, sometimes > d (f - 1)
        sizes.append(max(span - p, 3))
    return (int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4)),
            sizes[0], sizes[1], f_h, f_w, s_h, s_w, d_h, d_w, h_out, w_out)


def cases(seed, stride1=False, n_random=4):
    fixed = [c for c in FIXED if not stride1 or c[8:10] == (1, 1)]
    rng = np.random.default_rng(seed)
    for k in range(n_random):
        fixed.append((f"random shape {k + 1}",) + _random(rng, stride1))
    out = [c + (np.float64,) for c in fixed]
    out.append(("float32 inputs",) + ((2, 2, 3, 6, 7, 3, 2, 1, 1, 2, 1, 5, 5) if stride1 else
                                      (2, 2, 3, 6, 7, 3, 2, 2, 1, 1, 2, 3, 5)) + (np.float32,))
    return out


def describe(case):
    (label, n_b, ch_in, ch_out, h_in, w_in, f_h, f_w, s_h, s_w, d_h, d_w, h_out, w_out,
     dtype) = case
    return (f"(case '{label}': q of shape ({n_b}, {ch_in}, {h_in}, {w_in}), W of shape "
            f"({ch_out}, {ch_in}, {f_h}, {f_w}), s=({s_h}, {s_w}), d=({d_h}, {d_w}), "
            f"h_out=({h_out}, {w_out}), {np.dtype(dtype).name})")


def arrays(case, seed):
    """q, W, dz of a case (dz has the output's shape)."""
    (label, n_b, ch_in, ch_out, h_in, w_in, f_h, f_w, s_h, s_w, d_h, d_w, h_out, w_out,
     dtype) = case
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n_b, ch_in, h_in, w_in)).astype(dtype)
    W = rng.normal(size=(ch_out, ch_in, f_h, f_w)).astype(dtype)
    dz = rng.normal(size=(n_b, ch_out, h_out, w_out)).astype(dtype)
    return q, W, dz


class Cubic:
    """The loss sum(c x^3) of part 6: c is secret, the trusted grader answers each call."""

    def __init__(self, case):
        self._case = case

    def __call__(self, x):
        x = np.array(x, dtype=np.float64)
        return float(oracle.ask("cubic", case=np.int64(self._case), x=x))


def plan(grade_id, seed):
    name = PARTS[grade_id]
    calls = []
    if grade_id == "a2-act-tests":
        rng = np.random.default_rng(seed + 21)
        for alpha in (1.0, 0.3):
            for dtype in (np.float64, np.float32):
                z = (rng.normal(size=(2, 3, 4, 5)) * 3).astype(dtype)
                z[0, 0, 0, :3] = (0.0, 60.0, -60.0)  # the kink, and exp out of range
                z[1, 2, 3, :2] = (100.0, -0.0)
                dq = rng.normal(size=z.shape).astype(dtype)
                calls.append((f"alpha = {alpha}, z with zeros and entries of +-60 and 100 "
                              f"({np.dtype(dtype).name})", name, (dq, z, alpha)))
    elif grade_id == "a2-db-tests":
        for k, case in enumerate(cases(seed + 22)):
            dz = arrays(case, seed + k)[2]
            calls.append((f"(dz of shape {dz.shape}, {dz.dtype})", name, (dz,)))
    elif grade_id in ("a2-dw-tests", "a2-dq-tests"):
        for k, case in enumerate(cases(seed + (23 if grade_id == "a2-dw-tests" else 25))):
            q, W, dz = arrays(case, seed + k)
            calls.append((describe(case), name, (dz, q, W, case[8:10], case[10:12])))
    elif grade_id == "a2-dq1-tests":
        for k, case in enumerate(cases(seed + 24, stride1=True)):
            q, W, dz = arrays(case, seed + k)
            calls.append((describe(case), name, (dz, q, W, case[10:12])))
    elif grade_id == "a2-num-tests":
        rng = np.random.default_rng(seed + 26)
        for case, (shape, dtype) in enumerate(NUM_CASES):
            x = (rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape))
            grad = rng.normal(size=shape).astype(dtype)
            calls.append((f"sum(c x^3) at an x of shape {shape} ({np.dtype(dtype).name}), "
                          f"h = {H}", name,
                          (case, x.astype(dtype), grad, int(seed % 10**6) + case, H, seed)))
    else:  # a2-check-tests: the student's layer seed; the runs are told apart outside only
        layer_seed = int(seed % 1000) + 1
        calls = [(f"run {k + 1}", name, (k, layer_seed, seed)) for k in range(RUNS)]
    return calls


def _direction(rng, shape):
    v = rng.standard_normal(shape)
    return v / np.linalg.norm(v)


class StandIn:
    """A made-up layer and its gradients, to grade gradient_check (not a convolution).

    z[n] = (A q[n]) * (B w) + C b, flattened, with b of the shape of one output image (the
    untied bias); A, B, C are secret and every value is computed by the trusted grader
    (`oracle`), which also knows which gradient is wrong in which run.
    """

    def __init__(self, run):
        self.run = np.int64(run)
        self.calls, self.layer = 0, None

    def conv_forward(self, q, W, b, s, d, h_out):
        q, W = np.asarray(q), np.asarray(W)
        z_shape = (W.shape[0],) + tuple(int(n) for n in h_out)
        extra = {} if b is None else {"b": np.asarray(b, dtype=np.float64)}
        out = oracle.ask("fwd", run=self.run, q=q.astype(np.float64),
                         W=W.astype(np.float64), z_shape=np.array(z_shape, dtype=np.int64),
                         **extra)
        self.calls += 1
        return np.asarray(out).reshape((q.shape[0],) + z_shape).astype(np.result_type(q, W))

    def input_gradient(self, dz, q, W, s, d):
        (n_b, ch_in, h_in, w_in), (ch_out, _, f_h, f_w) = np.shape(q), np.shape(W)
        self.layer = ((n_b, ch_in, h_in, w_in, ch_out, f_h, f_w)
                      + tuple(int(n) for n in s) + tuple(int(n) for n in d)
                      + tuple(np.shape(dz)[-2:]))
        return oracle.ask("dq", run=self.run, dz=np.asarray(dz, dtype=np.float64),
                          q=np.asarray(q, dtype=np.float64), W=np.asarray(W, dtype=np.float64))

    def filter_gradient(self, dz, q, W, s, d):
        return oracle.ask("dW", run=self.run, dz=np.asarray(dz, dtype=np.float64),
                          q=np.asarray(q, dtype=np.float64), W=np.asarray(W, dtype=np.float64))

    def bias_gradient(self, dz):
        return oracle.ask("db", run=self.run, dz=np.asarray(dz, dtype=np.float64))

    def directional_check(self, loss, x, grad, rng, h=1e-4):
        x = np.array(x, dtype=np.float64)
        v = _direction(rng, x.shape)
        before = self.calls
        base = loss(x.copy())
        if self.calls == before:
            raise RuntimeError("the loss given to directional_check does not call "
                               "conv_forward")
        return float(np.sum(np.asarray(grad, dtype=np.float64) * v)), float(loss(x + v) - base)

    def functions(self):
        return {"conv_forward": self.conv_forward,
                "input_gradient": self.input_gradient,
                "filter_gradient": self.filter_gradient,
                "bias_gradient": self.bias_gradient,
                "directional_check": self.directional_check}


def _run_check(namespace, run, layer_seed):
    """The student's gradient_check on the stand-in layer: (errors, layer or None)."""
    student = function(namespace, "gradient_check")
    stand_in = StandIn(run)
    swaps = stand_in.functions()
    real = namespace.get("conv_forward")
    if real is not None:  # aliases of the provided forward pass too
        swaps.update({key: stand_in.conv_forward for key, value in namespace.items()
                      if value is real})
    saved = {key: namespace[key] for key in swaps if key in namespace}

    def checked(layer_seed):
        errors = student(layer_seed)
        if not isinstance(errors, dict) or set(errors) != set(KEYS):
            raise TypeError("gradient_check must return a dict with the keys 'dq', 'dW' "
                            "and 'db'")
        values = np.array([float(errors[key]) for key in KEYS])
        return values, (None if stand_in.layer is None else np.array(stand_in.layer))

    namespace.update(swaps)
    try:
        return call(checked, (layer_seed,))
    finally:
        for key in swaps:
            if key in saved:
                namespace[key] = saved[key]
            else:
                namespace.pop(key, None)


NO_FORWARD = ("a2-dw-tests", "a2-dq1-tests", "a2-dq-tests")  # parts 3-5
FORWARD_OFF = ("the provided conv_forward is switched off in parts 3-5, which must not call "
               "it")


def _forward_switched_off(*args, **kwargs):
    raise RuntimeError(FORWARD_OFF)


def run(grade_id, namespace, seed):
    records = []
    real = namespace.get("conv_forward")
    swaps = {}
    if grade_id in NO_FORWARD and real is not None:  # aliases of it too
        swaps = {key: _forward_switched_off for key, value in list(namespace.items())
                 if value is real}
    saved = {key: namespace[key] for key in swaps}
    namespace.update(swaps)
    try:
        for label, name, args in plan(grade_id, seed):
            if grade_id == "a2-check-tests":
                record = _run_check(namespace, *args[:2])
            elif grade_id == "a2-num-tests":
                case, x, grad, rng_seed, h, _ = args
                record = call(function(namespace, name),
                              (Cubic(case), x, grad, np.random.default_rng(rng_seed), h))
            else:
                record = call(function(namespace, name), args)
            record["case"] = label
            records.append(record)
    finally:
        namespace.update(saved)
    return records
