"""Metrics of a run, and per-job / per-hub-slot tables.

Carbon is location-based (grid average intensity of the imported energy, direct/operational);
green energy is own wind/solar used, battery discharge of green charge, and contracted green
supply, matched in the same slot (never coarser than an hour). Cost counts grid energy at the
slot's price and contracted green at the hub's mean grid price (modelled).

Attribution: the grid import serving a hub-slot's load is shared among the jobs running there
and the hub's own load (idle devices) pro rata by energy; the grid energy charged into batteries
(``--grid-charge``) is the facility's, which drew it from the grid, in the slot it was drawn.
So ``carbon_t = jobs_carbon_t + facility_carbon_t``, and ``grid_charge_carbon_t`` is the part of
``facility_carbon_t`` from grid charging.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from greendispatch.sim.engine import SimRun
from greendispatch.sim.results import end_hours, idle_parts
from greendispatch.workload.jobs import JOB_KINDS, POOL_KINDS

METRIC_KEYS = (
    "carbon_t",
    "energy_mwh",
    "cost",
    "green_share",
    "cfe_share",
    "curtailed_mwh",
    "wait_mean_h",
    "wait_p95_h",
    "deadline_misses",
    "unplaced",
    "latency_violations",
    "data_moved_tb",
    "runtime_s",
)


def hub_slot_carbon_t(run: SimRun) -> np.ndarray:
    """Tonnes CO2 per hub-slot from grid imports (load and grid charging)."""
    s = run.supply
    return (s.grid_mwh + s.grid_charge_mwh) * run.signals.ci_g_per_kwh * 1e-3


def hub_slot_cost(run: SimRun) -> np.ndarray:
    s = run.supply
    price = run.signals.price_per_mwh
    contract_price = price.mean(axis=1, keepdims=True)
    return (s.grid_mwh + s.grid_charge_mwh) * price + s.contracted_used_mwh * contract_price


def wait_hours(run: SimRun) -> np.ndarray:
    """Waiting time (h) of each placed job: its first slot's start minus its submit time."""
    p = run.placements
    placed = p.hub >= 0
    w = p.start[placed] * run.signals.grid.dt_h - run.jobs.submit_h[placed]
    return np.maximum(w, 0.0)


def run_metrics(run: SimRun) -> dict[str, Any]:
    s, p, dt = run.supply, run.placements, run.signals.grid.dt_h
    load = float(s.load_mwh.sum())
    green = float(s.green_mwh.sum())
    clean_grid = float((s.grid_mwh * run.signals.low_carbon_share).sum())
    waits = wait_hours(run)
    util: dict[str, dict[str, float]] = {}
    busy_sum = run.busy.sum(axis=2)
    n_t = run.busy.shape[2]
    for h, hub_id in enumerate(run.net.hub_ids):
        util[hub_id] = {
            kind.value: round(float(busy_sum[h, k] / (run.net.cap[h, k] * n_t)), 6)
            for k, kind in enumerate(POOL_KINDS)
            if run.net.cap[h, k] > 0
        }
    _, _, job_carbon_kg = job_energy(run)
    carbon_t = float(hub_slot_carbon_t(run).sum())
    jobs_carbon_t = float(job_carbon_kg.sum() / 1000.0)
    return {
        "carbon_t": carbon_t,
        "jobs_carbon_t": jobs_carbon_t,
        # The rest: the hubs' own load (idle devices) and grid charging, as the ledger's facility.
        "facility_carbon_t": carbon_t - jobs_carbon_t,
        "grid_charge_carbon_t": float((s.grid_charge_mwh * run.signals.ci_g_per_kwh).sum() * 1e-3),
        "grid_charge_mwh": float(s.grid_charge_mwh.sum()),
        "energy_mwh": load,
        "it_energy_mwh": float(run.it_mw.sum() * dt),
        "cost": float(hub_slot_cost(run).sum()),
        "green_share": green / load if load > 0 else 0.0,
        "cfe_share": (green + clean_grid) / load if load > 0 else 0.0,
        "curtailed_mwh": float(s.curtailed_mwh.sum()),
        "wait_mean_h": float(waits.mean()) if len(waits) else 0.0,
        "wait_p95_h": float(np.percentile(waits, 95)) if len(waits) else 0.0,
        "wait_max_h": float(waits.max()) if len(waits) else 0.0,
        "deadline_misses": int(p.missed.sum()),
        "unplaced": int((p.hub < 0).sum()),
        "latency_violations": int(p.latency_violation.sum()),
        "data_moved_tb": float(p.data_moved_gb.sum() / 1000.0),
        "jobs": len(run.jobs),
        "runtime_s": run.runtime_s,
        "utilisation": util,
        # Per tenant: jobs run and deadlines missed (a policy may shift its misses onto the
        # tenants whose data must stay near home).
        "tenants": {
            name: {"jobs": int(n), "deadline_misses": int(k)}
            for name, n, k in zip(run.jobs.tenants, *_per_tenant(run), strict=True)
            if n
        },
    }


def _per_tenant(run: SimRun) -> tuple[np.ndarray, np.ndarray]:
    """Jobs and missed deadlines per tenant code."""
    tenant, n = run.jobs.tenant, len(run.jobs.tenants)
    return (
        np.bincount(tenant, minlength=n),
        np.bincount(tenant, weights=run.placements.missed, minlength=n).round(),
    )


def job_energy(run: SimRun) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per job: facility energy (MWh), green energy (MWh) and carbon (kg) of its work (its
    devices' full power while they work, :func:`idle_parts` excluded), pro rata by energy
    within each hub-slot (carbon: of the grid import serving the load; grid charging is the
    facility's)."""
    s, p, jobs, net = run.supply, run.placements, run.jobs, run.net
    dt = run.signals.grid.dt_h
    load = s.load_mwh
    with np.errstate(divide="ignore", invalid="ignore"):
        green_frac = np.where(load > 0, s.green_mwh / load, 0.0)
        grid_kg_per_mwh = np.where(load > 0, s.grid_mwh * run.signals.ci_g_per_kwh / load, 0.0)
    pue = run.signals.pue
    series = np.stack([pue, pue * green_frac, pue * grid_kg_per_mwh])  # (3, H, T)
    cs = np.zeros((3, *pue.shape[:1], pue.shape[1] + 1))
    np.cumsum(series, axis=2, out=cs[:, :, 1:])
    n = len(jobs)
    out = np.zeros((3, n))
    placed = np.flatnonzero(p.hub >= 0)
    h = p.hub[placed]
    k = jobs.pool[placed]
    mw = jobs.devices[placed] * net.kw[h, k] / 1000.0 * dt
    a, b = p.start[placed], p.start[placed] + p.n_slots[placed]
    out[:, placed] = (cs[:, h, b] - cs[:, h, a]) * mw
    for j, slots in p.split_slots.items():
        hj, kj = p.hub[j], jobs.pool[j]
        mwj = jobs.devices[j] * net.kw[hj, kj] / 1000.0 * dt
        out[:, j] = series[:, hj, slots].sum(axis=1) * mwj
    # Less the parts of slots its devices stand idle after the work ends (reserved, not working).
    tail = idle_parts(jobs, p, dt)
    th = p.hub[tail.job]
    mwt = jobs.devices[tail.job] * net.kw[th, jobs.pool[tail.job]] / 1000.0 * dt * tail.idle
    for i in range(3):
        np.subtract.at(out[i], tail.job, series[i, th, tail.slot] * mwt)
    return out[0], out[1], out[2]


def jobs_frame(run: SimRun) -> pd.DataFrame:
    jobs, p, dt = run.jobs, run.placements, run.signals.grid.dt_h
    energy, green, carbon = job_energy(run)
    placed = p.hub >= 0
    hub_ids = np.array([*run.net.hub_ids, ""], dtype=object)
    start_h = np.where(placed, p.start * dt, np.nan)
    end_h = end_hours(jobs, p, dt)
    return pd.DataFrame(
        {
            "job_id": jobs.job_id,
            "tenant": np.array(jobs.tenants, dtype=object)[jobs.tenant],
            "kind": np.array([k.value for k in JOB_KINDS], dtype=object)[jobs.kind],
            "pool": np.array([k.value for k in POOL_KINDS], dtype=object)[jobs.pool],
            "devices": jobs.devices,
            "submit_h": jobs.submit_h,
            "deadline_h": jobs.deadline_h,
            "hub": hub_ids[p.hub],
            "start_h": start_h,
            "slots": p.n_slots,
            "segments": p.segments,
            "wait_h": np.where(placed, np.maximum(start_h - jobs.submit_h, 0.0), np.nan),
            "missed": p.missed,
            "latency_violation": p.latency_violation,
            "data_moved_gb": p.data_moved_gb,
            "energy_mwh": energy,
            "green_mwh": green,
            "carbon_kg": carbon,
            # Added later: at the end, so that scripts reading columns by position still work.
            "end_h": end_h,
            "late_h": np.maximum(end_h - jobs.deadline_h, 0.0),
        }
    )


def hub_slots_frame(run: SimRun) -> pd.DataFrame:
    s, sig = run.supply, run.signals
    n_h, n_t = s.load_mwh.shape
    times = sig.grid.index().strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()
    cols = {
        "time_utc": np.tile(times, n_h),
        "hub": np.repeat(np.array(run.net.hub_ids, dtype=object), n_t),
        "it_mw": run.it_mw,
        "load_mwh": s.load_mwh,
        "own_used_mwh": s.own_used_mwh,
        "battery_discharge_mwh": s.discharge_mwh,
        "battery_charge_mwh": s.charge_mwh,
        "contracted_used_mwh": s.contracted_used_mwh,
        "grid_mwh": s.grid_mwh,
        "curtailed_mwh": s.curtailed_mwh,
        "soc_mwh": s.soc_mwh,
        "ci_g_per_kwh": sig.ci_g_per_kwh,
        "carbon_t": hub_slot_carbon_t(run),
        # Added later: at the end, for scripts that read the columns by position.
        "grid_charge_mwh": s.grid_charge_mwh,
        "battery_discharge_green_mwh": s.discharge_green_mwh,
    }
    return pd.DataFrame(
        {
            k: (v.reshape(-1) if isinstance(v, np.ndarray) and v.ndim == 2 else v)
            for k, v in cols.items()
        }
    )
