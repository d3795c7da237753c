"""Time the weather and plant models: one site-year each, then ten hubs' signals.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_models.py``. Prints figures only.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable

import numpy as np

from greendispatch.signals.climate import modelled_temperature
from greendispatch.signals.pue import pue_from_temperature
from greendispatch.signals.solar import calibrate_cloud_to_cf, modelled_cloud_pct, solar_pu
from greendispatch.signals.timegrid import TimeGrid
from greendispatch.signals.wind import modelled_wind_speed, turbine_power_curve, wind_pu

HUBS = [  # (lat, lon) of ten plausible data-centre hubs
    (40.8, 111.7),
    (38.5, 106.3),
    (26.6, 106.7),
    (36.1, 103.8),
    (30.7, 104.1),
    (53.3, -6.3),
    (59.3, 18.1),
    (39.0, -77.5),
    (-33.9, 18.4),
    (1.35, 103.8),
]


def best_ms(fn: Callable[[], object], repeat: int = 7) -> float:
    """Best wall time of ``repeat`` calls, in ms."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * min(times)


def hub_signals(grid: TimeGrid, lat: float, lon: float, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    temp = modelled_temperature(
        grid, rng, lat_deg=lat, lon_deg=lon, t_mean_c=12.0, seasonal_amp_c=10.0, diurnal_amp_c=5.0
    )
    cloud = modelled_cloud_pct(grid, rng)
    speed = modelled_wind_speed(grid, rng, lat_deg=lat, lon_deg=lon)
    return {
        "solar": solar_pu(grid, lat, lon, 30.0, cloud_pct=cloud, temp_c=temp),
        "wind": wind_pu(speed, 100.0, 120.0),
        "pue": pue_from_temperature(temp, pue_min=1.15, pue_max=1.5, t_free_c=12.0, t_max_c=32.0),
    }


def main() -> None:
    print(f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"python {platform.python_version()}, numpy {np.__version__}")
    grid = TimeGrid.year(2023)
    quarter = TimeGrid.year(2023, dt_h=0.25)
    lat, lon = HUBS[0]
    rng = np.random.default_rng(0)
    cloud = modelled_cloud_pct(grid, rng)
    speed = modelled_wind_speed(grid, rng)
    turbine_power_curve.cache_clear()
    t0 = time.perf_counter()
    turbine_power_curve("V126/3300")
    first_curve_ms = 1e3 * (time.perf_counter() - t0)
    rows = [
        ("solar_pu clear, 8760 h", best_ms(lambda: solar_pu(grid, lat, lon, 30.0))),
        (
            "solar_pu cloud+temp, 8760 h",
            best_ms(lambda: solar_pu(grid, lat, lon, 30.0, cloud_pct=cloud, temp_c=20.0)),
        ),
        ("solar_pu clear, 35040 x 15 min", best_ms(lambda: solar_pu(quarter, lat, lon, 30.0))),
        (
            "modelled_cloud_pct, 8760 h",
            best_ms(lambda: modelled_cloud_pct(grid, np.random.default_rng(1))),
        ),
        (
            "calibrate_cloud_to_cf 0.17, 8760 h",
            best_ms(
                lambda: calibrate_cloud_to_cf(grid, lat, lon, 30.0, 0.17, np.random.default_rng(1))
            ),
        ),
        ("turbine_power_curve first read (oedb CSVs)", first_curve_ms),
        (
            "modelled_wind_speed, 8760 h",
            best_ms(lambda: modelled_wind_speed(grid, np.random.default_rng(1))),
        ),
        ("wind_pu, 8760 h", best_ms(lambda: wind_pu(speed, 100.0, 120.0))),
        (
            "modelled_temperature, 8760 h",
            best_ms(
                lambda: modelled_temperature(
                    grid,
                    np.random.default_rng(1),
                    lat_deg=lat,
                    lon_deg=lon,
                    t_mean_c=7.0,
                    seasonal_amp_c=14.0,
                    diurnal_amp_c=6.0,
                )
            ),
        ),
        (
            "10 hubs: temp+cloud+solar+wind+pue, 8760 h",
            best_ms(lambda: [hub_signals(grid, la, lo, i) for i, (la, lo) in enumerate(HUBS)], 3),
        ),
    ]
    width = max(len(name) for name, _ in rows)
    for name, ms in rows:
        print(f"{name:<{width}}  {ms:8.2f} ms")


if __name__ == "__main__":
    main()
