"""Inside the sealed kernel: proxies whose calls the trusted grader answers (`grading.oracle`).

Some hidden cases hand the student's code functions whose secret (a loss's coefficients, which
stand-in gradient is wrong in which run) must not be in this process, where anything can be
inspected. Each call is sent as a request file to the folder ``CONVGRADE_ORACLE`` (arrays in an
.npz, no pickle) and the trusted process answers with an .npy; nothing here knows the answer.
"""

from __future__ import annotations

import io
import os
import time

import numpy as np

WAIT = 20.0  # seconds for one answer


def ask(kind: str, **arrays) -> np.ndarray:
    """The trusted oracle's answer to `kind` with these arrays (raises its error)."""
    folder = os.environ.get("CONVGRADE_ORACLE", "")
    if not folder:
        raise RuntimeError("the grader's oracle is not available")
    token = os.urandom(12).hex()
    buf = io.BytesIO()
    np.savez(buf, kind=np.array(kind), **{k: np.asarray(v) for k, v in arrays.items()})
    tmp = os.path.join(folder, f"tmp-{token}")
    with open(tmp, "wb") as out:
        out.write(buf.getvalue())
    os.rename(tmp, os.path.join(folder, f"req-{token}.npz"))
    resp = os.path.join(folder, f"resp-{token}.npy")
    deadline, pause = time.monotonic() + WAIT, 0.0002
    while not os.path.exists(resp):
        if time.monotonic() > deadline:
            raise TimeoutError("the grader's oracle did not answer")
        time.sleep(pause)
        pause = min(pause * 1.5, 0.002)
    answer = np.load(resp, allow_pickle=False)
    os.unlink(resp)
    if answer.dtype.kind == "U":
        raise ValueError(str(answer))
    return answer
