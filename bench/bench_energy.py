"""Benchmark: one year of the supply stack (``serve_load``) for 10 and 200 hubs, hourly and
15-minute slots, with and without grid charging, on synthetic inputs.

Target (issue #3): one year for 10 hubs < 50 ms, for 200 hubs < 200 ms. Prints figures; never
fails on time. Run: ``.venv/bin/python bench/bench_energy.py``
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from greendispatch.energy.supply import BatteryParams, default_discharge_threshold, serve_load
from machine import machine_line  # bench/ is on sys.path when a script here runs

REPEATS = 7


def inputs(n_hubs: int, n_slots: int, dt_h: float, seed: int = 0) -> dict:
    """Hubs of 50-150 MW facility load with wind, solar, a flat contract and a 4-hour battery."""
    rng = np.random.default_rng(seed)
    hour = (np.arange(n_slots) * dt_h) % 24
    day = np.clip(np.sin(np.pi * (hour - 6) / 12), 0, None)  # solar shape, 0 at night
    load_mw = rng.uniform(50, 150, (n_hubs, 1)) * rng.uniform(0.9, 1.1, (n_hubs, n_slots))
    wind_mw = rng.uniform(0, 120, (n_hubs, 1)) * rng.weibull(2.0, (n_hubs, n_slots)) / 1.5
    solar_mw = rng.uniform(0, 100, (n_hubs, 1)) * day * rng.uniform(0.5, 1, (n_hubs, n_slots))
    ci = 600 - 250 * day + rng.normal(0, 60, (n_hubs, n_slots))
    p_mw = rng.uniform(10, 40, n_hubs)
    return {
        "load_mwh": load_mw * dt_h,
        "wind_avail_mwh": wind_mw * dt_h,
        "solar_avail_mwh": solar_mw * dt_h,
        "contracted_avail_mwh": np.full((n_hubs, n_slots), 10.0 * dt_h),
        "battery": BatteryParams(e_mwh=4 * p_mw, p_mw=p_mw, rte=np.full(n_hubs, 0.88)),
        "ci_g_per_kwh": np.clip(ci, 50, None),
        "discharge_threshold_g_per_kwh": default_discharge_threshold(np.clip(ci, 50, None)),
        "dt_h": dt_h,
    }


def main() -> None:
    print(machine_line())
    print("target: one year, 10 hubs < 50 ms, 200 hubs < 200 ms (issue #3)")
    for dt_h in (1.0, 0.25):
        for n_hubs in (10, 200):
            kw = inputs(n_hubs, round(8760 / dt_h), dt_h)
            for grid_charge in (False, True):
                extra = {"grid_charge": True, "grid_charge_threshold_g_per_kwh": 250.0}
                times = []
                for _ in range(REPEATS):
                    t0 = time.perf_counter()
                    result = serve_load(**kw, **(extra if grid_charge else {}))
                    times.append(time.perf_counter() - t0)
                result.check_balance()
                ms = [t * 1e3 for t in times]
                green = result.green_mwh.sum() / result.load_mwh.sum()
                print(
                    f"{n_hubs:3d} hubs x {round(8760 / dt_h):5d} slots (dt {dt_h:4} h), "
                    f"grid charge {'on ' if grid_charge else 'off'}: first {ms[0]:6.1f} ms, "
                    f"best {min(ms):6.1f} ms, median {statistics.median(ms):6.1f} ms; "
                    f"green share {green:.1%}"
                )


if __name__ == "__main__":
    main()
