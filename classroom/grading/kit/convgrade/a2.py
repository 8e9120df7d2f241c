"""Assignment 2 (the backward pass): the hidden cases, as calls of the student's functions.

`plan(grade_id, seed)` lists the calls, (label, function name, args); the kernel runs them
(`run`) and the trusted grader (classroom/grading/checks/a2.py) makes the same plan to compute
its references. Nothing here computes an answer.

Parts 1-5 call the part's own function on layer cases. Part 6 calls the student's
`numerical_gradient` on `Cubic`, sum(c x^3) with a step h = 0.1, whose centered difference
only the trusted side knows (c is secret: the loss is a proxy the trusted oracle answers). Part 7
runs the student's `gradient_check` with every function it builds on swapped for a stand-in
(`StandIn`): `cl.conv_forward` becomes a made-up layer that is not a convolution,
z_n = (A q_n) * (B w) + C b with secret random matrices A, B, C, and `input_gradient`,
`filter_gradient`, `bias_gradient` become its exact gradients (or, one run at a time, wrong
ones; which run is which is drawn by the trusted oracle and never known here),
`numerical_gradient` a unit-step forward difference, exact for this layer's losses only (they
are affine in each argument) and wrong for any other function. The part is graded on its own:
the student's other parts are never called there.
"""

from __future__ import annotations

import importlib

import numpy as np

from . import call, function, layers, oracle

PARTS = {
    "a2-act-tests": "output_error",
    "a2-db-tests": "bias_gradient",
    "a2-dw-tests": "filter_gradient",
    "a2-dq1-tests": "input_gradient_stride1",
    "a2-dq-tests": "input_gradient",
    "a2-num-tests": "numerical_gradient",
    "a2-check-tests": "gradient_check",
}

KEYS = ("dq", "dW", "db")
RUNS = 6  # part 7's runs; which stand-in is wrong in which run is known outside only
H = 0.1  # part 6's step: large, so the centered difference differs from the derivative


class Cubic:
    """The loss sum(c x^3) of part 6: c is secret, the trusted grader answers each call."""

    def __init__(self, case):
        self._case = case

    def __call__(self, x):
        x = np.array(x, dtype=np.float64)
        return float(oracle.ask("cubic", case=np.int64(self._case), x=x))


def _away_from_zero(rng, shape):
    """Entries of size 0.5 to 2, either sign (centered differences are then accurate)."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)


def plan(grade_id, seed):
    name = PARTS[grade_id]
    calls = []
    if grade_id == "a2-act-tests":
        rng = np.random.default_rng(seed + 21)
        for act in ("relu", "sigmoid", "tanh"):
            for dtype in (np.float64, np.float32):
                z = rng.normal(size=(2, 3, 4, 5)).astype(dtype) * 3
                dq = rng.normal(size=z.shape).astype(dtype)
                calls.append((f"activation {act!r} ({np.dtype(dtype).name})", name,
                              (dq, z, act)))
    elif grade_id == "a2-db-tests":
        for k, case in enumerate(layers.cases(seed + 22)):
            dz = layers.arrays(case, seed + k)[3]
            calls.append((layers.describe(case), name, (dz,)))
    elif grade_id in ("a2-dw-tests", "a2-dq-tests"):
        for k, case in enumerate(layers.cases(seed + (23 if grade_id == "a2-dw-tests" else 25))):
            q, W, _, dz = layers.arrays(case, seed + k)
            calls.append((layers.describe(case), name, (dz, q, W, case[7])))
    elif grade_id == "a2-dq1-tests":
        stride1 = [c for c in layers.cases(seed + 24) if c[7] == 1]
        stride1 += [("stride 1, odd and negative padding", 2, 2, 3, 7, 6, 3, 1, 4, 7,
                     np.float64),
                    ("stride 1, float32", 2, 3, 2, 5, 6, 2, 1, 5, 6, np.float32)]
        for k, case in enumerate(stride1):
            q, W, _, dz = layers.arrays(case, seed + k)
            calls.append((layers.describe(case), name, (dz, q, W)))
    elif grade_id == "a2-num-tests":
        rng = np.random.default_rng(seed + 26)
        for case, shape in enumerate([(2, 3, 4), (5,)]):
            x = _away_from_zero(rng, shape)
            calls.append((f"sum(c x^3) at an x of shape {shape}, h = {H}", name,
                          (case, x, H, seed)))
    else:  # a2-check-tests: the student's layer seed; the runs are told apart outside only
        layer_seed = int(seed % 1000) + 1
        calls = [(f"run {k + 1}", name, (k, layer_seed, seed)) for k in range(RUNS)]
    return calls


class StandIn:
    """A made-up layer and its gradients, to grade gradient_check (not a convolution).

    z[n] = (A q[n]) * (B w) + C b, flattened; A, B, C are secret and every value is computed
    by the trusted grader (`oracle`), which also knows which gradient is wrong in which run.
    """

    def __init__(self, run, forward):
        self.run, self.real_forward = np.int64(run), forward
        self.calls, self.layer = 0, None

    def conv_forward(self, q, W, b=None, s=1, h_out="valid", **kwargs):
        z = self.real_forward(q, W, b, s, h_out, **kwargs)  # the shape and checks of convlib's
        extra = {} if b is None else {"b": np.asarray(b, dtype=np.float64)}
        out = oracle.ask("fwd", run=self.run, q=np.asarray(q, dtype=np.float64),
                         W=np.asarray(W, dtype=np.float64),
                         z_shape=np.array(z.shape[1:], dtype=np.int64), **extra)
        self.calls += 1
        return np.asarray(out).reshape(z.shape).astype(z.dtype)

    def input_gradient(self, dz, q, W, s):
        (n_b, ch_in, h_in, w_in), (_, ch_out, f, _) = np.shape(q), np.shape(W)
        self.layer = (n_b, ch_in, h_in, w_in, ch_out, f, int(s)) + tuple(np.shape(dz)[-2:])
        return oracle.ask("dq", run=self.run, dz=np.asarray(dz, dtype=np.float64),
                          q=np.asarray(q, dtype=np.float64), W=np.asarray(W, dtype=np.float64))

    def filter_gradient(self, dz, q, W, s):
        return oracle.ask("dW", run=self.run, dz=np.asarray(dz, dtype=np.float64),
                          q=np.asarray(q, dtype=np.float64), W=np.asarray(W, dtype=np.float64))

    def bias_gradient(self, dz):
        return oracle.ask("db", run=self.run, dz=np.asarray(dz, dtype=np.float64))

    def numerical_gradient(self, loss, x, h=1e-5):
        x = np.array(x, dtype=np.float64)
        before = self.calls
        base = loss(x.copy())
        if self.calls == before:
            raise RuntimeError("the loss given to numerical_gradient does not call "
                               "cl.conv_forward")
        grad = np.zeros_like(x)
        for k in np.ndindex(x.shape):
            step = x.copy()
            step[k] += 1.0
            grad[k] = loss(step) - base
        return grad

    def functions(self):
        return {"input_gradient": self.input_gradient,
                "filter_gradient": self.filter_gradient,
                "bias_gradient": self.bias_gradient,
                "numerical_gradient": self.numerical_gradient}


def _run_check(namespace, run, layer_seed):
    """The student's gradient_check on the stand-in layer: (errors, layer or None)."""
    student = function(namespace, "gradient_check")
    convlib = importlib.import_module("convlib")
    real = convlib.conv_forward
    stand_in = StandIn(run, real)
    swaps = stand_in.functions()
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
    convlib.conv_forward = stand_in.conv_forward
    try:
        return call(checked, (layer_seed,))
    finally:
        convlib.conv_forward = real
        for key in swaps:
            if key in saved:
                namespace[key] = saved[key]
            else:
                namespace.pop(key, None)


def run(grade_id, namespace, seed):
    records = []
    for label, name, args in plan(grade_id, seed):
        if grade_id == "a2-check-tests":
            record = _run_check(namespace, *args[:2])
        elif grade_id == "a2-num-tests":
            case, x, h, _ = args
            record = call(function(namespace, name), (Cubic(case), x, h))
        else:
            record = call(function(namespace, name), args)
        record["case"] = label
        records.append(record)
    return records
