"""Redraw latency of the explorers (issue 4 asks for < 100 ms at the default sizes).

A redraw is what one slider move costs in the kernel: set a control's value, the explorer
draws its figure with convlib.plot and encodes the PNG its Image widget shows. Prints the
median over ``--repeat`` moves of each explorer, and the split between building the figure
and rendering the PNG. Not a unit test; run it on an idle machine:

    python benchmarks/bench_explorers.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("MPLBACKEND", "Agg")

from matplotlib.figure import Figure  # noqa: E402

from convlib import explorers, plot  # noqa: E402

# (explorer, control moved back and forth, its two values, drawing function)
CASES = [
    ("padding", explorers.padding_explorer, "h_in", (5, 6), plot.draw_padding),
    ("windows", explorers.windows_explorer, "j", (1, 2), plot.draw_windows),
    ("dilation", explorers.dilation_explorer, "j", (1, 2), plot.draw_dilation),
    ("input gradient", explorers.input_gradient_explorer, "j", (3, 4), plot.draw_input_gradient),
]


def median_ms(samples):
    return 1000 * statistics.median(samples)


def main(repeat: int) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"explorer redraw latency, median of {repeat} moves (load average {load:.1f}, "
          f"{os.cpu_count()} CPUs, PNG at {explorers.DPI} dpi)")
    print("redraw: wall clock of one slider move (cpu: its CPU time, what an idle machine "
          "takes); figure/png: wall clock of its two parts")
    print(f"{'explorer':16s} {'redraw':>9s} {'cpu':>9s} {'figure':>9s} {'png':>9s} "
          f"{'png size':>9s}")
    for name, build, key, values, draw in CASES:
        ex = build()
        ex.controls[key].value = values[1]  # warm up caches (fonts, text layout)
        total, cpu = [], []
        for k in range(repeat):
            ex._cache.clear()  # measure drawing, not the explorer's cache of seen figures
            t0, c0 = time.perf_counter(), time.process_time()
            ex.controls[key].value = values[k % 2]
            total.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        fig, build_t, png_t = Figure(), [], []
        params = ex.params()
        for _ in range(repeat):
            t0 = time.perf_counter()
            draw(**params, fig=fig)
            t1 = time.perf_counter()
            png = explorers.render_png(fig)
            png_t.append(time.perf_counter() - t1)
            build_t.append(t1 - t0)
        print(f"{name:16s} {median_ms(total):7.1f}ms {median_ms(cpu):7.1f}ms "
              f"{median_ms(build_t):7.1f}ms "
              f"{median_ms(png_t):7.1f}ms {len(png) / 1024:7.1f}KB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    main(parser.parse_args().repeat)
