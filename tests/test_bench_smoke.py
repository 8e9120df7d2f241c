"""Smoke test of benchmarks/bench_conv.py: its pure helpers, and the JSON of a tiny run.

The benchmark itself is not run here (it takes minutes and needs a quiet machine); a tiny
layer with one round checks that every section runs and writes the fields chapter 6 reads.
"""

import importlib.util
import json
import math
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "bench_conv", ROOT / "benchmarks" / "bench_conv.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# The im2col products of the README's table, written out by hand: M output pixels,
# K = ch_in f^2 rows of the window matrix, N = ch_out.
README_SHAPES = {
    "a": (50176, 9, 8),
    "b": (50176, 144, 32),
    "c": (8192, 800, 64),
    "d": (131072, 27, 16),
}


@pytest.mark.parametrize("name", sorted(README_SHAPES))
def test_im2col_shapes_and_flops(bench, name):
    n_b, ch_in, ch_out, h_in, f, s = bench.CASES[name]
    (ho, wo), pads = bench.geometry(h_in, h_in, f, s)
    assert (ho, wo) == (math.ceil(h_in / s),) * 2  # "same": h_out = ceil(h_in / s)
    shapes = bench.im2col_shapes(n_b, ch_in, ch_out, ho, wo, f)
    M, K, N = README_SHAPES[name]
    assert (shapes["M"], shapes["K"], shapes["N"]) == (M, K, N)
    flops = bench.flop_counts(M, K, N)
    # one multiply and one add per filter tap, per output element (eq. 6)
    per_output = 2 * ch_in * f * f
    assert flops["forward"] == n_b * ch_out * ho * wo * per_output
    assert flops["backward"] == 2 * flops["forward"]
    assert flops["forward_backward"] == 3 * flops["forward"]


def test_flops_count_the_products_of_a_tiny_layer(bench):
    # Count the multiply-adds of eq. 6 by literally looping over a tiny layer.
    n_b, ch_in, ch_out, ho, wo, f = 2, 3, 4, 5, 2, 3
    macs = sum(
        1
        for _n in range(n_b)
        for _nu in range(ch_out)
        for _i in range(ho)
        for _j in range(wo)
        for _mu in range(ch_in)
        for _a in range(f)
        for _b in range(f)
    )
    shapes = bench.im2col_shapes(n_b, ch_in, ch_out, ho, wo, f)
    assert bench.flop_counts(**shapes)["forward"] == 2 * macs


def test_naive_plan(bench):
    for spec in bench.CASES.values():
        n_b, ch_in, ch_out, h_in, f, s = spec
        (ho, wo), _ = bench.geometry(h_in, h_in, f, s)
        for budget in (1, 20_000, 200_000, 10**9):
            k, scale = bench.naive_plan(n_b, ch_in, ch_out, ho, wo, f, budget)
            assert 1 <= k <= ch_out
            assert k == 1 or k * ho * wo * ch_in * f * f <= budget
            assert k == ch_out or (k + 1) * ho * wo * ch_in * f * f > budget
            assert scale * k == pytest.approx(n_b * ch_out)


def test_time_blocks_rotates_blocks_and_times_them(bench):
    calls = []

    def candidate(name, seconds):
        def fn():
            calls.append(name)
            time.sleep(seconds)

        return fn

    cands = {"x": candidate("x", 0.004), "y": candidate("y", 0.001), "z": candidate("z", 0)}
    out = bench.time_blocks(cands, rounds=3, pause=0.0, block=0.012)
    timed = calls[-sum(3 * v["calls_per_block"] for v in out.values()) :]
    # blocks: each candidate's k calls in a row, the order rotated by one every round
    blocks = [name for i, name in enumerate(timed) if i == 0 or timed[i - 1] != name]
    assert blocks == ["x", "y", "z", "y", "z", "x", "z", "x", "y"]
    assert out["x"]["median"] >= 0.004
    assert out["x"]["median"] > out["y"]["median"] > out["z"]["median"]
    assert 1 <= out["x"]["calls_per_block"] <= 3  # 0.012 s of 0.004 s calls
    for v in out.values():
        assert v["rounds"] == len(v["per_round"]) == 3
        assert v["min"] <= v["median"] <= v["max"]


def test_calls_per_block(bench):
    calls = []

    def slow():
        calls.append(1)
        time.sleep(bench.AUTORANGE_SECONDS)

    assert bench.calls_per_block(slow, block=0.05) == 1
    assert len(calls) == 1  # the warm-up call was long enough: no autorange after it
    k = bench.calls_per_block(lambda: time.sleep(0.002), block=0.05)
    assert 2 <= k <= 25  # 0.05 s / 0.002 s at most; fewer when sleep overshoots (load)


def test_summarize_derives_ratios_and_verdicts(bench):
    def case(name, dtype, fb, torch_fb, gemm_fb):
        timings = {
            k: {"median": v}
            for k, v in {
                "forward": fb / 3,
                "backward": 2 * fb / 3,
                "forward_backward": fb,
                "gemm_forward_backward": gemm_fb,
                "matmul_forward_backward": gemm_fb,
                "torch_forward_backward": torch_fb,
            }.items()
        }
        return {"name": name, "dtype": dtype, "timings": timings, "naive": None}

    result = {
        "speed": [
            case("a", "float64", 1.0, 2.0, 0.5),  # 0.5x torch
            case("b", "float64", 1.0, 0.5, 0.7),  # 2x torch, 1.43x its GEMMs
            case("b", "float32", 1.0, 1.0, 0.5),  # 1x torch, 2x its GEMMs
        ]
    }
    s = bench.summarize(result)
    assert s["geomean"]["float64"] == pytest.approx(1.0)
    assert s["geomean"]["float32"] == pytest.approx(1.0)
    v = s["verdicts"]
    assert v["float64 f+b geomean convlib/torch over a,b <= 1.0x"] is True
    assert v["float32 f+b geomean convlib/torch over b <= 1.5x"] is True
    assert v["(b, float64) f+b <= 1.6x its three GEMMs alone"] is True
    assert v["(b, float32) f+b <= 1.6x its three GEMMs alone"] is False
    assert not any(k.startswith("(a,") for k in v)  # the GEMM target is on (b), (c), (d)
    result["speed"][1]["timings"]["torch_forward_backward"]["median"] = 0.4
    assert bench.summarize(result)["verdicts"][
        "float64 f+b geomean convlib/torch over a,b <= 1.0x"] is False


@pytest.mark.slow
def test_tiny_run_writes_the_json_chapter_6_reads(bench, tmp_path, monkeypatch, capsys):
    # Tiny layers for every section: asymmetric "same" padding (s = 2) for the speed section.
    monkeypatch.setitem(bench.CASES, "a", (2, 2, 3, 6, 3, 2))
    monkeypatch.setitem(bench.CASES, "b", (2, 2, 3, 5, 3, 1))
    monkeypatch.setattr(
        bench,
        "QUICK",
        {
            **bench.QUICK,
            "rounds": 1,
            "memory_size": 64,
            "workspace_series": [2**12, 2**16],
            "chunk_series": [2**12, 2**14],
        },
    )
    monkeypatch.setattr(bench, "STRIDE_S", (20, 40))
    out = tmp_path / "bench.json"
    bench.main(["--quick", "--cases", "a", "--dtypes", "float64", "--output", str(out)])
    printed = capsys.readouterr().out
    assert "targets of issues 8 and 16:" in printed
    r = json.loads(out.read_text())

    assert r["schema"] == bench.SCHEMA
    assert r["command"].startswith("python benchmarks/bench_conv.py --quick")
    assert set(r["source"]) == {"commit", "modified"}
    for key in ("cpu_model", "cpu_count", "numpy", "threadpoolctl", "threadpools",
                "loadavg_start", "loadavg_end"):
        assert key in r["machine"]
    assert r["settings"]["rounds"] == 1
    assert r["settings"]["threads"] >= 1

    (c,) = r["speed"]
    assert (c["name"], c["dtype"], c["h_out"]) == ("a", "float64", "same")
    assert c["out_shape"] == [2, 3, 3, 3]
    assert c["pads"] == [[1, 0], [1, 0]]  # eq. 8: the odd row goes on top
    assert c["flops"]["forward"] == 2 * (2 * 3 * 3) * (2 * 3 * 3) * 3
    expected = {"forward", "backward", "forward_backward", "forward_backward_kept",
                "backward_gather", "backward_scatter", "gemm_forward", "gemm_forward_backward",
                "matmul_forward", "matmul_forward_backward", "naive_forward", "naive_backward"}
    assert c["gemm"]["dq_route"] == "scatter"  # s = 2
    if r["machine"]["torch"]:
        expected |= {"torch_forward", "torch_forward_backward"}
        # same inputs, same layer: PyTorch and convlib agree to rounding
        assert max(c["torch"]["max_abs_diff_vs_convlib"].values()) < 1e-10
        assert c["torch"]["num_threads"] == r["settings"]["threads"]
    assert set(c["timings"]) == expected
    for t in c["timings"].values():
        assert t["rounds"] == 1 and t["calls_per_block"] >= 1
        assert 0 < t["min"] <= t["median"] <= t["max"]
    assert c["naive"]["scale"] * c["naive"]["ch_out"] == pytest.approx(2 * 3)

    m = r["memory"]
    assert m["shape_q"] == [1, 1, 64, 64] and m["q_bytes"] == 64 * 64 * 8
    assert m["default"]["peak_forward_bytes"] >= m["q_bytes"]  # the output z alone is as big
    assert m["default"]["peak_backward_bytes"] >= m["q_bytes"]  # and dq
    assert [p["workspace"] for p in m["workspace_series"]] == [2**12, 2**16]
    assert [p["chunk_target"] for p in m["chunk_series"]] == [2**12, 2**14]
    row = 64 * 49 * 8  # window matrix of one output row of the 64 x 64 image, f = 7
    for p in m["workspace_series"] + m["chunk_series"]:
        # the chunks cover the 64 output rows in bands of whole rows within the target
        plan = p["plan"]
        assert plan["chunk_matrix_bytes"] % row == 0
        assert plan["chunks"] * plan["chunk_matrix_bytes"] >= 64 * row
        assert plan["chunk_matrix_bytes"] <= max(row, p["chunk_target"] or p["workspace"])
    # the chunk size is passed (chunk=), never patched into convlib.chunks.CHUNK
    import convlib.chunks

    assert convlib.chunks.CHUNK == m["chunk_default"] == r["settings"]["convlib_defaults"]["CHUNK"]

    assert [p["s"] for p in r["stride"]["points"]] == [20, 40]
    assert [(x["dtype"], x["threads"]) for x in r["threads"]["results"]] == [
        ("float64", 1), ("float64", 2)
    ]


def test_geometry_matches_convlib_forward(bench):
    # The pads the benchmark hands to PyTorch are those convlib's forward pass uses.
    import convlib as cl

    rng = np.random.default_rng(0)
    q = rng.standard_normal((1, 1, 7, 6))
    W = rng.standard_normal((1, 1, 3, 3))
    (ho, wo), pads = bench.geometry(7, 6, 3, 2)
    padded = np.pad(q, ((0, 0), (0, 0), *pads))
    z = cl.conv_forward(padded, W, np.zeros(1), 2, "valid")
    assert z.shape[2:] == (ho, wo)
    np.testing.assert_allclose(z, cl.conv_forward(q, W, np.zeros(1), 2, "same"))


def test_summarize_holds_every_verdict_and_print_report_only_prints(bench):
    """The memory and stride verdicts are derived by summarize (print_report used to add them
    while printing), so the report and the JSON's reader see the same verdicts."""
    q_bytes = 2048 * 2048 * 8
    result = {
        "speed": [],
        "machine": {"torch": None},
        "settings": {"rounds": 1, "threads": 1},
        "memory": {"shape_q": [1, 1, 2048, 2048], "q_bytes": q_bytes,
                   "default": {"peak_forward_bytes": 3 * q_bytes,
                               "peak_backward_bytes": 5 * q_bytes}},
        "stride": {"points": [{"s": 2000, "seconds_forward": 0.1, "seconds_backward": 0.2},
                              {"s": 4000, "skipped": "too slow"}]},
    }
    before = bench.summarize(result)["verdicts"]
    v = {k.split(" <=")[0].split(" f+b")[0]: ok for k, ok in before.items()}
    assert v == {"memory peak forward": True, "memory peak backward": False,
                 "stride s=2000": True, "stride s=4000": False}
    import io

    bench.print_report(result, file=io.StringIO())
    assert bench.summarize(result)["verdicts"] == before


def test_the_blas_ceiling_uses_convlib_layout(bench):
    """U is (K, M) in convlib (eq. 34): the ceiling's products are F^T U, U dZ^T and F dZ;
    the chunk size is passed to convlib, not patched into its module."""
    import inspect

    src = inspect.getsource(bench.bench_case)
    assert "F.T @ U, U @ dZ.T, F @ dZ" in src
    assert "CHUNK =" not in inspect.getsource(bench) and not hasattr(bench, "chunk_target")
