"""Benchmark: build a year of all signals for china-hubs (modelled) and global-16 (real files).

Target (issue #2): each <= 2 s on the 2-core machine. Prints figures; never fails on time.
Run: ``GREENDISPATCH_DATA=../shared/data .venv/bin/python bench/bench_signals.py``
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from greendispatch.scenario.loader import load_scenario, resolve_data_dir
from greendispatch.signals.build import build_signals
from machine import machine_line  # bench/ is on sys.path when a script here runs

COLD = """
import time, sys
t0 = time.perf_counter()
from greendispatch.scenario.loader import load_scenario, resolve_data_dir
from greendispatch.signals.build import build_signals
t1 = time.perf_counter()
build_signals(load_scenario(sys.argv[1]), resolve_data_dir(None))
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f}")
"""


def main() -> None:
    data_dir = resolve_data_dir(None)
    if data_dir is None:
        default = Path(__file__).resolve().parents[2] / "shared" / "data"
        os.environ["GREENDISPATCH_DATA"] = str(default)
        data_dir = default
    print(machine_line())
    print("target: <= 2 s per scenario-year (issue #2)")
    for name in ("china-hubs", "global-16"):
        loaded = load_scenario(name)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            sig = build_signals(loaded, data_dir)
            times.append(time.perf_counter() - t0)
        out = subprocess.run(
            [sys.executable, "-c", COLD, name], capture_output=True, text=True, check=True
        ).stdout.split()
        n_hubs, n_slots = sig.ci_g_per_kwh.shape
        print(
            f"{name:11s} {n_hubs:2d} hubs x {n_slots} slots: warm best {min(times):.3f} s, "
            f"median {sorted(times)[2]:.3f} s; cold process: imports {float(out[0]):.2f} s + "
            f"build {float(out[1]):.3f} s"
        )


if __name__ == "__main__":
    main()
