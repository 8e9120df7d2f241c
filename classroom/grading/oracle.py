"""The trusted side of the kernel's proxies (kit/convgrade/oracle.py): it alone holds secrets.

`start(run_folder, seed)` makes a folder ``oracle`` in the sandbox's run folder and a thread
that answers the kernel's requests there; the secret is drawn here (`secrets`), never passed to
the kernel, and the checks find it again by the submission's seed (`for_seed`) at verdict time.
Requests are untrusted files: opened without following links, regular files only, capped in
size and number, loaded without pickle, their arrays checked before anything is computed.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import stat
import threading
import time
import zipfile
from pathlib import Path

import numpy as np

MAX_BYTES = 4 * 2**20  # (the run folder is a 16 MB tmpfs as root)
MAX_REQUESTS = 200_000
MAX_MATRIX = 4 * 10**6
MAX_CACHED = 2 * 10**7  # numbers held for one submission's stand-ins (160 MB)
_NAME = re.compile(r"req-([0-9a-f]{24})\.npz")
_ORACLES: dict[int, Oracle] = {}

A2_VARIANTS = ("right", "dq", "dW", "db")
A2_RUNS = 6  # convgrade.a2.RUNS
A3_VARIANTS = ("adjoint", "assigning")
A3_RUNS = 8  # len(convgrade.a3.ADJOINT)
A2_NUM_SHAPES = ((2, 3, 4), (5,), (3, 4))  # convgrade.a2.NUM_CASES


class Refused(ValueError):
    pass


def for_seed(seed: int) -> Oracle:
    """The oracle of the submission graded with this seed (KeyError if none ran)."""
    return _ORACLES[int(seed)]


TRUSTED_WINDOWS = ("a3-fwd-tests", "a3-back-tests")


class Oracle:
    def __init__(self, seed: int):
        self.seed = int(seed)
        self.key = [int.from_bytes(secrets.token_bytes(4), "little") for _ in range(4)]
        # each variant at least once, in an order (and with extras) drawn from the secret: a
        # guess of the whole sequence is right once in hundreds
        rng = self.rng("order")
        a2 = list(A2_VARIANTS) + [A2_VARIANTS[i] for i in rng.integers(0, 4, A2_RUNS - 4)]
        self.a2_variants = tuple(a2[i] for i in rng.permutation(A2_RUNS))
        a3 = ["adjoint", "assigning"] + [A3_VARIANTS[i] for i in rng.integers(0, 2, A3_RUNS - 2)]
        self.a3_variants = tuple(a3[i] for i in rng.permutation(A3_RUNS))
        self.requests = 0
        self.active = ""  # the grade_id of the cell running now (set by sealed.SealedExecute)
        self.mats: dict = {}
        self.index: dict = {}
        self.cached = 0

    def rng(self, *tags):
        words = [t if isinstance(t, int) else sum(map(ord, t)) * 7919 + len(t) for t in tags]
        return np.random.default_rng([*self.key, *words])

    # assignment 2, part 6: the loss sum(c x^3), c secret (one c per case of NUM_CASES)
    def cubic_c(self, case: int) -> np.ndarray:
        shape = A2_NUM_SHAPES[case]
        rng = self.rng("cubic", case)
        return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)

    # assignment 2, part 7: the stand-in layer z[n] = (A q[n]) * (B w) + C b, with b of the
    # shape of one output image (the untied bias of a2)
    def _mat(self, run, tag, rows_shape, cols):
        key = (run, tag, tuple(int(n) for n in rows_shape), int(cols))
        if key not in self.mats:
            rows = int(np.prod(key[2]))
            self.cached += rows * cols
            if rows * cols > MAX_MATRIX or self.cached > MAX_CACHED:
                raise Refused("the layer of gradient_check is far larger than the part asks")
            self.mats[key] = self.rng("mat", run, tag, cols, *key[2]).normal(
                size=(rows, cols)) / np.sqrt(max(cols, 1))
        return self.mats[key]

    def _parts(self, run, q_shape, W_shape, z_shape):
        # matrices of their own in each run: no run's answers can be compared with another's
        return (self._mat(run, 1, z_shape, int(np.prod(q_shape[1:]))),
                self._mat(run, 2, z_shape, int(np.prod(W_shape))),
                self._mat(run, 3, z_shape, int(np.prod(z_shape))))

    def a2_call(self, kind, run, a):
        wrong = self.a2_variants[run] == kind
        if kind == "fwd":
            q, W, z_shape = _f64(a["q"], 4), _f64(a["W"], 4), _shape(a["z_shape"], 3)
            if len(q) * int(np.prod(z_shape)) > MAX_MATRIX:  # the answer's size
                raise Refused("the layer of gradient_check is far larger than the part asks")
            A, B, C = self._parts(run, q.shape, W.shape, z_shape)
            out = (q.reshape(len(q), -1) @ A.T) * (B @ W.ravel())
            if "b" in a:
                b = _f64(a["b"], None)
                if b.shape != z_shape:
                    raise Refused(f"b must have the shape {z_shape} of one output image (the "
                                  f"untied bias), not {b.shape}")
                out = out + C @ b.ravel()
            return out
        dz = _f64(a["dz"], 4)
        g = dz.reshape(len(dz), -1)
        if kind == "db":
            C = self._mat(run, 3, dz.shape[1:], int(np.prod(dz.shape[1:])))
            return ((g.mean(axis=0) if wrong else g.sum(axis=0)) @ C).reshape(dz.shape[1:])
        q, W = _f64(a["q"], 4), _f64(a["W"], 4)
        if len(q) != len(dz):
            raise Refused("q and dz hold different batches")
        A, B, _ = self._parts(run, q.shape, W.shape, dz.shape[1:])
        if kind == "dq":
            dq = (g * (B @ W.ravel())) @ A
            if wrong:  # shifted by one pixel, as a wrongly split padding shifts dq
                dq = np.roll(dq.reshape(len(q), q.shape[1], -1), 1, axis=-1)
            return dq.reshape(q.shape)
        u = q.reshape(len(g), -1) @ A.T
        if wrong:  # the last image only
            g, u = g[-1:], u[-1:]
        return (np.sum(g * u, axis=0) @ B).reshape(W.shape)

    # assignment 3, adjoint_test: a gather from secret positions and its scatter
    def _index(self, run, shape, f, s, pads):
        key = (run, shape, f, s, pads)
        if key not in self.index:
            rows, cols = _a3_size(shape, f, s, pads)
            self.cached += rows * cols
            if rows * cols > MAX_MATRIX or self.cached > MAX_CACHED:
                raise Refused("the shape given to im2col is far larger than the part asks")
            sides = (p + 10**4 for p in (*pads[0], *pads[1]))  # (seed words are >= 0)
            rng = self.rng("gather", run, *f, *s, *sides, *shape)
            self.index[key] = rng.integers(0, int(np.prod(shape)), size=(rows, cols))
        return self.index[key]

    # assignment 3, the layer's part: the true window matrix (NHWC) and its adjoint
    def _windows(self, shape, f, s, pads):
        key = ("windows", shape, f, s, pads)
        if key not in self.index:
            rows, cols = _a3_size(shape, f, s, pads)
            self.cached += rows * cols
            if rows * cols > MAX_MATRIX or self.cached > MAX_CACHED:
                raise Refused("the shape given to im2col is far larger than the part asks")
            self.index[key] = a3_window_index(shape, f, s, pads)
        return self.index[key]

    def a3_call(self, kind, a):
        f, s, pads = _pair(a["f"]), _pair(a["s"]), _pads(a["pads"])
        if kind in ("gather", "im2col"):
            x = _num(a["x"], 4)
            shape = tuple(int(n) for n in x.shape)
            if kind == "gather":
                return x.reshape(-1)[self._index(_run(a), shape, f, s, pads)]
            index = self._windows(shape, f, s, pads)
            return np.where(index >= 0, x.reshape(-1)[np.maximum(index, 0)], 0).astype(x.dtype)
        shape = _shape(a["shape"], 4)
        cols = _num(a["cols"], None)
        size = int(np.prod(shape))
        if kind == "col2im":
            index = self._windows(shape, f, s, pads)
            if cols.shape != index.shape:
                raise Refused(f"col2im was given an array of shape {cols.shape}; im2col "
                              f"gives {index.shape}")
            keep = index >= 0
            out = np.bincount(index[keep], weights=cols[keep].astype(np.float64),
                              minlength=size)
            return out.astype(cols.dtype).reshape(shape)
        run = _run(a)
        index = self._index(run, shape, f, s, pads)
        if cols.size != index.size:
            raise Refused(f"col2im was given {cols.size} numbers, im2col gives {index.size}")
        if self.a3_variants[run] == "assigning":
            out = np.zeros(size, dtype=cols.dtype)
            out[index.reshape(-1)] = cols.reshape(-1)
            return out.reshape(shape)
        out = np.bincount(index.reshape(-1), weights=cols.reshape(-1).astype(np.float64),
                          minlength=size)
        return out.astype(cols.dtype).reshape(shape)

    def answer(self, a) -> np.ndarray:
        self.requests += 1
        if self.requests > MAX_REQUESTS:
            raise Refused("too many calls of the grader's stand-ins")
        kind = str(a["kind"]) if a["kind"].dtype.kind == "U" and a["kind"].shape == () else ""
        if kind == "cubic":
            case = _int(a["case"])
            if case not in range(len(A2_NUM_SHAPES)):
                raise Refused("no such loss")
            c = self.cubic_c(case)
            x = _f64(a["x"], None)
            if x.shape != c.shape:
                raise Refused(f"the loss takes an x of shape {c.shape}, not {x.shape}")
            return np.array(float(np.sum(c * x ** 3)))
        if kind in ("fwd", "dq", "dW", "db"):
            return self.a2_call(kind, _run(a), a)
        if kind in ("im2col", "col2im") and self.active not in TRUSTED_WINDOWS:
            # the true window matrices are a3's parts 1-2: handed out only to the trusted
            # stand-ins of the layer's parts, never to a solution cell or another part
            raise Refused(f"{kind} is answered only while the grouped layer is graded")
        if kind in ("gather", "scatter", "im2col", "col2im"):
            return self.a3_call(kind, a)
        raise Refused("unknown request")


def _run(a):
    run = _int(a["run"])
    if not 0 <= run < max(A2_RUNS, A3_RUNS):
        raise Refused("no such run")
    return run


def _pair(v):
    v = np.asarray(v)
    if v.shape != (2,) or v.dtype.kind not in "iu" or np.any(v < 1) or np.any(v > 10**4):
        raise Refused("expected a pair of positive integers")
    return (int(v[0]), int(v[1]))


def _pads(v):
    v = np.asarray(v)
    if v.shape != (2, 2) or v.dtype.kind not in "iu" or np.any(np.abs(v) > 10**4):
        raise Refused("expected pads ((top, bottom), (left, right))")
    return ((int(v[0, 0]), int(v[0, 1])), (int(v[1, 0]), int(v[1, 1])))


def _a3_size(shape, f, s, pads):
    """(rows, columns) of the NHWC window matrix of an input of `shape`, or Refused."""
    n_b, h_in, w_in, ch = shape
    (t, b), (l_, r) = pads
    h_bar, w_bar = h_in + t + b, w_in + l_ + r
    if min(shape) < 1 or min(h_in - max(-t, 0) - max(-b, 0),
                             w_in - max(-l_, 0) - max(-r, 0)) < 1:
        raise Refused("im2col was given pads that crop the whole input")
    if not (1 <= f[0] <= h_bar and 1 <= f[1] <= w_bar):
        raise Refused("im2col was given a filter larger than the padded input")
    if n_b * h_in * w_in * ch > MAX_MATRIX:  # the scatter's answer has this size
        raise Refused("the shape given to im2col is far larger than the part asks")
    return (n_b * ((h_bar - f[0]) // s[0] + 1) * ((w_bar - f[1]) // s[1] + 1),
            f[0] * f[1] * ch)


def a3_window_index(shape, f, s, pads):
    """Flat index into q (NHWC) of every entry of the window matrix, rows (n, i, j), columns
    (a, b, mu); -1 where it falls on padding (checks.a3.window_index, without loops)."""
    n_b, h_in, w_in, ch = shape
    (t, b), (l_, r) = pads
    h_out = (h_in + t + b - f[0]) // s[0] + 1
    w_out = (w_in + l_ + r - f[1]) // s[1] + 1
    x = (s[0] * np.arange(h_out)[:, None] + np.arange(f[0])[None, :] - t)  # (i, a)
    y = (s[1] * np.arange(w_out)[:, None] + np.arange(f[1])[None, :] - l_)  # (j, b)
    n = np.arange(n_b)[:, None, None, None, None, None]
    X = x[None, :, None, :, None, None]
    Y = y[None, None, :, None, :, None]
    mu = np.arange(ch)[None, None, None, None, None, :]
    index = ((n * h_in + X) * w_in + Y) * ch + mu
    inside = (X >= 0) & (X < h_in) & (Y >= 0) & (Y < w_in)
    return np.where(inside, index, -1).reshape(n_b * h_out * w_out, f[0] * f[1] * ch)


def _int(v):
    v = np.asarray(v)
    if v.shape != () or v.dtype.kind not in "iu":
        raise Refused("expected an integer")
    return int(v)


def _shape(v, ndim):
    v = np.asarray(v)
    if v.shape != (ndim,) or v.dtype.kind not in "iu" or np.any(v < 1) or np.any(v > 10**5):
        raise Refused("bad shape")
    return tuple(int(n) for n in v)


def _num(v, ndim):
    v = np.asarray(v)
    if v.dtype.kind not in "biuf" or v.dtype.itemsize > 8 or (
            ndim is not None and v.ndim != ndim) or v.size > 4 * 10**6:
        raise Refused("expected a numeric array" + (f" of {ndim} dimensions" if ndim else ""))
    return v


def _f64(v, ndim):
    return _num(v, ndim).astype(np.float64)


class Server:
    """The thread that answers the kernel's requests in `folder`."""

    def __init__(self, run_folder: Path, seed: int):
        self.folder = Path(run_folder) / "oracle"
        self.folder.mkdir(mode=0o700)
        self.oracle = Oracle(seed)
        while len(_ORACLES) > 32:
            _ORACLES.pop(next(iter(_ORACLES)))
        _ORACLES[self.oracle.seed] = self.oracle
        # every open, unlink and rename goes through this descriptor: a kernel that renames
        # the folder and leaves a symlink in its place moves nothing of ours elsewhere
        self._dir = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        self._failed: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="convgrade-oracle")
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            os.close(self._dir)

    def _serve(self):
        idle = 0.0002
        while not self._stop.is_set():
            try:
                names = os.listdir(self._dir)
            except OSError:
                return
            done = 0
            for name in names:
                m = _NAME.fullmatch(name)
                if m and m.group(1) not in self._failed:
                    self.oracle.requests += 1  # every attempt counts, answered or not
                    if self.oracle.requests > MAX_REQUESTS:
                        return
                    try:
                        self._one(m.group(1))
                    except Exception:  # noqa: BLE001 (never let one request end the thread)
                        self._failed.add(m.group(1))
                    done += 1
            if done:
                idle = 0.0002
            else:
                time.sleep(idle)
                idle = min(idle * 1.5, 0.002)

    def _read(self, name):
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=self._dir)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
                raise Refused("not a request")
            chunks, size = [], 0
            while size <= MAX_BYTES:
                chunk = os.read(fd, 2**20)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if size > MAX_BYTES:
                raise Refused("request too large")
            return b"".join(chunks)
        finally:
            os.close(fd)

    def _one(self, token):
        name = f"req-{token}.npz"
        try:
            data = self._read(name)
            with zipfile.ZipFile(io.BytesIO(data)) as archive:  # sizes before decompressing
                entries = archive.infolist()
                if len(entries) > 8 or sum(e.file_size for e in entries) > MAX_BYTES:
                    raise Refused("request too large")
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            if "kind" not in arrays:
                raise Refused("no kind")
            answer = np.asarray(self.oracle.answer(arrays))
            if answer.nbytes > MAX_BYTES:
                raise Refused("the answer would be far larger than the part needs")
        except Exception as exc:  # noqa: BLE001 (a bad request gets an error answer)
            text = str(exc) if isinstance(exc, Refused) else f"bad request ({type(exc).__name__})"
            answer = np.array(text[:200])
        finally:
            try:
                os.unlink(name, dir_fd=self._dir)
            except OSError:
                pass
        buf = io.BytesIO()
        np.save(buf, answer, allow_pickle=False)
        tmp = f".answer-{token}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600,
                         dir_fd=self._dir)
            try:
                out = memoryview(buf.getvalue())
                while out:
                    out = out[os.write(fd, out):]
            finally:
                os.close(fd)
            os.rename(tmp, f"resp-{token}.npy", src_dir_fd=self._dir, dst_dir_fd=self._dir)
        except OSError:
            pass


def start(run_folder: Path, seed: int) -> Server:
    return Server(run_folder, seed)
