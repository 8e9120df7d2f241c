"""Speed and memory of convlib's convolutional layer, against PyTorch and a BLAS ceiling.

Run from the repository root (``make bench`` does this)::

    .venv/bin/python benchmarks/bench_conv.py                 # full run, about 20 minutes
    .venv/bin/python benchmarks/bench_conv.py --quick         # smoke test, under a minute
    .venv/bin/python benchmarks/bench_conv.py --cases b,c --dtypes float64 --threads 1

Speed section: for the layer shapes (a)-(d) ("same" output), in float32 and float64, one
run times ``conv_forward``, ``conv_backward`` and the two in a row (a training step); the
literal loops ``conv_forward_naive`` / ``conv_backward_naive`` on a reduced layer (one image,
a few output channels; their cost is proportional to ``n_b ch_out``, so the JSON stores the
scale factor to the full layer); both routes to ``dq`` (``dq_route="gather"`` and
``"scatter"``) and a step that reuses the forward's windows (``keep=``/``windows=``, as
``nn.Conv2d``); the ceiling, convlib's own matrix products alone (``gemm_*``: same chunks,
same calls, operands laid out beforehand); numpy matmuls of the same flops over the whole
batch (``matmul_*``, for reference); and ``torch.nn.functional.conv2d`` forward and forward +
autograd backward when torch is importable. numpy's BLAS, PyTorch and convlib all run on
``--threads`` threads.

Timing: ``timeit.Timer(fn).autorange()`` fixes, once per candidate, the number ``k`` of calls
in a block. Then for ``--rounds`` rounds every candidate runs one block of ``k`` calls, with
a pause between blocks (worker threads of OpenMP and OpenBLAS keep spinning a while after a
call, and would take the cores from the next candidate) and the order of the candidates
rotated every round, so that load from other processes hits all alike. The median per call
over the rounds is the number to read.

Memory section: tracemalloc peak of ``conv_forward`` and ``conv_backward`` on one large
image, and its dependence on the ``workspace=`` argument. Stride section: an 8 x 8 image
with s = 2000 and 4000. Threads section: case (b) with convlib's ``threads=`` at 1 and 2.

Only raw numbers go to ``benchmarks/results/bench.json`` (seconds, flops, shapes, bytes);
ratios are printed, and derived again by whoever reads the JSON. See
``benchmarks/README.md`` for every field.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit
import tracemalloc
from pathlib import Path

import numpy as np
import threadpoolctl
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a clone without the editable install
    sys.path.insert(0, str(ROOT))

import convlib as cl  # noqa: E402

SCHEMA = "convlib-bench/3"
DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "bench.json"

# The layer shapes: name -> (n_b, ch_in, ch_out, h_in (= w_in), f, s); output always "same".
CASES = {
    "a": (64, 1, 8, 28, 3, 1),
    "b": (64, 16, 32, 28, 3, 1),
    "c": (32, 32, 64, 32, 5, 2),
    "d": (128, 3, 16, 32, 3, 1),
    "e": (64, 32, 16, 28, 3, 1),  # narrowing (ch_out < ch_in), s = 1: dq by the gather route
}
H_OUT = "same"

# Targets of issues 8 and 16 (constants, printed as met / not met; the JSON stores them as
# given).
TARGETS = {
    "torch_ratio_geomean_max": {"float64": 1.0, "float32": 1.5},  # fwd+bwd convlib / torch
    "torch_ratio_cases": ["a", "b", "c", "d"],  # ... geometric mean over these cases
    "gemm_ratio_max": 1.6,  # convlib f+b time / time of its three GEMMs alone ...
    "gemm_ratio_cases": ["b", "c", "d"],  # ... on these cases, both dtypes
    "memory_peak_over_input_max": 4.0,  # tracemalloc peak / bytes of q, forward and backward
    "stride_seconds_max": 1.0,  # forward + backward, 8 x 8 image, s = 2000 and 4000
}

# Settings of a full run and of --quick.
FULL = {
    "rounds": 15,
    "pause": 0.2,
    "block": 0.2,
    "naive_budget": 200_000,
    "memory_size": 2048,
    "workspace_series": [2**k for k in (20, 21, 22, 24, 26, 28)],  # bytes: 1 MiB ... 256 MiB
    "chunk_series": [2**k for k in (20, 22, 24, 26, 28)],  # bytes: 1 MiB ... 256 MiB
    "stride_cap": 10.0,
}
QUICK = {
    "rounds": 2,
    "pause": 0.05,
    "block": 0.05,
    "naive_budget": 20_000,
    "memory_size": 2048,
    "workspace_series": [2**22],
    "chunk_series": [],
    "stride_cap": 2.0,
}
BUSY_LOAD = 1.0  # 1-minute load average at the start from which the report warns
AUTORANGE_SECONDS = 0.2  # timeit.Timer.autorange calls until the calls last this long
MEMORY_F = 7
MEMORY_GOAL_SIZE = 2048  # the goal of issue 8 point 1 is stated for this image
STRIDE_IMAGE, STRIDE_F, STRIDE_S = 8, 3, (2000, 4000)
THREAD_COUNTS = (1, 2)


# --------------------------------------------------------------------------- convlib


def geometry(h_in: int, w_in: int, f: int, s: int, h_out=H_OUT):
    """``(h_out, w_out), ((top, bottom), (left, right))`` from ``convlib.layer_geometry``."""
    L = cl.layer_geometry(h_in, w_in, f, s, h_out)
    return (L.h_out, L.w_out), tuple(tuple(p) for p in L.pads)


def convlib_defaults() -> dict:
    """convlib's chunking settings (``convlib.chunks``): ``WORKSPACE``, bytes of window
    matrices alive at once; ``CHUNK``, target bytes of one chunk's window matrix;
    ``THREADS``, the default thread count (None: the usable cores)."""
    return {k: getattr(cl.chunks, k) for k in ("WORKSPACE", "CHUNK", "THREADS")}


# --------------------------------------------------------------------------- pure helpers


def im2col_shapes(n_b, ch_in, ch_out, h_out, w_out, f) -> dict:
    """``M, K, N`` of the im2col products: ``M`` output pixels of the batch, ``K = ch_in f^2``
    rows of the window matrix ``U``, ``N = ch_out`` filters."""
    return {"M": n_b * h_out * w_out, "K": ch_in * f * f, "N": ch_out}


def flop_counts(M: int, K: int, N: int) -> dict:
    """Flops of the im2col products, a multiply-add counted as 2 (bias and copies not counted).

    In convlib's layout (``U`` of shape ``(K, M)``, eq. 34): forward ``F^T U``,
    ``(N, K) x (K, M)``; backward ``dF = U dZ^T``, ``(K, M) x (M, N)``, and the windows'
    gradient ``dU = F dZ``, ``(K, N) x (N, M)``, scattered into ``dq``.
    """
    one = 2 * M * K * N
    return {"forward": one, "backward": 2 * one, "forward_backward": 3 * one}


def naive_plan(n_b, ch_in, ch_out, h_out, w_out, f, budget) -> tuple[int, float]:
    """How much of the layer the naive loops run: 1 image and ``k`` output channels.

    ``k`` is the largest count whose forward loop makes at most ``budget`` inner iterations
    (at least 1). Returns ``(k, scale)``, ``scale = n_b ch_out / k``: in both loops every
    pair of image and output channel costs the same iterations (eq. 6 forward; eqs. 14, 16
    and 29 backward), so their time is proportional to ``n_b ch_out``.
    """
    per_channel = h_out * w_out * ch_in * f * f
    k = int(max(1, min(ch_out, budget // per_channel)))
    return k, n_b * ch_out / k


def calls_per_block(fn, block: float) -> int:
    """Calls in one block: ``timeit``'s autorange (>= 0.2 s), scaled to ``block`` seconds.

    One call first, as a warm-up (first calls allocate, build kernels, start thread pools).
    A warm-up call of 0.2 s or more means one call per block, as autorange would say.
    """
    t0 = time.perf_counter()
    fn()
    if time.perf_counter() - t0 >= AUTORANGE_SECONDS:
        return 1
    number, taken = timeit.Timer(fn).autorange()
    per_call = taken / number
    return max(1, round(block / per_call)) if per_call > 0 else number


def time_blocks(candidates: dict, rounds: int, pause: float, block: float) -> dict:
    """Seconds per call of each candidate, timed in rotated blocks of calls.

    ``k`` calls per block is fixed per candidate by :func:`calls_per_block`. Each round runs
    one block of every candidate, in an order rotated by one each round, with ``pause``
    seconds of sleep before every block. Returns, per candidate, the median, min and max
    over the rounds of (block time / k), the per-round values, the rounds, ``k`` and the
    median CPU time of the process per call (all threads added up).
    """
    names = list(candidates)
    k = {n: calls_per_block(candidates[n], block) for n in names}
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        shift = r % len(names)
        for n in names[shift:] + names[:shift]:
            time.sleep(pause)
            c0 = time.process_time()
            t = timeit.Timer(candidates[n]).timeit(number=k[n])
            cpu[n].append((time.process_time() - c0) / k[n])
            wall[n].append(t / k[n])
    return {
        n: {
            "median": statistics.median(v),
            "min": min(v),
            "max": max(v),
            "rounds": len(v),
            "calls_per_block": k[n],
            "per_round": v,
            "cpu_median": statistics.median(cpu[n]),
        }
        for n, v in wall.items()
    }


def geomean(xs) -> float:
    xs = list(xs)
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


# --------------------------------------------------------------------------- machine info


# What the JSON keeps of threadpoolctl's report (no file paths), and of the environment.
POOL_KEYS = (
    "user_api internal_api prefix version num_threads threading_layer architecture"
).split()
ENV_KEYS = ["OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _loadavg():
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def source_info() -> dict:
    """The commit of this repository the run measured, and whether files were modified."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "convlib", "benchmarks"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "modified": None}
    return {"commit": head, "modified": bool(status.strip())}


def machine_info(torch_mod) -> dict:
    pools = [{k: info.get(k) for k in POOL_KEYS} for info in threadpool_info()]
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable_cores(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": getattr(torch_mod, "__version__", None),
        "threadpoolctl": threadpoolctl.__version__,
        "threadpools": pools,
        "env": {k: os.environ.get(k) for k in ENV_KEYS},
        "loadavg_start": _loadavg(),
        "date_utc_start": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def import_torch(wanted: bool):
    if not wanted:
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


# --------------------------------------------------------------------------- speed section


def torch_candidates(torch, q, W, b, dz, s, pads) -> tuple[dict, dict]:
    """PyTorch forward and forward + autograd backward on the same inputs as convlib.

    The weight is ``W.transpose(1, 0, 2, 3)`` (PyTorch's ``(ch_out, ch_in, f, f)``). Equal
    padding on both sides goes to conv2d's ``padding=``; otherwise the input is padded with
    ``torch.nn.functional.pad`` first, inside the timed call.
    """
    F = torch.nn.functional
    (top, bottom), (left, right) = pads
    qt = torch.from_numpy(np.ascontiguousarray(q))
    Wt = torch.from_numpy(np.ascontiguousarray(W.transpose(1, 0, 2, 3)))
    bt = torch.from_numpy(np.ascontiguousarray(b))
    dzt = torch.from_numpy(np.ascontiguousarray(dz))
    symmetric = top == bottom and left == right and min(top, left) >= 0

    def conv(x, w, bias):
        if symmetric:
            return F.conv2d(x, w, bias, stride=s, padding=(top, left))
        return F.conv2d(F.pad(x, (left, right, top, bottom)), w, bias, stride=s)

    qg, Wg, bg = (t.clone().requires_grad_(True) for t in (qt, Wt, bt))

    def forward():
        with torch.no_grad():
            return conv(qt, Wt, bt)

    def forward_backward():
        for t in (qg, Wg, bg):
            t.grad = None
        conv(qg, Wg, bg).backward(dzt)

    # Agreement with convlib on these inputs (max abs differences; raw, not a verdict).
    forward_backward()
    z = forward().numpy()
    z_cl = cl.conv_forward(q, W, b, s, H_OUT)
    dq, dW, db = cl.conv_backward(dz, q, W, s, H_OUT)
    diffs = {
        "z": float(np.max(np.abs(z - z_cl))),
        "dq": float(np.max(np.abs(qg.grad.numpy() - dq))),
        "dW": float(np.max(np.abs(Wg.grad.numpy().transpose(1, 0, 2, 3) - dW))),
        "db": float(np.max(np.abs(bg.grad.numpy() - db))),
    }
    info = {
        "version": torch.__version__,
        "num_threads": torch.get_num_threads(),
        "num_interop_threads": torch.get_num_interop_threads(),
        "padding": "conv2d padding=" if symmetric else "F.pad inside the timed call",
        "max_abs_diff_vs_convlib": diffs,
    }
    return {"torch_forward": forward, "torch_forward_backward": forward_backward}, info


def gemm_candidates(q, W, dz, s, threads) -> tuple[dict, dict]:
    """convlib's own matrix products alone: the ceiling of its time.

    Every operand is laid out beforehand, chunk by chunk as ``convlib.chunks.plan`` cuts the
    layer (the window matrices ``U`` of eq. 34, and for the gather route the windows ``V`` of
    ``dz_bar``); the timed calls run only the products, on convlib's thread pool with a
    one-thread BLAS, exactly as ``conv_forward`` / ``conv_backward`` call them: forward
    ``Z = F^T U``; backward ``dF = U dZ^T`` and either ``dU = F dZ`` (scatter) or ``dQ = R V``
    (gather), by the route ``convlib.backward.choose_dq_route`` takes. Nothing is gathered,
    scattered or added: the remaining time of convlib is that work.
    """
    layer = cl.prepare(q, W, None, s, H_OUT)[3]
    route = cl.backward.choose_dq_route(layer)
    K, N = layer.ch_in * layer.f**2, layer.ch_out
    Ft = np.ascontiguousarray(cl.forward.filter_matrix(W).T)
    F = np.ascontiguousarray(cl.forward.filter_matrix(W))
    z = np.empty((layer.n_b, N, layer.h_out, layer.w_out), dtype=q.dtype)

    def blocks(g, x, f, s_, pads, rows):
        parts, _ = cl.chunks.plan(g, x.dtype.itemsize)
        out = {}
        for c in parts:
            P = (c.i1 - c.i0) * g.w_out
            M = cl.im2col(x[c.n0 : c.n1], f, s_, pads, rows=(c.i0, c.i1))
            out[c] = M.reshape(-1, c.n1 - c.n0, P).transpose(1, 0, 2)
        return out

    U = blocks(layer, q, layer.f, layer.s, layer.pads, None)
    dZ = {c: dz[c.n0 : c.n1, :, c.i0 : c.i1].reshape(c.n1 - c.n0, N, -1) for c in U}
    zv = {c: z[c.n0 : c.n1, :, c.i0 : c.i1].reshape(c.n1 - c.n0, N, -1) for c in U}
    if route == "gather":
        g = cl.backward.gather_geometry(layer)
        dz_hat = cl.dilate(dz, layer.s) if layer.s > 1 else dz
        V = blocks(g, dz_hat, g.f, 1, g.pads, None)
        R = cl.rot180(W).reshape(layer.ch_in, -1)
        dq = np.empty(q.shape, dtype=q.dtype)
        dqv = {c: dq[c.n0 : c.n1, :, c.i0 : c.i1].reshape(c.n1 - c.n0, layer.ch_in, -1)
               for c in V}
    run = cl.chunks.run

    def forward():
        run(lambda c, buf: np.matmul(Ft, U[c], out=zv[c]), layer, q.dtype, threads=threads)

    def backward_work(c, buf):
        Un, dZn = U[c], dZ[c]
        part = Un[0] @ dZn[0].T  # dF = U dZ^T, image by image, as convlib does
        for n in range(1, len(Un)):
            part += Un[n] @ dZn[n].T
        if route == "scatter":
            dU = buf[: Un.size].reshape(Un.shape)
            np.matmul(F, dZn, out=dU)
        return part

    def forward_backward():
        forward()
        run(backward_work, layer, q.dtype, threads=threads)
        if route == "gather":
            run(lambda c, buf: np.matmul(R, V[c], out=dqv[c]), g, q.dtype, threads=threads)

    info = {"dq_route": route, "K": K, "N": N,
            "backward": ["(K, P) x (P, N) per image", "(K, N) x (N, P) per image" if
                         route == "scatter" else "(ch_in, ch_out f^2) x (ch_out f^2, P)"]}
    return {"gemm_forward": forward, "gemm_forward_backward": forward_backward}, info


def bench_case(name, spec, dtype, cfg, rng, torch=None) -> dict:
    """Time every candidate on one layer ``spec = (n_b, ch_in, ch_out, h_in, f, s)``."""
    n_b, ch_in, ch_out, h_in, f, s = spec
    dtype = np.dtype(dtype)
    (ho, wo), pads = geometry(h_in, h_in, f, s)
    q = rng.standard_normal((n_b, ch_in, h_in, h_in)).astype(dtype)
    W = rng.standard_normal((ch_in, ch_out, f, f)).astype(dtype)
    b = rng.standard_normal(ch_out).astype(dtype)
    dz = rng.standard_normal((n_b, ch_out, ho, wo)).astype(dtype)
    shapes = im2col_shapes(n_b, ch_in, ch_out, ho, wo, f)
    M, K, N = shapes["M"], shapes["K"], shapes["N"]
    kw = {"threads": cfg["threads"]}

    # For reference, the same three products as one matmul each over the whole batch (U is
    # (K, M), eq. 34; the filters F are (K, N)), same flops, operands made beforehand, on a
    # T-thread BLAS (a transposed operand is a BLAS flag, not a copy). These are not the
    # products convlib runs: a whole-batch U (tens of MB) streams from memory, while convlib's
    # chunks stay in cache; the ceiling of the targets is gemm_forward_backward.
    U = rng.standard_normal((K, M)).astype(dtype)
    F = rng.standard_normal((K, N)).astype(dtype)
    dZ = rng.standard_normal((N, M)).astype(dtype)

    def matmul_forward():
        return F.T @ U

    def matmul_forward_backward():
        return F.T @ U, U @ dZ.T, F @ dZ

    def forward():
        return cl.conv_forward(q, W, b, s, H_OUT, **kw)

    def backward():
        return cl.conv_backward(dz, q, W, s, H_OUT, **kw)

    def backward_route(route):
        return lambda: cl.conv_backward(dz, q, W, s, H_OUT, dq_route=route, **kw)

    def forward_backward_kept():  # nn.Conv2d's step: the forward's windows reused for dW
        kept = {}
        cl.conv_forward(q, W, b, s, H_OUT, keep=kept, **kw)
        return cl.conv_backward(dz, q, W, s, H_OUT, windows=kept, **kw)

    gemms, gemm_info = gemm_candidates(q, W, dz, s, cfg["threads"])
    cands = {
        "forward": forward,
        "backward": backward,
        "forward_backward": step(q, W, b, dz, s, **kw),
        "forward_backward_kept": forward_backward_kept,
        "backward_gather": backward_route("gather"),
        "backward_scatter": backward_route("scatter"),
        **gemms,
        "matmul_forward": matmul_forward,
        "matmul_forward_backward": matmul_forward_backward,
    }
    naive = None
    if cfg["naive_budget"] > 0:
        k, scale = naive_plan(n_b, ch_in, ch_out, ho, wo, f, cfg["naive_budget"])
        q1, W1, b1, dz1 = q[:1], W[:, :k], b[:k], dz[:1, :k]
        cands["naive_forward"] = lambda: cl.conv_forward_naive(q1, W1, b1, s, H_OUT)
        cands["naive_backward"] = lambda: cl.conv_backward_naive(dz1, q1, W1, s, H_OUT)
        naive = {
            "n_b": 1,
            "ch_out": k,
            "scale": scale,
            "what": (
                f"timings naive_forward / naive_backward are of conv_forward_naive / "
                f"conv_backward_naive on q[:1] and W[:, :{k}] (1 image, {k} of {ch_out} output "
                f"channels); the whole layer takes about scale = n_b*ch_out/{k} = {scale:g} "
                "times as long (every image and output channel costs the loops the same)"
            ),
        }
    torch_info = None
    if torch is not None:
        tc, torch_info = torch_candidates(torch, q, W, b, dz, s, pads)
        cands.update(tc)

    timings = time_blocks(cands, cfg["rounds"], cfg["pause"], cfg["block"])
    return {
        "name": name,
        "dtype": dtype.name,
        "n_b": n_b,
        "ch_in": ch_in,
        "ch_out": ch_out,
        "h_in": h_in,
        "w_in": h_in,
        "f": f,
        "s": s,
        "h_out": H_OUT,
        "out_shape": [n_b, ch_out, ho, wo],
        "pads": [list(p) for p in pads],
        "matmul": {
            **shapes,
            "forward": ["(N, K) x (K, M)"],
            "forward_backward": ["(N, K) x (K, M)", "(K, M) x (M, N)", "(K, N) x (N, M)"],
        },
        "flops": flop_counts(M, K, N),
        "gemm": gemm_info,
        "threads": cfg["threads"],
        "convlib_kwargs": sorted(kw),
        "timings": timings,
        "naive": naive,
        "torch": torch_info,
    }


# --------------------------------------------------------------------------- other sections


def traced_peak(fn) -> int:
    """Peak bytes numpy allocated (tracemalloc) during one call of ``fn``, result included."""
    tracemalloc.start()
    try:
        out = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del out
    return int(peak)


def chunk_plan(size: int, itemsize: int, workspace, threads, chunk=None) -> dict:
    """How ``convlib.chunks.plan`` cuts the memory section's layer: ``chunks`` (their number),
    ``chunk_matrix_bytes`` (the largest chunk's window matrix) and ``window_bytes_alive`` (at
    most, with ``threads``)."""
    L = cl.layer_geometry(size, size, MEMORY_F, 1, H_OUT)
    parts, _ = cl.chunks.plan(L, itemsize, workspace, chunk)
    rows = max((c.n1 - c.n0) * (c.i1 - c.i0) for c in parts)
    return {
        "chunks": len(parts),
        "chunk_matrix_bytes": int(rows * L.w_out * L.ch_in * L.f**2 * itemsize),
        "window_bytes_alive": int(cl.chunks.workspace_bytes(L, itemsize, workspace, threads,
                                                            chunk)),
    }


def memory_section(size: int, cfg: dict, rng) -> dict:
    """Traced peak of conv_forward / conv_backward on one size x size float64 image, f = 7.

    Once with convlib's defaults; then for every ``workspace=`` in ``cfg["workspace_series"]``
    (bytes; the chunk is at most ``convlib.chunks.CHUNK``), and for every ``chunk=`` in
    ``cfg["chunk_series"]`` (bytes, with ``workspace = threads x chunk`` so that every thread
    has a chunk): memory and time against chunk size.
    """
    q = rng.standard_normal((1, 1, size, size))
    W = rng.standard_normal((1, 1, MEMORY_F, MEMORY_F))
    b = np.zeros(1)
    dz = rng.standard_normal((1, 1, size, size))  # "same", stride 1: output is size x size
    threads = cfg["threads"]

    def point(workspace=None, chunk=None):
        kw = {"threads": threads, "workspace": workspace, "chunk": chunk}
        fwd = traced_peak(lambda: cl.conv_forward(q, W, b, 1, H_OUT, **kw))
        bwd = traced_peak(lambda: cl.conv_backward(dz, q, W, 1, H_OUT, **kw))
        t0 = time.perf_counter()
        cl.conv_forward(q, W, b, 1, H_OUT, **kw)
        t1 = time.perf_counter()
        cl.conv_backward(dz, q, W, 1, H_OUT, **kw)
        t2 = time.perf_counter()
        return {
            "workspace": workspace,
            "chunk_target": chunk,
            "plan": chunk_plan(size, q.itemsize, workspace, threads, chunk),
            "peak_forward_bytes": fwd,
            "peak_backward_bytes": bwd,
            "seconds_forward": t1 - t0,
            "seconds_backward": t2 - t1,
        }

    out = {
        "shape_q": list(q.shape),
        "shape_W": list(W.shape),
        "h_out": H_OUT,
        "dtype": q.dtype.name,
        "q_bytes": int(q.nbytes),
        "threads": threads,
        "what": "tracemalloc peak of one call (numpy reports its buffers to tracemalloc), "
        "outputs included; seconds: one call each, without tracemalloc",
        "default": point(),
        "workspace_default": convlib_defaults()["WORKSPACE"],
        "chunk_default": convlib_defaults()["CHUNK"],
        "workspace_series": [point(w) for w in cfg["workspace_series"]],
        "chunk_series": [point(workspace=threads * c, chunk=c) for c in cfg["chunk_series"]],
    }
    return out


def stride_section(cap: float, rng) -> dict:
    """Wall time of conv_forward + conv_backward on an 8 x 8 image, f = 3, huge strides.

    ``h_out=1`` explicitly (one window). When one stride takes more than ``cap`` seconds the
    larger ones are skipped (before issue 8, s = 4000 took 46 s and 2.9 GB).
    """
    q = rng.standard_normal((1, 1, STRIDE_IMAGE, STRIDE_IMAGE))
    W = rng.standard_normal((1, 1, STRIDE_F, STRIDE_F))
    b = np.zeros(1)
    dz = rng.standard_normal((1, 1, 1, 1))
    points, skip = [], None
    for s in STRIDE_S:
        if skip is not None:
            points.append({"s": s, "skipped": skip})
            continue
        t0 = time.perf_counter()
        cl.conv_forward(q, W, b, s, 1)
        t1 = time.perf_counter()
        cl.conv_backward(dz, q, W, s, 1)
        t2 = time.perf_counter()
        points.append({"s": s, "seconds_forward": t1 - t0, "seconds_backward": t2 - t1})
        if t2 - t0 > cap:
            skip = f"s={s} took {t2 - t0:.1f} s > cap {cap:g} s"
    return {
        "shape_q": list(q.shape),
        "shape_W": list(W.shape),
        "h_out": 1,
        "dtype": q.dtype.name,
        "what": "one call of conv_forward, then one of conv_backward, wall clock (first call, "
        "nothing cached)",
        "points": points,
    }


def step(q, W, b, dz, s, **kw):
    """One training step of convlib, ``conv_forward`` then ``conv_backward``, as a callable."""

    def run():
        cl.conv_forward(q, W, b, s, H_OUT, **kw)
        return cl.conv_backward(dz, q, W, s, H_OUT, **kw)

    return run


def threads_section(dtypes, cfg, rng) -> dict:
    """Forward + backward of case (b) with convlib's ``threads=`` at 1 and 2."""
    n_b, ch_in, ch_out, h_in, f, s = CASES["b"]
    (ho, wo), _ = geometry(h_in, h_in, f, s)
    out = {"case": "b", "thread_counts": list(THREAD_COUNTS), "results": []}
    for dtype in dtypes:
        q = rng.standard_normal((n_b, ch_in, h_in, h_in)).astype(dtype)
        W = rng.standard_normal((ch_in, ch_out, f, f)).astype(dtype)
        b = rng.standard_normal(ch_out).astype(dtype)
        dz = rng.standard_normal((n_b, ch_out, ho, wo)).astype(dtype)

        cands = {f"threads={t}": step(q, W, b, dz, s, threads=t) for t in THREAD_COUNTS}
        timed = time_blocks(cands, cfg["rounds"], cfg["pause"], cfg["block"])
        for t in THREAD_COUNTS:
            out["results"].append(
                {"dtype": np.dtype(dtype).name, "threads": t, **timed[f"threads={t}"]}
            )
    return out


# --------------------------------------------------------------------------- report


def _ms(x) -> str:
    return f"{1e3 * x:9.2f}"


def summarize(result) -> dict:
    """Ratios and verdicts derived from a result (what the table prints)."""
    rows, by_dtype, names = [], {}, {}
    for c in result["speed"]:
        t = {k: v["median"] for k, v in c["timings"].items()}
        row = {
            "name": c["name"],
            "dtype": c["dtype"],
            "forward": t["forward"],
            "backward": t["backward"],
            "forward_backward": t["forward_backward"],
            "matmul_fraction": t["matmul_forward_backward"] / t["forward_backward"],
            "gemm_ratio": t["forward_backward"] / t["gemm_forward_backward"],
            "torch_forward_backward": t.get("torch_forward_backward"),
            "torch_ratio": (
                t["forward_backward"] / t["torch_forward_backward"]
                if "torch_forward_backward" in t
                else None
            ),
            "naive_forward_full": (
                t["naive_forward"] * c["naive"]["scale"] if c["naive"] else None
            ),
        }
        rows.append(row)
        if row["torch_ratio"] is not None and c["name"] in TARGETS["torch_ratio_cases"]:
            by_dtype.setdefault(c["dtype"], []).append(row["torch_ratio"])
            names.setdefault(c["dtype"], []).append(c["name"])
    geo = {d: geomean(v) for d, v in by_dtype.items()}
    verdicts = {}
    for d, g in geo.items():
        limit = TARGETS["torch_ratio_geomean_max"].get(d)
        if limit is not None:
            over = ",".join(names[d])  # the target is stated for all of a-d
            verdicts[f"{d} f+b geomean convlib/torch over {over} <= {limit}x"] = g <= limit
    for r in rows:
        if r["name"] in TARGETS["gemm_ratio_cases"]:
            key = (f"({r['name']}, {r['dtype']}) f+b <= {TARGETS['gemm_ratio_max']:g}x its "
                   "three GEMMs alone")
            verdicts[key] = r["gemm_ratio"] <= TARGETS["gemm_ratio_max"]
    mem = result.get("memory")
    if mem and mem["shape_q"][2:] == [MEMORY_GOAL_SIZE] * 2:
        shape = "x".join(map(str, mem["shape_q"]))
        limit = TARGETS["memory_peak_over_input_max"]
        for part in ("forward", "backward"):
            key = f"memory peak {part} <= {limit:g}x input ({shape}, f={MEMORY_F})"
            verdicts[key] = mem["default"][f"peak_{part}_bytes"] / mem["q_bytes"] <= limit
    limit = TARGETS["stride_seconds_max"]
    for p in (result.get("stride") or {}).get("points", []):
        total = p.get("seconds_forward", math.inf) + p.get("seconds_backward", math.inf)
        verdicts[f"stride s={p['s']} f+b < {limit:g} s"] = total < limit
    return {"rows": rows, "geomean": geo, "verdicts": verdicts}


def print_report(result, file=None) -> None:
    """Print the table, the other sections and the verdicts of :func:`summarize`."""
    file = file or sys.stdout
    s = summarize(result)
    m = result["machine"]
    print(file=file)
    head = (
        f"{'case':4} {'dtype':7} {'fwd ms':>9} {'bwd ms':>9} {'f+b ms':>9} {'torch f+b':>9} "
        f"{'/torch':>7} {'/gemm':>6} {'%matmul':>7} {'naive fwd s':>11}"
    )
    print(head, file=file)
    print("-" * len(head), file=file)
    for r in s["rows"]:
        tf = _ms(r["torch_forward_backward"]) if r["torch_ratio"] else f"{'-':>9}"
        ratio = f"{r['torch_ratio']:6.2f}x" if r["torch_ratio"] else f"{'-':>7}"
        naive = f"{r['naive_forward_full']:11.2f}" if r["naive_forward_full"] else f"{'-':>11}"
        print(
            f"{r['name']:4} {r['dtype']:7} {_ms(r['forward'])} {_ms(r['backward'])} "
            f"{_ms(r['forward_backward'])} {tf} {ratio} {r['gemm_ratio']:5.2f}x "
            f"{100 * r['matmul_fraction']:6.0f}% "
            f"{naive}",
            file=file,
        )
    print(
        f"medians per call over {result['settings']['rounds']} rounds; threads: convlib "
        f"{result['settings']['threads']}, numpy BLAS {result['settings']['threads']}, "
        f"torch {result['settings']['threads'] if m['torch'] else '-'}.\n"
        "/torch: convlib f+b time / PyTorch conv2d + autograd time. /gemm: convlib f+b time "
        "/ its\nthree GEMMs alone (same chunks, operands laid out beforehand). %matmul: time "
        "of the three\nwhole-batch matmuls / convlib f+b time. naive fwd s: "
        "conv_forward_naive, extrapolated.",
        file=file,
    )
    for d, g in s["geomean"].items():
        print(f"geometric mean of convlib/torch (f+b) over cases "
              f"{','.join(TARGETS['torch_ratio_cases'])}, {d}: {g:.2f}x", file=file)
    if not s["geomean"]:
        print("torch not importable (or --no-torch): no comparison", file=file)
    mem = result.get("memory")
    if mem:
        q = mem["q_bytes"]
        shape = "x".join(map(str, mem["shape_q"]))
        d = mem["default"]
        goal = mem["shape_q"][2:] == [MEMORY_GOAL_SIZE] * 2
        for part in ("forward", "backward"):
            ratio = d[f"peak_{part}_bytes"] / q
            print(f"memory: conv_{part} peak {ratio:.1f}x the input ({shape})", file=file)
        if not goal:
            print(f"  (no verdict: the goal is stated for {MEMORY_GOAL_SIZE}^2)", file=file)
        for key, label in (("workspace_series", "workspace="), ("chunk_series", "chunk=")):
            if not mem.get(key):
                continue
            print(
                f"  {label + ' bytes':>16} {'chunks':>7} {'chunk MiB':>9} {'peak fwd x':>10} "
                f"{'peak bwd x':>10} {'f+b s':>7}",
                file=file,
            )
            for p in mem[key]:
                plan = p["plan"] or {}
                mib = plan.get("chunk_matrix_bytes", float("nan")) / 2**20
                print(
                    f"  {p['chunk_target' if key == 'chunk_series' else 'workspace']:>16} "
                    f"{plan.get('chunks', '-'):>7} {mib:9.2f} "
                    f"{p['peak_forward_bytes'] / q:10.1f} {p['peak_backward_bytes'] / q:10.1f} "
                    f"{p['seconds_forward'] + p['seconds_backward']:7.3f}",
                    file=file,
                )
    st = result.get("stride")
    if st:
        for p in st["points"]:
            if "skipped" in p:
                print(f"stride s={p['s']}: skipped ({p['skipped']})", file=file)
                continue
            total = p["seconds_forward"] + p["seconds_backward"]
            print(f"stride s={p['s']}: forward + backward {total:.3f} s", file=file)
    th = result.get("threads")
    if th:
        for d in dict.fromkeys(r["dtype"] for r in th["results"]):
            rows = [r for r in th["results"] if r["dtype"] == d]
            base = rows[0]["median"]
            parts = ", ".join(
                f"threads={r['threads']}: {1e3 * r['median']:.2f} ms ({base / r['median']:.2f}x)"
                for r in rows
            )
            print(f"threads, case b {d} f+b: {parts}", file=file)
    print("\ntargets of issues 8 and 16:", file=file)
    for k, ok in s["verdicts"].items():
        print(f"  {'met    ' if ok else 'NOT MET'}  {k}", file=file)
    load = (m.get("loadavg_start") or [0.0])[0]
    if load >= BUSY_LOAD:
        print(
            f"\nWARNING: load average {load:.1f} at the start on {m['cpus_usable']} cores: "
            "other processes were running,\nso the times and ratios above say little "
            "(PyTorch's OpenMP threads suffer most).\nRe-run on an idle machine.",
            file=file,
        )


# --------------------------------------------------------------------------- main


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {QUICK['rounds']} rounds, short blocks and pauses, "
        "a short workspace series",
    )
    p.add_argument("--cases", default=",".join(CASES), help="comma-separated, e.g. b,c")
    p.add_argument("--dtypes", default="float32,float64", help="comma-separated")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads of convlib, numpy's BLAS and torch (default: usable cores)",
    )
    p.add_argument("--rounds", type=int, default=None, help=f"default {FULL['rounds']}")
    p.add_argument(
        "--pause",
        type=float,
        default=None,
        help=f"seconds of sleep before each block (default {FULL['pause']})",
    )
    p.add_argument(
        "--naive-budget",
        type=int,
        default=None,
        help="inner iterations of the naive forward loop per timed call; 0 skips the naive "
        f"loops (default {FULL['naive_budget']})",
    )
    p.add_argument(
        "--sections",
        default="speed,memory,stride,threads",
        help="which sections to run, comma-separated",
    )
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even if importable")
    p.add_argument(
        "--output",
        default=str(DEFAULT_OUTPUT),
        help="JSON file (default benchmarks/results/bench.json); '-' for none",
    )
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    names = [c.strip() for c in args.cases.split(",") if c.strip()]
    if set(names) - set(CASES):
        p.error(f"unknown case(s) {sorted(set(names) - set(CASES))}; choose from {list(CASES)}")
    sections = [x.strip() for x in args.sections.split(",") if x.strip()]
    known = {"speed", "memory", "stride", "threads"}
    if set(sections) - known:
        p.error(f"unknown section(s) {sorted(set(sections) - known)}; choose from {known}")
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be at least 1")
    return args, names, sections


def run(args, names, sections, argv) -> dict:
    """Run the sections asked for; returns the result (raw numbers only)."""
    cfg = dict(QUICK if args.quick else FULL)
    for key in ("rounds", "pause", "naive_budget"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    cfg["threads"] = args.threads or usable_cores()
    dtypes = [np.dtype(d.strip()).name for d in args.dtypes.split(",") if d.strip()]
    torch = import_torch("speed" in sections and not args.no_torch)
    if torch is not None:
        torch.set_num_threads(cfg["threads"])
    info = machine_info(torch)
    rng = np.random.default_rng(args.seed)
    t_start = time.perf_counter()
    result = {
        "schema": SCHEMA,
        "command": " ".join(["python benchmarks/bench_conv.py", *argv]).strip(),
        "source": source_info(),
        "machine": info,
        "settings": {
            "threads": cfg["threads"],
            "rounds": cfg["rounds"],
            "pause_seconds": cfg["pause"],
            "block_seconds": cfg["block"],
            "naive_budget": cfg["naive_budget"],
            "seed": args.seed,
            "quick": args.quick,
            "convlib_defaults": convlib_defaults(),
            "statistic": "median over rounds of (block time / calls per block); blocks of k "
            "calls (k from timeit autorange, scaled to block_seconds), one block per candidate "
            "per round, candidate order rotated every round, pause_seconds of sleep before "
            "each block",
        },
        "targets": TARGETS,
        "speed": [],
        "memory": None,
        "stride": None,
        "threads": None,
    }
    print(
        f"{info['cpu_model']}, {info['cpus_usable']} usable cores, numpy {info['numpy']}, "
        f"torch {info['torch']}, threads {cfg['threads']}, load {info['loadavg_start']}"
    )
    sections_run = {
        "memory": lambda: memory_section(cfg["memory_size"], cfg, rng),
        "stride": lambda: stride_section(cfg["stride_cap"], rng),
        "threads": lambda: threads_section(dtypes, cfg, rng),
    }
    with threadpool_limits(limits=cfg["threads"], user_api="blas"):
        result["settings"]["blas_threads_in_effect"] = [
            p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"
        ]
        if "speed" in sections:
            for name in names:
                for dtype in dtypes:
                    t0 = time.perf_counter()
                    result["speed"].append(bench_case(name, CASES[name], dtype, cfg, rng, torch))
                    print(f"  speed ({name}, {dtype}) {time.perf_counter() - t0:.1f} s",
                          flush=True)
        for section, fn in sections_run.items():
            if section in sections:
                t0 = time.perf_counter()
                result[section] = fn()
                print(f"  {section} {time.perf_counter() - t0:.1f} s", flush=True)
    info["loadavg_end"] = _loadavg()
    info["date_utc_end"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    info["wall_seconds"] = time.perf_counter() - t_start
    return result


def main(argv=None):
    """Parse the arguments, run, print the report, write the JSON."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args, names, sections = parse_args(argv)
    result = run(args, names, sections, argv)
    print_report(result)
    if args.output != "-":
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")
        print(f"\nwrote {out}")
    return result


if __name__ == "__main__":
    main()
