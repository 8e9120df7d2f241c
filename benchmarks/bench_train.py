"""Time per training epoch of the training chapter's network: convlib.nn against PyTorch.

The network is the one of ``chapters/07_training.ipynb``; both run on the CPU.

Run from the repository root (``make bench`` does this)::

    .venv/bin/python benchmarks/bench_train.py                  # about a minute on 2 cores
    .venv/bin/python benchmarks/bench_train.py --quick          # smoke test
    .venv/bin/python benchmarks/bench_train.py --threads 1 --dtypes float64

The network, the data and the training step are those of ``chapters/07_training.ipynb``:
conv 3x3 (1 -> 8, "same") -> ReLU -> max pool 2 -> conv 3x3 (8 -> 32, stride 2, "same",
padding (1, 0)) -> ReLU -> flatten -> linear (128 -> 10), softmax cross-entropy, Adam,
mini-batches of 32 of scikit-learn's digits (1437 training images, 45 steps per epoch).
PyTorch gets the same initial weights and the same batches. Both run on the same number of
threads, for each count in ``--threads`` (default: 1 and all cores): ``torch.set_num_threads``,
convlib's ``threads`` setting (``convlib.chunks.THREADS``) and numpy's BLAS (threadpoolctl).
On a machine shared with other work PyTorch's OpenMP threads suffer most (they wait for each
other at every operation), so compare runs made on an idle machine.

Timing: ``--rounds`` rounds; in each, every framework trains ``--epochs`` epochs, the order of
the two alternating from round to round (load from other processes hits both alike). Wall
time and CPU time of the process are recorded per epoch; the median over the rounds is the
number to read. Raw seconds go to ``benchmarks/results/bench_train.json``; the ratio
(convlib / PyTorch, above 1 means convlib is slower) is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a clone without the editable install
    sys.path.insert(0, str(ROOT))

import convlib  # noqa: E402
import convlib.chunks  # noqa: E402
from convlib import nn  # noqa: E402

BATCH, LR = 32, 0.01


def load_data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = (digits.images / 16.0)[:, None]
    X_train, _, y_train, _ = train_test_split(
        X, digits.target, test_size=0.2, random_state=0, stratify=digits.target
    )
    return X_train, y_train


def convlib_net(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 32, 3, s=2, rng=rng, dtype=dtype), nn.ReLU(), nn.Flatten(),
        nn.Linear(128, 10, rng=rng, dtype=dtype),
    )


def torch_net(torch, net, dtype):
    """The same network in PyTorch, weights converted from the notes' layouts."""
    tdtype = getattr(torch, dtype)
    conv1 = torch.nn.Conv2d(1, 8, 3, padding=1, dtype=tdtype)
    conv2 = torch.nn.Conv2d(8, 32, 3, stride=2, dtype=tdtype)
    fc = torch.nn.Linear(128, 10, dtype=tdtype)
    with torch.no_grad():
        for module, i in [(conv1, 0), (conv2, 3)]:
            module.weight.copy_(torch.from_numpy(net.params[f"{i}.W"].transpose(1, 0, 2, 3)))
            module.bias.copy_(torch.from_numpy(net.params[f"{i}.b"]))
        fc.weight.copy_(torch.from_numpy(net.params["6.W"].T))
        fc.bias.copy_(torch.from_numpy(net.params["6.b"]))
    return torch.nn.Sequential(
        conv1, torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.ZeroPad2d((1, 0, 1, 0)),
        conv2, torch.nn.ReLU(), torch.nn.Flatten(), fc,
    )


def trainers(X, y, dtype, torch):
    """One-epoch training functions for each framework, on their own copy of the network."""
    X = X.astype(dtype)
    net = convlib_net(dtype)
    opt = nn.Adam(net.params, lr=LR)
    order = np.random.default_rng(1)

    def epoch_convlib():
        return nn.train_epoch(net, opt, X, y, BATCH, order)[-1]

    out = {"convlib": epoch_convlib}
    if torch is not None:
        tnet = torch_net(torch, convlib_net(dtype), dtype)
        topt = torch.optim.Adam(tnet.parameters(), lr=LR)
        torder = np.random.default_rng(1)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        F = torch.nn.functional

        def epoch_torch():
            for idx in nn.batches(len(X), BATCH, torder):
                idx = torch.from_numpy(idx)
                topt.zero_grad()
                loss = F.cross_entropy(tnet(Xt[idx]), yt[idx])
                loss.backward()
                topt.step()
            return loss.item()

        out["torch"] = epoch_torch
    return out


def measure(fns, epochs, rounds):
    """Per framework: lists of wall and CPU seconds per epoch, one entry per round."""
    names = list(fns)
    for fn in fns.values():  # warm-up: imports, first allocations
        fn()
    times = {name: {"wall": [], "cpu": []} for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            w, c = time.perf_counter(), time.process_time()
            for _ in range(epochs):
                fns[name]()
            times[name]["wall"].append((time.perf_counter() - w) / epochs)
            times[name]["cpu"].append((time.process_time() - c) / epochs)
            time.sleep(0.2)  # let worker threads of the previous candidate go idle
    return times


def run(X, y, threads, args, torch):
    """Both frameworks on ``threads`` threads, for every dtype; prints one line per dtype."""
    if torch is not None:
        torch.set_num_threads(threads)
    convlib.chunks.THREADS = threads
    results = {}
    with threadpool_limits(threads):
        for dtype in args.dtypes.split(","):
            times = measure(trainers(X, y, dtype, torch), args.epochs, args.rounds)
            results[dtype] = times
            med = {k: {m: statistics.median(v[m]) for m in v} for k, v in times.items()}
            line = (f"{threads} thread(s), {dtype}: time per training epoch, convlib "
                    f"{med['convlib']['wall'] * 1e3:.0f} ms wall / "
                    f"{med['convlib']['cpu'] * 1e3:.0f} ms CPU")
            if "torch" in med:
                line += (f"; PyTorch {med['torch']['wall'] * 1e3:.0f} ms wall / "
                         f"{med['torch']['cpu'] * 1e3:.0f} ms CPU; ratio convlib / PyTorch "
                         f"{med['convlib']['wall'] / med['torch']['wall']:.2f} (wall), "
                         f"{med['convlib']['cpu'] / med['torch']['cpu']:.2f} (CPU)")
            print(line, flush=True)
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", default=f"1,{convlib.chunks.cores()}",
                   help="comma-separated thread counts for PyTorch, convlib and the BLAS "
                   "(default: 1 and all cores)")
    p.add_argument("--dtypes", default="float64,float32", help="comma-separated")
    p.add_argument("--epochs", type=int, default=2, help="epochs per round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="1 epoch, 2 rounds, float64 only")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even if importable")
    p.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "bench_train.json"))
    args = p.parse_args(argv)
    if args.quick:
        args.epochs, args.rounds, args.dtypes = 1, 2, "float64"

    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: convlib only")

    X, y = load_data()
    load_before = os.getloadavg()[0]  # other processes on the machine skew every number
    thread_counts = sorted({int(t) for t in args.threads.split(",")})
    results = {str(t): run(X, y, t, args, torch) for t in thread_counts}

    record = {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": None if torch is None else torch.__version__,
        "machine": platform.machine(),
        "cores": convlib.chunks.cores(),
        "load_average_1min_before_after": [load_before, os.getloadavg()[0]],
        "epochs_per_round": args.epochs,
        "rounds": args.rounds,
        "batch": BATCH,
        "steps_per_epoch": -(-len(X) // BATCH),
        "network": "conv3x3(1->8,same) relu maxpool2 conv3x3(8->32,s=2,same) relu flatten "
                   "linear(128->10); softmax cross-entropy; Adam(lr=0.01)",
        # seconds per epoch, one entry per round: [threads][dtype][framework]["wall" | "cpu"]
        "seconds_per_epoch": results,
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
