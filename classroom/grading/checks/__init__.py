"""The trusted side of the hidden tests: references computed here, verdicts given here.

nbgrader runs these in its own process, outside the sandbox (`sealed.TrustedChecks`): for each
autograded test cell it decodes the results the kernel showed (`decode`: plain arrays, never
pickle), makes the same cases from the same seed with this process's numpy
(classroom/grading/kit/convgrade/<assignment>.py) and asks the assignment's module here for a
verdict: None when every case agrees with the reference, else one line naming the property and
the case, never the expected array.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import sys
from pathlib import Path

import numpy as np

KIT = Path(__file__).resolve().parents[1] / "kit"
if str(KIT) not in sys.path:
    sys.path.insert(0, str(KIT))


def split(p):
    """Eq. (8): ceil(p/2) before, floor(p/2) after (negative p crops, split the same way)."""
    return -(-p // 2), p // 2


def pads(case):
    """((top, bottom), (left, right)) of eqs. (7)-(8) for a layer case."""
    h_in, w_in, f, s, h_out, w_out = case[4:10]
    return (split(s * (h_out - 1) + f - h_in), split(s * (w_out - 1) + f - w_in))


def flat(p):
    """(top, bottom, left, right) from ((top, bottom), (left, right))."""
    (t, b), (l, r) = p
    return (t, b, l, r)


class Malformed(ValueError):
    """The kernel's output is not a result record (a tampered or broken kernel)."""


def decode(record):
    """The value of a result record: ndarray, tuple of values or None."""
    if not isinstance(record, dict) or len(record) != 1:
        raise Malformed("not a value record")
    (kind, body), = record.items()
    if kind == "none" and body is True:
        return None
    if kind == "tuple" and isinstance(body, list) and len(body) <= 64:
        return tuple(decode(v) for v in body)
    if kind == "array" and isinstance(body, dict):
        dtype = np.dtype(str(body.get("dtype")))
        if dtype.kind not in "biuf" or dtype.itemsize > 16:
            raise Malformed(f"dtype {dtype} is not numeric")
        shape = tuple(int(n) for n in body.get("shape", ()))
        if len(shape) > 8 or any(n < 0 for n in shape):
            raise Malformed("bad shape")
        try:
            raw = base64.b64decode(str(body.get("data", "")), validate=True)
        except binascii.Error as exc:
            raise Malformed("bad data") from exc
        if len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise Malformed("data does not fill the shape")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    raise Malformed(f"unknown record {kind!r}")


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), initial=0))


def close(got, want, tol=None):
    """Same shape and values within a tolerance of the reference's dtype (scaled)."""
    want = np.asarray(want)
    tol = tol or (1e-4 if want.dtype == np.float32 else 1e-8)
    if not isinstance(got, np.ndarray) or got.shape != want.shape:
        return False
    scale = max(float(np.max(np.abs(want), initial=0)), 1e-12)
    return float(np.max(np.abs(got.astype(np.float64) - want), initial=0)) <= tol * scale


class Verdict(Exception):
    """Raised by a check with the one-line message the student sees."""


def expect_array(label, got, want, where, dtype=True):
    """Shape, dtype, values; raises Verdict on shape or dtype, returns whether values agree."""
    if not isinstance(got, np.ndarray):
        raise Verdict(f"{label} must return a numpy array; got {type(got).__name__} {where}")
    if got.shape != want.shape:
        raise Verdict(f"{label} returned shape {got.shape} {where}; "
                      f"the shape should be {want.shape}")
    if dtype and got.dtype != want.dtype:
        raise Verdict(f"{label} returned dtype {got.dtype} {where}; the result should keep "
                      f"the inputs' dtype, {want.dtype}")
    return close(got, want)


def value(label, record):
    """The student's value of one case, or a Verdict naming the error and the case."""
    case = str(record.get("case", "?"))
    where = case if case.startswith("(") else f"(case {case})"
    if "error" in record:
        text = str(record["error"])
        if text.startswith("KeyboardInterrupt"):
            text = "it was interrupted: it ran past the time limit (an endless loop?)"
        elif text.startswith("MemoryError"):
            text = "it ran out of memory (the grader allows a few GB)"
        raise Verdict(f"{label} raised {text} {where}")
    if record.get("modified_input"):
        raise Verdict(f"{label} modified its input {where}: return a new array instead")
    return decode(record.get("value"))


# the parts each submission passed (by its seed), for parts that count only with others
_PASSED: dict[int, set] = {}


def verdict(grade_id: str, records: list, seed: int) -> str | None:
    """None if the part passes, else the message; any malformed record fails the part."""
    message = _verdict(grade_id, records, seed)
    while len(_PASSED) > 64:
        _PASSED.pop(next(iter(_PASSED)))
    if message is None:
        _PASSED.setdefault(seed, set()).add(grade_id)
    return message


def _verdict(grade_id: str, records: list, seed: int) -> str | None:
    assignment = grade_id.split("-")[0]
    module = importlib.import_module(f"grading.checks.{assignment}")
    missing = [p for p in getattr(module, "REQUIRES", {}).get(grade_id, ())
               if p not in _PASSED.get(seed, set())]
    if missing:
        return (f"this part counts only with the parts it is built on passed: "
                f"{', '.join(missing)} did not pass")
    plan = importlib.import_module(f"convgrade.{assignment}").plan(grade_id, seed)
    if len(records) == 1 and records[0].get("case") == "setup":
        return f"the hidden tests could not run: {records[0].get('error')}"
    if len(records) != len(plan):
        return "the hidden tests did not complete (the cell stopped before every case ran)"
    try:
        for (label, name, args), record in zip(plan, records, strict=True):
            if record.get("case") != label:
                return "the hidden tests' results are out of order (tampered with?)"
            module.check(grade_id, name, label, args, record)
    except Verdict as exc:
        return str(exc)
    except Malformed as exc:
        return f"the hidden tests' results are malformed ({exc})"
    return None


# References written from the definitions (loops), shared by the assignments' checks.
def windows_loops(q_bar, f, s):
    n_b, ch_in, H, W_ = q_bar.shape
    ho, wo = (H - f) // s + 1, (W_ - f) // s + 1
    out = np.zeros((n_b * ho * wo, ch_in * f * f), dtype=q_bar.dtype)
    for n in range(n_b):
        for i in range(ho):
            for j in range(wo):
                out[(n * ho + i) * wo + j] = q_bar[n, :, i * s:i * s + f, j * s:j * s + f].ravel()
    return out


def col2im_loops(cols, shape, f, s, add=True):
    n_b, ch_in, H, W_ = shape
    ho, wo = (H - f) // s + 1, (W_ - f) // s + 1
    out = np.zeros(shape, dtype=cols.dtype)
    for n in range(n_b):
        for i in range(ho):
            for j in range(wo):
                block = cols[(n * ho + i) * wo + j].reshape(ch_in, f, f)
                if add:
                    out[n, :, i * s:i * s + f, j * s:j * s + f] += block
                else:
                    out[n, :, i * s:i * s + f, j * s:j * s + f] = block
    return out


def check_im2col(got, q_bar, f, s, where):
    """The verdict on a student's window matrix (rows (n, i, j), columns (mu, a, b))."""
    want = windows_loops(q_bar, f, s)
    if not expect_array("im2col", got, want, where):
        if np.array_equal(np.sort(got, axis=None), np.sort(want, axis=None)):
            raise Verdict(f"im2col holds the right values in the wrong order {where}: "
                          "rows are (n, i, j), columns (mu, a, b)")
        raise Verdict(f"im2col reads the wrong pixels {where}")
