"""Daily series of a run for the report (pure numpy): blocks of ``24 / dt_h`` slots counted
from the scenario start (UTC); energies are summed (MWh per day), intensities averaged
(g CO2/kWh); a partial last day covers the slots that remain."""

from __future__ import annotations

import numpy as np

from greendispatch.report.labels import SUPPLY_KEYS
from greendispatch.sim.engine import SimRun


def slots_per_day(dt_h: float) -> int:
    """Slots in 24 h for a slot length of ``dt_h`` hours."""
    return round(24.0 / dt_h)


def daily_sum(arr: np.ndarray, spd: int) -> np.ndarray:
    """(H, T) per slot -> (H, D) per day, D = ceil(T / spd); the last day may be partial."""
    a = np.asarray(arr, dtype=np.float64)
    n_h, n_t = a.shape
    n_d = -(-n_t // spd)
    full = (n_t // spd) * spd
    out = np.empty((n_h, n_d))
    out[:, : n_t // spd] = a[:, :full].reshape(n_h, -1, spd).sum(axis=2)
    if full < n_t:
        out[:, -1] = a[:, full:].sum(axis=1)
    return out


def daily_mean(arr: np.ndarray, spd: int) -> np.ndarray:
    """(H, T) -> (H, D) mean over each day's slots (a partial last day over those it has)."""
    n_t = np.shape(arr)[1]
    counts = np.full(-(-n_t // spd), float(spd))
    if n_t % spd:
        counts[-1] = n_t % spd
    return daily_sum(arr, spd) / counts


def daily_supply(run: SimRun) -> dict[str, np.ndarray]:
    """Daily sums (MWh, shape (H, D)) of the supply stack of a run: own wind/solar used,
    battery discharge, contracted green used, grid, curtailed, and the load they serve."""
    spd = slots_per_day(run.signals.grid.dt_h)
    return {key: daily_sum(getattr(run.supply, key), spd) for key in SUPPLY_KEYS}


def daily_starts(run: SimRun) -> np.ndarray:
    """Jobs started per hub and day, shape (H, D) (a split job counts on its first slot)."""
    n_h, n_t = run.it_mw.shape
    spd = slots_per_day(run.signals.grid.dt_h)
    n_d = -(-n_t // spd)
    p = run.placements
    placed = p.hub >= 0
    idx = p.hub[placed].astype(np.int64) * n_d + p.start[placed] // spd
    return np.bincount(idx, minlength=n_h * n_d).reshape(n_h, n_d)
