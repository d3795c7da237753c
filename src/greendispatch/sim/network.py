"""The hub network as arrays for the engine: capacity, power per device, latency, bandwidth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from greendispatch.domain import EnergyAssets, Scenario
from greendispatch.domain.network import latency_matrix_ms, link_table
from greendispatch.workload.jobs import ANY, POOL_KINDS, SLOT_EPS, JobTable, release_and_slots


@dataclass(frozen=True)
class NetworkArrays:
    """Per hub (H) and pool kind (K = 4, in POOL_KINDS order); per region (R) and hub.

    ``cap`` devices; ``kw`` mean kW per device of that kind at that hub; ``idle`` the idle power
    share; ``latency_ms``/``bw_gbps`` of the region-to-hub links; ``home_hub`` the nearest hub
    of each region (where its data lives); ``models`` the device models per (hub, kind).
    """

    hub_ids: tuple[str, ...]
    region_ids: tuple[str, ...]
    cap: np.ndarray
    kw: np.ndarray
    idle: np.ndarray
    models: tuple[tuple[frozenset[str], ...], ...]
    latency_ms: np.ndarray
    bw_gbps: np.ndarray
    home_hub: np.ndarray
    wind_mw: np.ndarray
    solar_mw: np.ndarray
    contracted_mw: np.ndarray
    assets: tuple[EnergyAssets, ...] = ()

    @property
    def n_hubs(self) -> int:
        return len(self.hub_ids)

    def idle_it_mw(self) -> np.ndarray:
        """IT power (MW) of each hub with every device idle, shape (H,)."""
        return (self.cap * self.kw * self.idle).sum(axis=1) / 1000.0


def network_arrays(scenario: Scenario) -> NetworkArrays:
    hubs = scenario.hubs
    n_h, n_k = len(hubs), len(POOL_KINDS)
    cap = np.zeros((n_h, n_k), dtype=np.int64)
    kw_sum = np.zeros((n_h, n_k))
    idle_sum = np.zeros((n_h, n_k))
    models: list[list[set[str]]] = [[set() for _ in range(n_k)] for _ in range(n_h)]
    for h, hub in enumerate(hubs):
        for pool in hub.pools:
            k = POOL_KINDS.index(pool.kind)
            cap[h, k] += pool.devices
            kw_sum[h, k] += pool.devices * pool.kw_per_device
            idle_sum[h, k] += pool.devices * pool.idle_power_share
            models[h][k].add(pool.device_model)
    with np.errstate(invalid="ignore", divide="ignore"):
        kw = np.where(cap > 0, kw_sum / np.maximum(cap, 1), 0.0)
        idle = np.where(cap > 0, idle_sum / np.maximum(cap, 1), 0.0)
    regions = scenario.regions
    lat = latency_matrix_ms(scenario)
    bw_pairs = {(lk.a, lk.b): lk.bandwidth_gbps for lk in link_table(scenario)}
    bw_pairs |= {(b, a): v for (a, b), v in bw_pairs.items()}
    latency = np.array([[lat[(r.id, h.id)] for h in hubs] for r in regions]).reshape(
        len(regions), n_h
    )
    bw = np.array([[bw_pairs[(r.id, h.id)] for h in hubs] for r in regions]).reshape(
        len(regions), n_h
    )
    home = latency.argmin(axis=1) if len(regions) else np.zeros(0, dtype=np.int64)
    return NetworkArrays(
        hub_ids=tuple(h.id for h in hubs),
        region_ids=tuple(r.id for r in regions),
        cap=cap,
        kw=kw,
        idle=idle,
        models=tuple(tuple(frozenset(m) for m in row) for row in models),
        latency_ms=latency,
        bw_gbps=bw,
        home_hub=home,
        wind_mw=np.array([h.assets.wind_mw for h in hubs], dtype=np.float64),
        solar_mw=np.array([h.assets.solar_mw for h in hubs], dtype=np.float64),
        contracted_mw=np.array([h.assets.contracted_green_mw for h in hubs], dtype=np.float64),
        assets=tuple(h.assets for h in hubs),
    )


def allowed_mask(
    net: NetworkArrays, jobs: JobTable, j: int, k: int, origin: int
) -> tuple[np.ndarray, bool]:
    """Hubs job ``j`` (pool kind ``k``, from region ``origin``) may use, before capacity, and
    whether its latency limit had to be broken.

    Residency (allowed hubs), device type and latency limit from ``origin``; when no allowed
    hub meets the latency limit, the nearest allowed hub alone, flagged as a violation.
    """
    n_h = net.n_hubs
    mask = net.cap[:, k] > 0
    allowed_set, device_type = int(jobs.allowed_set[j]), int(jobs.device_type[j])
    if allowed_set != ANY:
        ok = set(jobs.allowed_sets[allowed_set])
        mask &= np.array([h in ok for h in net.hub_ids])
    if device_type != ANY:
        # "A|B" means any of these device models.
        wanted = set(jobs.device_types[device_type].split("|"))
        mask &= np.array([bool(wanted & net.models[h][k]) for h in range(n_h)])
    max_lat = float(jobs.max_latency_ms[j])
    if net.region_ids and np.isfinite(max_lat):
        lat_ok = net.latency_ms[origin] <= max_lat
        if np.any(mask) and not np.any(mask & lat_ok):
            near = int(np.argmin(np.where(mask, net.latency_ms[origin], np.inf)))
            only = np.zeros(n_h, dtype=bool)
            only[near] = True
            return only, True
        mask &= lat_ok
    return mask, False


def job_hub_masks(net: NetworkArrays, jobs: JobTable) -> tuple[np.ndarray, np.ndarray]:
    """Per job: the hubs it may use (n, H) -- :func:`allowed_mask` and a pool of that kind
    with at least its devices -- and whether its latency limit is broken (n,)."""
    n = len(jobs)
    origin = jobs.origin.astype(np.int64) if net.region_ids else np.zeros(n, dtype=np.int64)
    keys = np.stack(
        [jobs.allowed_set, jobs.device_type, jobs.pool, origin, jobs.max_latency_ms], axis=1
    )
    uniq, first, inv = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    masks = np.zeros((len(uniq), net.n_hubs), dtype=bool)
    viol = np.zeros(len(uniq), dtype=bool)
    for u, j in enumerate(first.tolist()):
        masks[u], viol[u] = allowed_mask(net, jobs, j, int(jobs.pool[j]), int(origin[j]))
    inv = inv.reshape(-1)
    mask = masks[inv] & (jobs.devices[:, None] <= net.cap[:, jobs.pool].T)
    return mask, viol[inv]


_EPS = SLOT_EPS


def job_windows(
    jobs: JobTable, n_slots: int, dt_h: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per job, in slots: release (first slot boundary at or after submit), slots of work at
    full devices (at least 1) and deadline (exclusive end, at most ``n_slots``).

    A job's work ends in its last slot, ``duration_h - (d - 1) x dt_h`` after that slot starts
    (:func:`~greendispatch.sim.results.end_hours`), not at the slot's end: the deadline slot is
    one past the last slot in which the work can start that part and still end by
    ``deadline_h``. (A job of whole slots must end by the last slot boundary at or before its
    deadline; a 0.2 h job due 0.2 h after its release may run in the slot it is released in.)
    """
    release, d = release_and_slots(jobs.submit_h, jobs.duration_h, dt_h)
    last_part_h = np.maximum(jobs.duration_h - (d - 1) * dt_h, 0.0)
    last = np.floor((jobs.deadline_h - last_part_h) / dt_h + _EPS)  # latest start of the last slot
    end = np.clip(last + 1, 0, n_slots).astype(np.int64)
    return release, d, end


def transfer_h_per_gb(net: NetworkArrays) -> np.ndarray:
    """Hours to move one GB from each region to each hub (R, H); none to the home hub."""
    h_per_gb = 8.0 / (net.bw_gbps * 3600.0)
    h_per_gb[np.arange(len(net.home_hub)), net.home_hub] = 0.0
    return h_per_gb
