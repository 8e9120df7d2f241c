"""Inside the sealed kernel: call the student's functions on the hidden cases, record results.

A hidden test cell is one line, which defines no name in the student's namespace::

    __import__("convgrade").collect("a1-pad-tests", globals())

`collect` finds the student's functions by name, calls them on the cases of that test (made
here from the per-submission seed ``CONVGRADE_SEED``) and shows the results as one output of
MIME type `MIME`: plain arrays (dtype, shape, base64 bytes; no pickle) or the error each case
raised. Nothing is judged here: whatever the student's code changes in this process (numpy,
builtins, this module) can only change the arrays it hands over. The trusted grader outside
(classroom/grading/checks/) makes the same cases from the same seed with its own numpy and
compares the arrays with references it computes itself.
"""

from __future__ import annotations

import base64
import importlib
import os

import numpy as np

MIME = "application/x.convgrade+json"
MAX_ELEMENTS = 2_000_000  # per value; a larger result is recorded as an error


def encode(value):
    """A JSON-able record of a returned value: arrays, tuples/lists of them, None."""
    if value is None:
        return {"none": True}
    if isinstance(value, (tuple, list)):
        return {"tuple": [encode(v) for v in value]}
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"returned {type(value).__name__} of dtype {array.dtype}, "
                        "expected numbers")
    if array.size > MAX_ELEMENTS:
        raise ValueError(f"returned {array.size} numbers, far more than expected")
    array = array.copy(order="C")  # (ascontiguousarray would make a 0-d array 1-d)
    return {"array": {"dtype": array.dtype.str, "shape": list(array.shape),
                      "data": base64.b64encode(array.tobytes()).decode("ascii")}}


def seed() -> int:
    return int(os.environ.get("CONVGRADE_SEED", "0"), 16)


def call(fn, args, kwargs=None):
    """(record of fn(*args), inputs modified?) with copies of array inputs."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    try:
        out = fn(*copies, **(kwargs or {}))
        record = {"value": encode(out)}
    except BaseException as exc:  # noqa: BLE001 (a student error is a result, not a crash)
        if isinstance(exc, KeyboardInterrupt):
            raise
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        record = {"error": text[:300]}
    changed = any(isinstance(a, np.ndarray) and not np.array_equal(a, c, equal_nan=True)
                  for a, c in zip(args, copies, strict=True))
    record["modified_input"] = bool(changed)
    return record


def collect(grade_id: str, namespace: dict) -> None:
    """Run the hidden cases of `grade_id` on the student's functions; show the results."""
    assignment = grade_id.split("-")[0]
    module = importlib.import_module(f"convgrade.{assignment}")
    records = []
    try:
        records = module.run(grade_id, namespace, seed())
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, KeyboardInterrupt):
            raise
        records = [{"case": "setup", "error": f"{type(exc).__name__}: {exc}"[:300]}]
    from IPython.display import display

    display({MIME: {"grade_id": grade_id, "records": records},
             "text/plain": f"{grade_id}: {len(records)} hidden cases run"}, raw=True)


def function(namespace, name):
    """The student's function `name`, or a NameError that says which one is missing."""
    fn = namespace.get(name)
    if not callable(fn):
        raise NameError(f"no function {name!r} is defined")
    return fn
