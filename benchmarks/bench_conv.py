"""Speed of convlib's convolutional layer: naive loops, vectorized code and a BLAS ceiling.

Run from the repository root (``make bench`` does this)::

    .venv/bin/python benchmarks/bench_conv.py                  # full run, 1-3 minutes
    .venv/bin/python benchmarks/bench_conv.py --quick          # about 15 s, fewer rounds
    .venv/bin/python benchmarks/bench_conv.py --blas-threads 1 # the BLAS on one core too

For each layer shape (a)-(d) of issue 2, in float32 and float64, one run times

- ``conv_forward_naive`` / ``conv_backward_naive`` (the literal loops of eq. 6 and
  eqs. 14, 16, 23/29) on a reduced layer, one image and a few output channels, scaled
  linearly to the full layer (both loops nest the batch and the output channels outermost,
  so their cost is exactly proportional to ``n_b ch_out``);
- ``conv_forward``, ``conv_backward`` and the pair of them (a training step);
- the ceiling a BLAS gives here: numpy matmuls whose shapes are exactly those of the im2col
  products, so the flop count is the same. Forward: ``(M, K) x (K, N)`` with
  ``M = n_b h_out w_out``, ``K = ch_in f^2``, ``N = ch_out``, i.e.
  ``2 n_b ch_out h_out w_out ch_in f^2`` flops. Forward + backward: that product plus
  ``(K, M) x (M, N)`` (``dW``) and ``(M, N) x (N, K)`` (the windows' gradient), 3x the flops;
- ``torch.nn.functional.conv2d`` and its autograd backward, if torch is importable (it is
  not a dependency), with torch limited to the BLAS's thread count.

The candidates of one layer are timed round-robin (one sample of each per round, the order
rotated every round) and the median of the rounds is kept, so that load from other processes
on a shared machine hits them alike. Results go to ``benchmarks/results/bench.json`` and a
table is printed. See ``benchmarks/README.md`` for what every number means.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import json
import math
import os
import platform
import re
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a clone without the editable install
    sys.path.insert(0, str(ROOT))

from convlib import (  # noqa: E402
    conv_backward,
    conv_backward_naive,
    conv_forward,
    conv_forward_naive,
)
from convlib.forward import prepare  # noqa: E402

# The layer shapes of issue 2: name -> (n_b, ch_in, ch_out, h_in (= w_in), f, s); all "same".
CASES = {
    "a": (64, 1, 8, 28, 3, 1),
    "b": (64, 16, 32, 28, 3, 1),
    "c": (32, 32, 64, 32, 5, 2),
    "d": (128, 3, 16, 32, 3, 1),
}
H_OUT = "same"
# Targets of issue 2, on forward + backward against the matmul rate.
TARGETS = {
    "a": ("within 2x of the matmul rate", 0.5),
    "b": ("at least 60% of the matmul rate", 0.6),
    "c": ("at least 60% of the matmul rate", 0.6),
    "d": ("within 2x of the matmul rate", 0.5),
}
DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "bench.json"


# --------------------------------------------------------------------------- machine info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _numpy_blas_build() -> dict:
    """The BLAS numpy was built against (numpy >= 2: show_config(mode='dicts'))."""
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return {
            "name": blas.get("name"),
            "version": blas.get("version"),
            "config": " ".join(str(blas.get("openblas configuration", "")).split()) or None,
        }
    except Exception:  # numpy 1.x prints only
        return {"name": None, "version": None, "config": None}


def _openblas_runtime() -> dict | None:
    """Kernel and thread count of the OpenBLAS numpy loaded, via threadpoolctl or ctypes.

    threadpoolctl is used when it happens to be installed (it is not a dependency);
    otherwise the OpenBLAS that is mapped into this process is asked directly.
    """
    try:
        from threadpoolctl import threadpool_info  # type: ignore[import-not-found]

        for info in threadpool_info():
            if info.get("user_api") == "blas":
                return {
                    "source": "threadpoolctl",
                    "internal_api": info.get("internal_api"),
                    "version": info.get("version"),
                    "num_threads": info.get("num_threads"),
                    "architecture": info.get("architecture"),
                }
    except ImportError:
        pass
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    libs = sorted({m for m in re.findall(r"(/\S+\.so[.\d]*)", maps) if "openblas" in m.lower()})
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        out = {"source": "ctypes", "library": Path(path).name}
        for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"), ("openblas", "")):
            try:
                corename = getattr(lib, f"{prefix}_get_corename{suffix}")
                threads = getattr(lib, f"{prefix}_get_num_threads{suffix}")
                config = getattr(lib, f"{prefix}_get_config{suffix}")
            except AttributeError:
                continue
            corename.restype = config.restype = ctypes.c_char_p
            out.update(
                architecture=corename().decode(),
                num_threads=int(threads()),
                config=" ".join(config().decode().split()),
            )
            return out
    return None


def set_blas_threads(n: int) -> bool:
    """Limit the BLAS to ``n`` threads (threadpoolctl if installed, else OpenBLAS via ctypes)."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-not-found]

        threadpool_limits(n, user_api="blas")
        return True
    except ImportError:
        pass
    maps = Path("/proc/self/maps").read_text() if Path("/proc/self/maps").exists() else ""
    for path in sorted({m for m in re.findall(r"(/\S+\.so[.\d]*)", maps) if "openblas" in m}):
        lib = ctypes.CDLL(path)
        for name in (
            "scipy_openblas_set_num_threads64_",
            "openblas_set_num_threads64_",
            "openblas_set_num_threads",
        ):
            if hasattr(lib, name):
                getattr(lib, name)(ctypes.c_int(n))
                return True
    return False


def machine_info() -> dict:
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas_build": _numpy_blas_build(),
        "blas_runtime": _openblas_runtime(),
        "env": {
            k: os.environ.get(k)
            for k in (
                "OPENBLAS_CORETYPE",
                "OPENBLAS_L2_SIZE",
                "OPENBLAS_NUM_THREADS",
                "OMP_NUM_THREADS",
            )
        },
        "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


# --------------------------------------------------------------------------- timing


def _calibrate(fn, min_sample: float) -> int:
    """Calls per sample so that one sample lasts at least ``min_sample`` seconds."""
    t0 = time.perf_counter()
    fn()  # also the warm-up call
    t = time.perf_counter() - t0
    return max(1, math.ceil(min_sample / max(t, 1e-9)))


def round_robin(candidates: dict, repeats: int, min_sample: float) -> dict:
    """Median seconds per call of each candidate, sampled round-robin.

    Every round takes one sample of each candidate (a sample is ``number`` calls, enough to
    last ``min_sample`` seconds); the order is rotated from round to round. ``cpu_median``
    is the median CPU time of the process per call (all threads): close to ``median`` times
    the thread count when the candidate had the cores to itself.
    """
    names = list(candidates)
    number = {k: _calibrate(candidates[k], min_sample) for k in names}
    samples: dict[str, list[float]] = {k: [] for k in names}
    cpu: dict[str, list[float]] = {k: [] for k in names}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for k in order:
            fn, n = candidates[k], number[k]
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(n):
                fn()
            samples[k].append((time.perf_counter() - t0) / n)
            cpu[k].append((time.process_time() - c0) / n)
    return {
        k: {
            "median": float(np.median(v)),
            "min": float(np.min(v)),
            "max": float(np.max(v)),
            "cpu_median": float(np.median(cpu[k])),
            "samples": len(v),
            "calls_per_sample": number[k],
        }
        for k, v in samples.items()
    }


# --------------------------------------------------------------------------- torch (optional)


def _torch_candidates(q, W, b, dz, s, pads):
    """Forward and forward + autograd backward with torch, or None if torch is missing."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None, None
    rt = _openblas_runtime()
    threads = (rt or {}).get("num_threads") or os.cpu_count()
    torch.set_num_threads(int(threads))
    (top, bottom), (left, right) = pads
    qt = torch.from_numpy(np.ascontiguousarray(q))
    Wt = torch.from_numpy(np.ascontiguousarray(W.transpose(1, 0, 2, 3)))  # (ch_out, ch_in, f, f)
    bt = torch.from_numpy(np.ascontiguousarray(b))
    dzt = torch.from_numpy(np.ascontiguousarray(dz))

    def fwd(x, w, bias):
        return F.conv2d(F.pad(x, (left, right, top, bottom)), w, bias, stride=s)

    with torch.no_grad():
        z = fwd(qt, Wt, bt).numpy()
    ok = np.allclose(
        z,
        conv_forward(q, W, b, s, padding=(top, bottom, left, right)),
        rtol=1e-3 if q.dtype == np.float32 else 1e-8,
        atol=1e-3 if q.dtype == np.float32 else 1e-8,
    )
    qg, Wg, bg = (t.clone().requires_grad_(True) for t in (qt, Wt, bt))

    def forward():
        with torch.no_grad():
            fwd(qt, Wt, bt)

    def forward_backward():
        for t in (qg, Wg, bg):
            t.grad = None
        fwd(qg, Wg, bg).backward(dzt)

    info = {
        "version": torch.__version__,
        "num_threads": torch.get_num_threads(),
        "agrees_with_convlib": bool(ok),
    }
    return {"torch_forward": forward, "torch_forward_backward": forward_backward}, info


# --------------------------------------------------------------------------- one layer


def naive_plan(n_b, ch_in, ch_out, h_out, w_out, f, budget):
    """How much of the layer the naive loops run: 1 image and ``k`` output channels.

    ``k`` is the largest count whose forward loop makes at most ``budget`` inner iterations
    (at least 1). Returns ``(k, scale)`` with ``scale = n_b ch_out / k``.
    """
    per_channel = h_out * w_out * ch_in * f * f
    k = int(max(1, min(ch_out, budget // per_channel)))
    return k, n_b * ch_out / k


def bench_case(name, dtype, args, rng):
    n_b, ch_in, ch_out, h_in, f, s = CASES[name]
    q = rng.standard_normal((n_b, ch_in, h_in, h_in)).astype(dtype)
    W = rng.standard_normal((ch_in, ch_out, f, f)).astype(dtype)
    b = rng.standard_normal(ch_out).astype(dtype)
    _, _, _, L = prepare(q, W, b, s, H_OUT)
    dz = rng.standard_normal((n_b, ch_out, L.h_out, L.w_out)).astype(dtype)
    M, K, N = n_b * L.h_out * L.w_out, ch_in * f * f, ch_out
    flops = 2 * M * K * N

    # The BLAS ceiling: the products of the im2col formulation, same shapes, same flops.
    A = rng.standard_normal((M, K)).astype(dtype)
    B = rng.standard_normal((K, N)).astype(dtype)
    G = rng.standard_normal((M, N)).astype(dtype)

    def matmul_forward():
        return A @ B

    def matmul_forward_backward():
        return A @ B, A.T @ G, G @ B.T

    def forward():
        return conv_forward(q, W, b, s, H_OUT)

    def backward():
        return conv_backward(dz, q, W, s, H_OUT)

    def forward_backward():
        conv_forward(q, W, b, s, H_OUT)
        return conv_backward(dz, q, W, s, H_OUT)

    cands = {
        "forward": forward,
        "backward": backward,
        "forward_backward": forward_backward,
        "matmul_forward": matmul_forward,
        "matmul_forward_backward": matmul_forward_backward,
    }

    naive = None
    if not args.no_naive:
        k, scale = naive_plan(n_b, ch_in, ch_out, L.h_out, L.w_out, f, args.naive_budget)
        q1, W1, b1, dz1 = q[:1], W[:, :k], b[:k], dz[:1, :k]
        cands["naive_forward_timed"] = lambda: conv_forward_naive(q1, W1, b1, s, H_OUT)
        cands["naive_backward_timed"] = lambda: conv_backward_naive(dz1, q1, W1, s, H_OUT)
        naive = {"n_b": 1, "ch_out": k, "scale": scale}

    torch_cands, torch_info = (None, None)
    if not args.no_torch:
        torch_cands, torch_info = _torch_candidates(q, W, b, dz, s, L.pads)
        if torch_cands:
            cands.update(torch_cands)

    timed = round_robin(cands, args.repeats, args.min_sample)
    med = {k: v["median"] for k, v in timed.items()}

    seconds = {
        "forward": med["forward"],
        "backward": med["backward"],
        "forward_backward": med["forward_backward"],
        "matmul_forward": med["matmul_forward"],
        "matmul_forward_backward": med["matmul_forward_backward"],
    }
    if naive:
        naive["seconds_timed"] = {
            "forward": med["naive_forward_timed"],
            "backward": med["naive_backward_timed"],
        }
        naive["what"] = (
            f"conv_forward_naive / conv_backward_naive on q[:1] and W[:, :{naive['ch_out']}] "
            f"(1 image, {naive['ch_out']} of {ch_out} output channels), "
            f"seconds x {naive['scale']:g} = n_b*ch_out/{naive['ch_out']}"
        )
        seconds["naive_forward"] = med["naive_forward_timed"] * naive["scale"]
        seconds["naive_backward"] = med["naive_backward_timed"] * naive["scale"]

    frac_fb = med["matmul_forward_backward"] / med["forward_backward"]
    ratios = {
        "forward_fraction_of_matmul_rate": med["matmul_forward"] / med["forward"],
        "forward_backward_fraction_of_matmul_rate": frac_fb,
        "forward_backward_slowdown_vs_matmul": med["forward_backward"]
        / med["matmul_forward_backward"],
    }
    if naive:
        ratios["vectorized_speedup_over_naive_forward"] = seconds["naive_forward"] / med["forward"]
        ratios["vectorized_speedup_over_naive_backward"] = (
            seconds["naive_backward"] / med["backward"]
        )
    gflops = {
        "forward": flops / med["forward"] / 1e9,
        "forward_backward": 3 * flops / med["forward_backward"] / 1e9,
        "matmul_forward": flops / med["matmul_forward"] / 1e9,
        "matmul_forward_backward": 3 * flops / med["matmul_forward_backward"] / 1e9,
    }
    if naive:
        gflops["naive_forward"] = flops / seconds["naive_forward"] / 1e9

    torch_out = None
    if torch_cands:
        torch_out = dict(torch_info)
        torch_out["seconds"] = {
            "forward": med["torch_forward"],
            "forward_backward": med["torch_forward_backward"],
        }
        torch_out["convlib_over_torch"] = {
            "forward": med["forward"] / med["torch_forward"],
            "forward_backward": med["forward_backward"] / med["torch_forward_backward"],
        }

    what, threshold = TARGETS[name]
    return {
        "name": name,
        "dtype": np.dtype(dtype).name,
        "n_b": n_b,
        "ch_in": ch_in,
        "ch_out": ch_out,
        "h_in": h_in,
        "w_in": h_in,
        "f": f,
        "s": s,
        "h_out": H_OUT,
        "out_shape": [n_b, ch_out, L.h_out, L.w_out],
        "pads": [list(p) for p in L.pads],
        "matmul_shapes": {
            "M": M,
            "K": K,
            "N": N,
            "forward": "(M, K) x (K, N)",
            "forward_backward": "(M, K) x (K, N) + (K, M) x (M, N) + (M, N) x (N, K)",
        },
        "flops_forward": flops,
        "flops_forward_backward": 3 * flops,
        "seconds": seconds,
        "timing": timed,
        "naive": naive,
        "ratios": ratios,
        "gflops": gflops,
        "target": {
            "what": f"forward + backward {what}",
            "min_fraction": threshold,
            "met": bool(frac_fb >= threshold),
        },
        "memory": memory_report(q, W, b, dz, s, L, args.tracemalloc),
        "torch": torch_out,
    }


def memory_report(q, W, b, dz, s, L, trace: bool):
    """Bytes of the window matrix (eq. 34) against the input's, and a tracemalloc peak."""
    item = q.dtype.itemsize
    window = L.n_b * L.h_out * L.w_out * L.ch_in * L.f * L.f * item
    out = {
        "q_bytes": int(q.nbytes),
        "window_matrix_bytes": int(window),
        "window_over_q": window / q.nbytes,
        "window_matrix_shape": [L.n_b * L.h_out * L.w_out, L.ch_in * L.f * L.f],
        "tracemalloc_peak_forward_backward_bytes": None,
        "tracemalloc_peak_over_q": None,
    }
    if trace:
        tracemalloc.start()
        conv_forward(q, W, b, s, H_OUT)
        conv_backward(dz, q, W, s, H_OUT)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["tracemalloc_peak_forward_backward_bytes"] = int(peak)
        out["tracemalloc_peak_over_q"] = peak / q.nbytes
    return out


# --------------------------------------------------------------------------- output


def _ms(x):
    return f"{1e3 * x:9.2f}"


def print_table(cases, file=sys.stdout):
    head = (
        f"{'case':4} {'dtype':7} {'naive fwd s':>11} {'fwd ms':>9} {'bwd ms':>9} "
        f"{'f+b ms':>9} {'mm f ms':>9} {'mm f+b':>9} {'x naive':>8} {'fwd %mm':>7} "
        f"{'f+b %mm':>7} {'target':>6} {'mem x':>6}"
    )
    print(head, file=file)
    print("-" * len(head), file=file)
    for c in cases:
        sec, r = c["seconds"], c["ratios"]
        naive = f"{sec['naive_forward']:11.2f}" if "naive_forward" in sec else f"{'-':>11}"
        speed = (
            f"{r['vectorized_speedup_over_naive_forward']:8.0f}"
            if "vectorized_speedup_over_naive_forward" in r
            else f"{'-':>8}"
        )
        print(
            f"{c['name']:4} {c['dtype']:7} {naive} {_ms(sec['forward'])} {_ms(sec['backward'])} "
            f"{_ms(sec['forward_backward'])} {_ms(sec['matmul_forward'])} "
            f"{_ms(sec['matmul_forward_backward'])} {speed} "
            f"{100 * r['forward_fraction_of_matmul_rate']:6.0f}% "
            f"{100 * r['forward_backward_fraction_of_matmul_rate']:6.0f}% "
            f"{'met' if c['target']['met'] else 'MISSED':>6} "
            f"{c['memory']['window_over_q']:6.1f}",
            file=file,
        )
    print(file=file)
    print("naive fwd s: conv_forward_naive, seconds for the whole layer, extrapolated:", file=file)
    for c in cases:
        if c["naive"]:
            print(f"  ({c['name']}, {c['dtype']}) {c['naive']['what']}", file=file)
    print(
        "x naive: naive forward / vectorized forward. fwd %mm, f+b %mm: the vectorized code's\n"
        "flop rate as a percentage of one numpy matmul of the im2col shapes (M,K)x(K,N)\n"
        "(f+b: the three products of forward + backward). target: f+b %mm >= 60% on (b), (c);\n"
        ">= 50% (within 2x) on (a), (d). mem x: bytes of the window matrix (eq. 34) / bytes of q.",
        file=file,
    )
    torch_rows = [c for c in cases if c["torch"]]
    if torch_rows:
        print("\nconvlib time / torch time (same threads):", file=file)
        for c in torch_rows:
            t = c["torch"]["convlib_over_torch"]
            print(
                f"  ({c['name']}, {c['dtype']}) forward {t['forward']:.2f}x, "
                f"forward+backward {t['forward_backward']:.2f}x",
                file=file,
            )
    else:
        print("\ntorch: not importable, no comparison (it is not a dependency).", file=file)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="3 rounds, a smaller naive budget and shorter samples (about a minute)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="round-robin rounds per layer (default 15; 3 with --quick)",
    )
    p.add_argument(
        "--min-sample",
        type=float,
        default=None,
        help="seconds one timing sample lasts at least (default 0.05; 0.02 quick)",
    )
    p.add_argument(
        "--naive-budget",
        type=int,
        default=None,
        help="inner iterations of the naive forward loop per timed call "
        "(default 200000; 50000 quick)",
    )
    p.add_argument("--cases", default=",".join(CASES), help="comma-separated, e.g. b,c")
    p.add_argument("--dtypes", default="float32,float64")
    p.add_argument("--no-naive", action="store_true", help="skip the naive loops")
    p.add_argument("--no-torch", action="store_true", help="skip torch even if importable")
    p.add_argument("--no-tracemalloc", dest="tracemalloc", action="store_false")
    p.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="JSON file (default benchmarks/results/bench.json); '-' for none",
    )
    p.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="limit the BLAS (and torch) to this many threads; default: as loaded",
    )
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 15
    if args.min_sample is None:
        args.min_sample = 0.02 if args.quick else 0.05
    if args.naive_budget is None:
        args.naive_budget = 50_000 if args.quick else 200_000
    names = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(names) - set(CASES)
    if unknown:
        p.error(f"unknown case(s) {sorted(unknown)}; choose from {list(CASES)}")

    if args.blas_threads is not None and not set_blas_threads(args.blas_threads):
        p.error("could not set the BLAS thread count (no OpenBLAS found, no threadpoolctl)")
    info = machine_info()
    rt = info["blas_runtime"] or {}
    print(
        f"{info['cpu_model']}, {info['cpus_usable']} usable cores, numpy {info['numpy']}, "
        f"BLAS {info['blas_build']['name']} {info['blas_build']['version']} "
        f"(kernel {rt.get('architecture')}, {rt.get('num_threads')} threads), "
        f"OPENBLAS_CORETYPE={info['env']['OPENBLAS_CORETYPE']}"
    )
    rng = np.random.default_rng(args.seed)
    t_start = time.perf_counter()
    cases = []
    for name in names:
        for dtype in args.dtypes.split(","):
            t0 = time.perf_counter()
            cases.append(bench_case(name, np.dtype(dtype.strip()).type, args, rng))
            print(f"  ({name}, {dtype}) done in {time.perf_counter() - t0:.1f} s", flush=True)
    info["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    info["wall_seconds"] = time.perf_counter() - t_start
    print()
    print_table(cases)

    cmd_args = " ".join(argv if argv is not None else sys.argv[1:])
    result = {
        "machine": info,
        "command": ("python benchmarks/bench_conv.py " + cmd_args).strip(),
        "settings": {
            "repeats": args.repeats,
            "min_sample_seconds": args.min_sample,
            "naive_budget": args.naive_budget,
            "seed": args.seed,
            "blas_threads": args.blas_threads,
            "statistic": "median over round-robin rounds",
        },
        "cases": cases,
    }
    if str(args.output) != "-":
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=1) + "\n")
        try:
            shown = args.output.resolve().relative_to(ROOT)
        except ValueError:
            shown = args.output
        print(f"\nwrote {shown}")
    return result


if __name__ == "__main__":
    main()
