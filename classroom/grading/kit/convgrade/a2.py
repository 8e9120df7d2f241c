"""Assignment 2 (the backward pass): the hidden cases, as calls of the student's functions.

`plan(grade_id, seed)` lists the calls, (label, function name, args); the kernel runs them
(`run`) and the trusted grader (classroom/grading/checks/a2.py) makes the same plan to compute
its references. Nothing here computes an answer.

Parts 1-5 call the part's own function on layer cases. Part 6 calls the student's
`numerical_gradient` on `Cubic`, sum(c x^3), whose derivative the trusted side knows. Part 7
runs the student's `gradient_check` with every function it builds on swapped for a stand-in
(`StandIn`): `cl.conv_forward` becomes a made-up layer that is not a convolution,
z_n = (A q_n) * (B w) + C b with random matrices A, B, C, and `input_gradient`,
`filter_gradient`, `bias_gradient` become its exact gradients (or, one at a time, wrong ones),
`numerical_gradient` a unit-step forward difference, exact for this layer's losses only (they
are affine in each argument) and wrong for any other function. The part is graded on its own:
the student's other parts are never called there.
"""

from __future__ import annotations

import importlib

import numpy as np

from . import call, function, layers

PARTS = {
    "a2-act-tests": "output_error",
    "a2-db-tests": "bias_gradient",
    "a2-dw-tests": "filter_gradient",
    "a2-dq1-tests": "input_gradient_stride1",
    "a2-dq-tests": "input_gradient",
    "a2-num-tests": "numerical_gradient",
    "a2-check-tests": "gradient_check",
}

# the checks run by part 7: (variant, label); the trusted side reads the variant
CHECKS = (
    ("right", "correct gradients and a correct numerical_gradient"),
    ("dq", "an input_gradient that splits the backward padding like the forward one"),
    ("dW", "a filter_gradient that forgets the batch sum"),
    ("db", "a bias_gradient that averages over the batch instead of summing"),
)
KEYS = ("dq", "dW", "db")


class Cubic:
    """The loss sum(c x^3) of part 6 (its gradient is computed outside, never here)."""

    def __init__(self, c):
        self.c = c

    def __call__(self, x):
        return float(np.sum(self.c * np.asarray(x, dtype=np.float64) ** 3))


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
        for shape in [(2, 3, 4), (5,)]:
            x, c = _away_from_zero(rng, shape), _away_from_zero(rng, shape)
            calls.append((f"sum(c x^3) at an x of shape {shape}", name, (Cubic(c), x)))
    else:  # a2-check-tests: the student's layer seed, and which stand-in is wrong
        layer_seed = int(seed % 1000) + 1
        calls = [(label, name, (variant, layer_seed)) for variant, label in CHECKS]
    return calls


class StandIn:
    """A made-up layer and its gradients, to grade gradient_check (not a convolution).

    z[n] = (A q[n]) * (B w) + C b, flattened; A, B, C are random, drawn from the seed and the
    shapes. The functions below are its exact gradients, or (``wrong``) one wrong one.
    """

    def __init__(self, seed, forward):
        self.seed, self.real_forward = seed, forward
        self.mats, self.calls, self.layer = {}, 0, None

    def _mat(self, tag, rows_shape, cols):
        key = (tag, tuple(int(n) for n in rows_shape), int(cols))
        if key not in self.mats:
            rows = int(np.prod(key[1]))
            if rows * cols > 2 * 10**7:
                raise ValueError("the layer of gradient_check is far larger than the part asks")
            rng = np.random.default_rng([self.seed, tag, cols, *key[1]])
            self.mats[key] = rng.normal(size=(rows, cols)) / np.sqrt(max(cols, 1))
        return self.mats[key]

    def _parts(self, q_shape, W_shape, z_shape):
        return (self._mat(1, z_shape, int(np.prod(q_shape[1:]))),
                self._mat(2, z_shape, int(np.prod(W_shape))),
                self._mat(3, z_shape, int(z_shape[0])))

    def conv_forward(self, q, W, b=None, s=1, h_out="valid", **kwargs):
        z = self.real_forward(q, W, b, s, h_out, **kwargs)  # the shape and checks of convlib's
        A, B, C = self._parts(np.shape(q), np.shape(W), z.shape[1:])
        q64, w64 = np.asarray(q, dtype=np.float64), np.asarray(W, dtype=np.float64).ravel()
        out = (q64.reshape(len(q64), -1) @ A.T) * (B @ w64)
        if b is not None:
            out = out + C @ np.asarray(b, dtype=np.float64)
        self.calls += 1
        return out.reshape(z.shape).astype(z.dtype)

    def _flat(self, dz, q, W):
        dz64 = np.asarray(dz, dtype=np.float64)
        A, B, C = self._parts(np.shape(q), np.shape(W), dz64.shape[1:])
        return dz64.reshape(len(dz64), -1), A, B

    def input_gradient(self, dz, q, W, s, wrong=False):
        (n_b, ch_in, h_in, w_in), (_, ch_out, f, _) = np.shape(q), np.shape(W)
        self.layer = (n_b, ch_in, h_in, w_in, ch_out, f, int(s)) + tuple(np.shape(dz)[-2:])
        g, A, B = self._flat(dz, q, W)
        dq = (g * (B @ np.asarray(W, dtype=np.float64).ravel())) @ A
        if wrong:  # shifted by one pixel, as a wrongly split padding shifts dq
            dq = np.roll(dq.reshape(n_b, ch_in, -1), 1, axis=-1)
        return dq.reshape(np.shape(q))

    def filter_gradient(self, dz, q, W, s, wrong=False):
        g, A, B = self._flat(dz, q, W)
        u = np.asarray(q, dtype=np.float64).reshape(len(g), -1) @ A.T
        if wrong:  # the last image only
            g, u = g[-1:], u[-1:]
        return (np.sum(g * u, axis=0) @ B).reshape(np.shape(W))

    def bias_gradient(self, dz, wrong=False):
        dz64 = np.asarray(dz, dtype=np.float64)
        C = self._mat(3, dz64.shape[1:], int(dz64.shape[1]))
        g = dz64.reshape(len(dz64), -1)
        return (g.mean(axis=0) if wrong else g.sum(axis=0)) @ C

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

    def functions(self, variant):
        def wrong(method, key):
            return lambda *args, **kwargs: method(*args, **kwargs, wrong=variant == key)

        return {"input_gradient": wrong(self.input_gradient, "dq"),
                "filter_gradient": wrong(self.filter_gradient, "dW"),
                "bias_gradient": wrong(self.bias_gradient, "db"),
                "numerical_gradient": self.numerical_gradient}


def _run_check(namespace, seed, variant, layer_seed):
    """The student's gradient_check on the stand-in layer: (errors, layer or None)."""
    student = function(namespace, "gradient_check")
    convlib = importlib.import_module("convlib")
    real = convlib.conv_forward
    stand_in = StandIn(seed, real)
    swaps = stand_in.functions(variant)
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
            record = _run_check(namespace, seed, *args)
        else:
            record = call(function(namespace, name), args)
        record["case"] = label
        records.append(record)
    return records
