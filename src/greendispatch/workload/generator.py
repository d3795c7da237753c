"""Seeded synthetic jobs, calibrated to the real traces and scaled to a target utilisation.

A job is drawn in five vectorised steps (no Python loop per job):

1. **kind**: exact counts from the mix (largest remainder), e.g. 30 % ``batch_cpu``. Kinds whose
   pool kind has no devices in the scenario (``hpc`` in ``global-16``) are left out and the other
   shares renormalised.
2. **base size and duration** from per-kind quantile tables (log-linear between quantiles) that
   ``bench/calibrate_workload.py`` fitted once to the traces in ``../shared/data/traces``; the
   module never reads a trace at run time.
3. **submit time**: a uniform day, an hour of day from :data:`ARRIVAL_HOUR_PMF` (online inference:
   :data:`ONLINE_DIURNAL`) in the origin's local time, a uniform time in that hour. Online starts on
   a slot boundary and lasts one slot. Origins are the scenario's demand regions by weight (in
   ``china-hubs`` these are the eastern regions, where users and their data are).
4. **scaling**: per pool kind the device-hours are made equal to ``utilisation`` x the scenario's
   devices of that kind x hours (:func:`_scale_pool`). Device counts scale first, by one factor
   per pool kind that keeps the traces' size shape, until the largest 1 % of jobs reach
   ``cap_share`` of the smallest hub's pool of that kind (so every job fits every hub); durations
   take the rest, each at most min(horizon/4, 30 days). A job is thus a workload unit: at
   national-hub scale one ``batch_cpu`` job may hold 30,000 cores. A warning says when the target
   is out of reach (too few jobs for the capacity).
5. **deadline** = submit + duration + slack (per kind, :data:`PROFILES`); a job whose deadline
   would fall after the horizon moves earlier by whole days (keeping its hour of day) to a day
   drawn uniformly among those on which it can finish inside the simulated period (not all to
   the latest such day, which would pile the last weeks' work onto a few days).
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from greendispatch.domain import Scenario
from greendispatch.errors import InputError
from greendispatch.workload.jobs import ANY, JOB_KINDS, POOL_KINDS, JobTable

# Moved to their own modules; imported here so that they stay importable from this one.
from greendispatch.workload.origins import Origins as Origins
from greendispatch.workload.origins import _allowed_sets, demand_origins
from greendispatch.workload.profiles import (
    ARRIVAL_HOUR_PMF,
    DEFAULT_MIX,
    DURATION_H_Q,
    KIND_POOL,
    ONLINE_DIURNAL,
    PROFILES,
    QUANTILES,
    RESTRICTED_SHARE,
    SIZE_Q,
    TENANT_PMF,
    TENANTS,
    K,
)
from greendispatch.workload.profiles import DATA_GB_MEDIAN as DATA_GB_MEDIAN
from greendispatch.workload.profiles import KindProfile as KindProfile
from greendispatch.workload.profiles import P as P
from greendispatch.workload.scaling import _fit_multiplier as _fit_multiplier
from greendispatch.workload.scaling import _scale_pool, pool_devices
from greendispatch.workload.scaling import stochastic_round as stochastic_round


def parse_mix(text: str) -> dict[str, float]:
    """``"training=0.3,finetune=0.2"`` -> shares per kind (normalised to sum 1; kinds not named
    get 0). Raise InputError naming the bad item."""
    valid = [k.value for k in JOB_KINDS]
    out: dict[str, float] = {}
    for item in (s.strip() for s in text.split(",")):
        if not item:
            continue
        name, sep, value = (part.strip() for part in item.partition("="))
        if not sep:
            raise InputError(f"mix item '{item}' must look like KIND=SHARE (e.g. training=0.3)")
        if name not in valid:
            close = difflib.get_close_matches(name, valid, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise InputError(f"unknown job kind '{name}' in mix (valid: {', '.join(valid)}){hint}")
        try:
            share = float(value)
        except ValueError:
            raise InputError(f"mix share for '{name}' must be a number (got '{value}')") from None
        if not math.isfinite(share) or share < 0:
            raise InputError(f"mix share for '{name}' must be >= 0 (got {value})")
        out[name] = share
    return _normalise_mix(out)


def _normalise_mix(mix: Mapping[str, float]) -> dict[str, float]:
    valid = [k.value for k in JOB_KINDS]
    bad = [k for k in mix if k not in valid]
    if bad:
        raise InputError(f"unknown job kind(s) {bad} in mix (valid: {', '.join(valid)})")
    total = sum(mix.values())
    if not total > 0 or any(v < 0 for v in mix.values()):
        raise InputError(f"mix shares must be >= 0 and not all 0 (got {dict(mix)})")
    return {k: mix.get(k, 0.0) / total for k in valid}


def _counts(n: int, shares: np.ndarray) -> np.ndarray:
    """Largest-remainder apportionment of ``n`` jobs to shares."""
    raw = n * shares
    counts = np.floor(raw).astype(np.int64)
    counts[np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]] += 1
    return counts


def _from_quantiles(u: np.ndarray, table: tuple[float, ...]) -> np.ndarray:
    return np.exp(np.interp(u, QUANTILES, np.log(table)))


def _pick(pmf: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    return np.searchsorted(np.cumsum(pmf / pmf.sum()), rng.random(n) * (1 - 1e-12), side="right")


def generate_jobs(
    scenario: Scenario,
    n_jobs: int,
    rng: np.random.Generator,
    *,
    days: float | None = None,
    dt_h: float | None = None,
    utilisation: float = 0.5,
    mix: Mapping[str, float] | str = DEFAULT_MIX,
    slack_h: float | Mapping[str, float | tuple[float, float]] | None = None,
    latency_ms: float = 30.0,
    cap_share: float = 0.1,
    residency_hubs: int = 2,
) -> JobTable:
    """Draw ``n_jobs`` synthetic jobs for ``scenario`` (see the module docstring for the method).

    Parameters: ``days`` horizon (d, default the scenario's); ``dt_h`` slot length (h, default the
    scenario's; online inference lasts one slot); ``utilisation`` target device-hours / (devices x
    hours) per pool kind (0-1); ``mix`` job shares per kind (mapping or ``parse_mix`` text);
    ``slack_h`` slack (h) overriding :data:`PROFILES`: one number for every kind, or per kind a
    number or a (low, high) range (online inference always has none);
    ``latency_ms`` one-way limit for online inference (ms); ``cap_share`` largest job as a share
    of the smallest hub's pool of its kind; ``residency_hubs`` hubs a restricted job may use.
    """
    days = float(scenario.time.days if days is None else days)
    dt = float(scenario.time.dt_h if dt_h is None else dt_h)
    if n_jobs < 0 or days <= 0 or dt <= 0 or not 0 < cap_share <= 1 or residency_hubs < 1:
        raise InputError(
            f"generate_jobs needs n_jobs >= 0, days > 0, dt_h > 0, 0 < cap_share <= 1 and "
            f"residency_hubs >= 1 (got {n_jobs}, {days}, {dt}, {cap_share}, {residency_hubs})"
        )
    if not (math.isfinite(utilisation) and utilisation > 0):
        raise InputError(f"utilisation must be > 0 (got {utilisation})")
    lo, hi = _slack_ranges(slack_h)
    shares_by_name = parse_mix(mix) if isinstance(mix, str) else _normalise_mix(mix)
    total_dev, smallest = pool_devices(scenario)
    pool_of = np.array([POOL_KINDS.index(KIND_POOL[k]) for k in JOB_KINDS])
    shares = np.array([shares_by_name[k.value] for k in JOB_KINDS])
    shares[total_dev[pool_of] == 0] = 0.0
    if n_jobs and not shares.sum() > 0:
        raise InputError(
            f"no job kind in the mix has capacity in scenario '{scenario.name}' "
            f"(pool kinds with devices: {[POOL_KINDS[i].value for i in np.flatnonzero(total_dev)]})"
        )
    horizon = days * 24.0
    n_hours = max(1, math.floor(horizon / dt))
    org = demand_origins(scenario)
    counts = _counts(n_jobs, shares / shares.sum()) if n_jobs else np.zeros(len(JOB_KINDS), int)
    kind = np.repeat(np.arange(len(JOB_KINDS), dtype=np.int8), counts)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    n = int(n_jobs)
    online = kind == JOB_KINDS.index(K.ONLINE_INFERENCE)
    pool = pool_of[kind].astype(np.int8)

    # 2. base sizes and durations from the fitted tables
    u_size, u_dur = rng.random(n), rng.random(n)
    d0, t0 = np.ones(n), np.full(n, dt)
    for k, kk in enumerate(JOB_KINDS):
        sl = slice(bounds[k], bounds[k + 1])
        d0[sl] = _from_quantiles(u_size[sl], SIZE_Q[kk])
        if kk is not K.ONLINE_INFERENCE:
            t0[sl] = _from_quantiles(u_dur[sl], DURATION_H_Q[kk])

    # 3. origins and submit times in the origin's local time
    origin = _pick(org.weights, rng, n)
    day = rng.integers(0, max(1, math.ceil(days)), n)
    hour = np.empty(n)
    hour[~online] = _pick(np.asarray(ARRIVAL_HOUR_PMF), rng, int((~online).sum()))
    hour[online] = _pick(np.asarray(ONLINE_DIURNAL), rng, int(online.sum()))
    local = day * 24.0 + hour + np.where(online, 0.0, rng.random(n))
    submit = np.mod(local - org.utc_offset_h[origin], horizon)
    submit[online] = np.minimum(np.floor(submit[online] / dt), n_hours - 1) * dt

    # 4. scale sizes (capped) then durations per pool kind to the utilisation target
    devices = np.ones(n, dtype=np.int64)
    duration = t0.copy()
    max_dur = min(horizon / 4.0, 30 * 24.0)
    for p in np.unique(pool):
        m = pool == p
        target = utilisation * total_dev[p] * horizon
        cap = max(1, int(cap_share * smallest[p]))
        devices[m], duration[m] = _scale_pool(d0[m], t0[m], online[m], target, cap, max_dur, rng)
        got = float(devices[m] @ duration[m])
        if abs(got / target - 1) > 0.05:
            pool_kind, count, share = POOL_KINDS[p].value, int(m.sum()), f"{got / target:.0%}"
            if got < target:
                advice_zh = (
                    f"作业已达上限（每个作业 {cap:,} 台设备、{max_dur:g} 小时），可增加 --jobs"
                )
                advice = (
                    f"the jobs are at their caps ({cap:,} devices and {max_dur:g} h a job), so "
                    "give more --jobs"
                )
            else:
                advice_zh = "最小的作业已超出目标，可减少 --jobs"
                advice = "even the smallest jobs exceed it, so give fewer --jobs"
            warnings.warn(
                f"{pool_kind} 资源池：{count} 个作业达到目标利用率的 {share}；{advice_zh}。"
                f"{pool_kind} pool: {count} jobs reach {share} of the utilisation target; {advice}",
                RuntimeWarning,
                stacklevel=2,
            )

    # 5. slack, deadlines inside the horizon, and the other columns
    slack = lo[kind] + (hi - lo)[kind] * rng.random(n)
    slack[online] = 0.0
    late_h = np.maximum(submit + duration + slack - horizon, 0.0)
    late = late_h > 0
    submit = submit - 24.0 * np.ceil(late_h / 24.0)  # the latest day on which it fits
    under = submit < 0
    submit[under] = 0.0
    slack[under] = np.clip(horizon - duration[under], 0.0, slack[under])

    prof = [PROFILES[kk] for kk in JOB_KINDS]
    share_int = np.array([p.interruptible_share for p in prof])
    ck_lo, ck_hi = (np.array([p.checkpoint_h[i] for p in prof]) for i in (0, 1))
    interruptible = rng.random(n) < share_int[kind]
    checkpoint = np.where(interruptible, ck_lo[kind] + (ck_hi - ck_lo)[kind] * rng.random(n), 0.0)
    med = np.array([p.data_gb_median for p in prof])
    sig = np.array([p.data_gb_sigma for p in prof])
    data_gb = med[kind] * np.exp(sig[kind] * rng.standard_normal(n))
    cdf = np.cumsum(TENANT_PMF, axis=1)
    tenant = (rng.random(n)[:, None] >= cdf[kind, :-1]).sum(axis=1)
    restricted_by_tenant = np.array([RESTRICTED_SHARE.get(t, 0.0) for t in TENANTS])
    restricted = rng.random(n) < restricted_by_tenant[tenant]
    sets, table = _allowed_sets(scenario, org, residency_hubs)
    allowed = np.where(restricted, table[origin, pool], ANY)

    # A late job takes a day drawn uniformly among the days it fits (drawn last, so the other
    # columns are as without it): moving them all to their latest day would pile the work of
    # the horizon's last weeks onto a few days (12x the mean on day 333 of a year of china-hubs).
    days_back = np.floor(rng.random(n) * (np.floor(submit / 24.0) + 1.0))
    submit = np.where(late & ~under, submit - 24.0 * days_back, submit)
    deadline = submit + duration + slack
    cols = {
        "tenant": tenant, "kind": kind, "pool": pool, "devices": devices, "duration_h": duration,
        "submit_h": submit, "deadline_h": deadline, "interruptible": interruptible,
        "checkpoint_h": checkpoint, "data_gb": data_gb, "origin": origin,
        "max_latency_ms": np.where(online, latency_ms, np.inf), "allowed_set": allowed,
    }  # fmt: skip
    order = np.argsort(submit, kind="stable")
    return JobTable(
        job_id=np.arange(n, dtype=np.int64),
        device_type=np.full(n, ANY),
        **{name: col[order] for name, col in cols.items()},
        tenants=TENANTS,
        regions=org.ids,
        allowed_sets=sets,
    )


def _slack_ranges(slack_h: float | Mapping[str, Any] | None) -> tuple[np.ndarray, np.ndarray]:
    """Per kind (low, high) slack in hours: PROFILES, overridden by ``slack_h``."""
    ranges = {k.value: PROFILES[k].slack_h for k in JOB_KINDS}
    given = dict.fromkeys(ranges, slack_h) if isinstance(slack_h, int | float) else slack_h or {}
    for name, v in given.items():
        if name not in ranges:
            raise InputError(f"slack_h: unknown job kind '{name}' (valid: {', '.join(ranges)})")
        ranges[name] = (v, v) if isinstance(v, int | float) else tuple(v)
    lo, hi = np.array(list(ranges.values()), dtype=float).T
    if not np.all((lo >= 0) & (lo <= hi)):
        raise InputError(f"slack_h must satisfy 0 <= low <= high per kind (got {slack_h})")
    return lo, hi
