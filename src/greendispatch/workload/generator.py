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
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from greendispatch.domain import PoolKind, Scenario, great_circle_km
from greendispatch.errors import InputError
from greendispatch.workload.jobs import ANY, JOB_KINDS, POOL_KINDS, JobKind, JobTable

K, P = JobKind, PoolKind
# fmt: off
KIND_POOL: Mapping[JobKind, PoolKind] = MappingProxyType({
    K.TRAINING: P.AI, K.FINETUNE: P.AI, K.BATCH_INFERENCE: P.AI, K.ONLINE_INFERENCE: P.AI,
    K.HPC: P.HPC, K.BATCH_CPU: P.GENERAL,
})
# Share of jobs (by count) per kind; normalised on use.
DEFAULT_MIX: Mapping[str, float] = MappingProxyType({
    "training": 0.10, "finetune": 0.15, "batch_inference": 0.15, "online_inference": 0.20,
    "hpc": 0.10, "batch_cpu": 0.30,
})
# fmt: on


@dataclass(frozen=True)
class KindProfile:
    """What a kind of job tolerates (all modelled): slack drawn uniformly in ``slack_h`` (h), the
    share that may be interrupted and its checkpoint overhead per resume (h, uniform), and its
    input data (GB, lognormal with this median and log-sigma)."""

    slack_h: tuple[float, float]
    interruptible_share: float
    checkpoint_h: tuple[float, float]
    data_gb_median: float
    data_gb_sigma: float


# fmt: off
PROFILES: Mapping[JobKind, KindProfile] = MappingProxyType({
    K.TRAINING: KindProfile((24.0, 72.0), 0.8, (0.10, 0.25), 500.0, 1.0),
    K.FINETUNE: KindProfile((6.0, 24.0), 0.6, (0.05, 0.15), 50.0, 1.0),
    K.BATCH_INFERENCE: KindProfile((6.0, 24.0), 0.9, (0.01, 0.05), 100.0, 1.0),
    K.ONLINE_INFERENCE: KindProfile((0.0, 0.0), 0.0, (0.0, 0.0), 0.0, 0.0),
    K.HPC: KindProfile((12.0, 48.0), 0.3, (0.10, 0.25), 200.0, 1.2),
    K.BATCH_CPU: KindProfile((6.0, 24.0), 0.7, (0.01, 0.05), 20.0, 1.2),
})
DATA_GB_MEDIAN: Mapping[JobKind, float] = MappingProxyType(
    {k: p.data_gb_median for k, p in PROFILES.items()})
# Tenants (Chinese-first: 人工智能实验室, 互联网平台, 科研院所, 银行, 政务, 制造) and the share of
# each kind's jobs that each submits (modelled; rows follow JOB_KINDS, columns TENANTS).
TENANTS: tuple[str, ...] = ("ai-lab", "internet", "institute", "bank", "government", "factory")
TENANT_PMF = np.array([
    [0.45, 0.35, 0.15, 0.03, 0.02, 0.00],  # training
    [0.25, 0.30, 0.10, 0.12, 0.08, 0.15],  # finetune
    [0.15, 0.45, 0.05, 0.12, 0.08, 0.15],  # batch_inference
    [0.10, 0.55, 0.00, 0.15, 0.10, 0.10],  # online_inference
    [0.05, 0.00, 0.60, 0.05, 0.10, 0.20],  # hpc
    [0.00, 0.35, 0.10, 0.20, 0.15, 0.20],  # batch_cpu
])
# fmt: on
# Data residency: share of a tenant's jobs restricted to the ``residency_hubs`` hubs nearest to
# their origin (modelled: financial data stays near the bank; half of government work).
RESTRICTED_SHARE: Mapping[str, float] = MappingProxyType({"bank": 1.0, "government": 0.5})

# ---- Fitted by bench/calibrate_workload.py on ../shared/data/traces (do not edit by hand). ----
# Size = base devices per job, duration in hours, at QUANTILES (log-linear in between); the
# arrival hour is on the Alibaba GPU 2023 trace's own clock, taken as the origin's local time.
QUANTILES = (0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
# fmt: off
# training: 22,649 PAI jobs, finetune: 77,349; batch_inference: 1,412
# Alibaba sharing pods; batch_cpu: 99,988 Azure VMs; hour of day: 8,152 Alibaba pods
SIZE_Q: Mapping[JobKind, tuple[float, ...]] = MappingProxyType({
    K.TRAINING: (1, 1, 1, 1, 1, 1, 1, 5, 8, 10, 16, 25, 36, 75, 400),
    K.FINETUNE: (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 5, 7, 7),
    K.BATCH_INFERENCE: (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 8),
    K.ONLINE_INFERENCE: (8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8),  # modelled
    K.HPC: (  # modelled
        1, 1.562, 3.089, 4.442, 6.896, 9.471, 12.42, 16, 20.61, 27.03, 37.12, 57.64, 82.88,
        163.8, 512,
    ),
    K.BATCH_CPU: (2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 8, 8, 24, 30),
})
DURATION_H_Q: Mapping[JobKind, tuple[float, ...]] = MappingProxyType({
    K.TRAINING: (
        0.08361, 0.09306, 0.15, 0.2622, 0.5507, 1.485, 4.121, 4.948, 6.01, 7.591, 10.36, 15.85,
        22.36, 42.62, 71.14,
    ),
    K.FINETUNE: (
        0.08361, 0.08556, 0.09528, 0.11, 0.1547, 0.2194, 0.3114, 0.4647, 0.723, 1.072, 1.567,
        2.362, 3.056, 3.765, 4,
    ),
    K.BATCH_INFERENCE: (
        0.004444, 0.01003, 0.0146, 0.02083, 0.04256, 0.105, 0.1664, 0.2775, 0.4348, 0.7825,
        1.565, 4.048, 8.474, 50.34, 72,
    ),
    K.ONLINE_INFERENCE: (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),  # modelled
    K.HPC: (  # modelled
        0.25, 0.3906, 0.7722, 1.11, 1.724, 2.368, 3.105, 4, 5.153, 6.758, 9.281, 14.41, 20.72,
        40.96, 48,
    ),
    K.BATCH_CPU: (
        0.1667, 0.1667, 0.1667, 0.1667, 0.25, 0.3333, 0.4167, 0.5833, 0.8333, 1.5, 3.583, 11.33,
        20, 50.33, 71.92,
    ),
})
ARRIVAL_HOUR_PMF: tuple[float, ...] = (
    0.0632, 0.0559, 0.0444, 0.0535, 0.0523, 0.0390, 0.0357, 0.0406, 0.0297, 0.0179, 0.0272,
    0.0250, 0.0186, 0.0183, 0.0168, 0.0332, 0.0369, 0.0521, 0.0675, 0.0572, 0.0432, 0.0527,
    0.0530, 0.0660,
)
# fmt: on
# ---- end of fitted tables ----

# Online inference demand by local hour (modelled interactive-service shape: night trough at
# ~04:00, working-day plateau, evening shoulder); relative, normalised to mean 1 on use.
ONLINE_DIURNAL: tuple[float, ...] = (
    0.55, 0.45, 0.38, 0.34, 0.33, 0.36, 0.48, 0.70, 0.95, 1.18, 1.32, 1.36,
    1.28, 1.30, 1.38, 1.40, 1.36, 1.28, 1.22, 1.25, 1.30, 1.22, 1.00, 0.75,
)  # fmt: skip


@dataclass(frozen=True)
class Origins:
    """Where jobs come from: the scenario's demand regions (ids, normalised weights) and each
    one's local-time offset (h), taken from the nearest hub's grid. A scenario without regions
    gives one anonymous origin (code 0, ``ids == ()``) at UTC+0 or the first hub's offset."""

    ids: tuple[str, ...]
    weights: np.ndarray
    utc_offset_h: np.ndarray
    nearest_hubs: tuple[tuple[str, ...], ...]  # per origin, hub ids by distance


def demand_origins(scenario: Scenario) -> Origins:
    regions = scenario.regions
    if not regions:
        off = scenario.hubs[0].grid.utc_offset_h if scenario.hubs else 0.0
        by_id = tuple(h.id for h in scenario.hubs)
        return Origins((), np.ones(1), np.array([off]), (by_id,))
    w = np.array([max(r.weight, 0.0) for r in regions], dtype=float)
    w = w / w.sum() if w.sum() > 0 else np.full(len(regions), 1.0 / len(regions))
    offsets, nearest = [], []
    for r in regions:
        km = [great_circle_km(r.lat, r.lon, h.lat, h.lon) for h in scenario.hubs]
        order = np.argsort(km, kind="stable")
        nearest.append(tuple(scenario.hubs[i].id for i in order))
        offsets.append(scenario.hubs[order[0]].grid.utc_offset_h if len(order) else 0.0)
    return Origins(tuple(r.id for r in regions), w, np.array(offsets), tuple(nearest))


def pool_devices(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Per pool kind (order of POOL_KINDS): total devices, and the smallest hub's devices among
    hubs that have that kind (0 where no hub has it)."""
    per = np.array(
        [
            [sum(p.devices for p in h.pools if p.kind is k) for k in POOL_KINDS]
            for h in scenario.hubs
        ],
        dtype=np.int64,
    ).reshape(-1, len(POOL_KINDS))
    big = np.iinfo(np.int64).max
    smallest = np.where(per > 0, per, big).min(axis=0, initial=big)
    return per.sum(axis=0), np.where(smallest == big, 0, smallest)


def stochastic_round(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Round down or up at random so that the expected value equals ``x``."""
    return np.floor(x + rng.random(x.shape)).astype(np.int64)


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
            warnings.warn(
                f"{POOL_KINDS[p].value} pool: {int(m.sum())} jobs reach {got / target:.0%} of "
                f"the utilisation target (use more or fewer jobs, or raise cap_share)",
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


def _scale_pool(
    d0: np.ndarray,
    t0: np.ndarray,
    online: np.ndarray,
    target: float,
    cap: int,
    max_dur: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Devices and durations of one pool kind's jobs with sum(devices x hours) = ``target``.

    The overall factor S = target / sum(d0 x t0) goes to device counts until the largest 1 % of
    base sizes reach ``cap``; durations take the rest (bisection, each at most ``max_dur``); if
    they all saturate, devices grow again up to ``cap``. Online inference keeps its one-slot
    duration, so its devices take all of S (up to ``cap``).
    """
    big = float(np.quantile(d0[~online], 0.99)) if (~online).any() else 1.0
    whole = target / float(d0 @ t0)
    factor = np.where(online, whole, min(whole, cap / big))
    devices = np.clip(stochastic_round(np.minimum(factor * d0, cap), rng), 1, cap)
    duration = t0.copy()
    rest = ~online
    if rest.any():
        left = max(target - float(devices[online] @ t0[online]), 1e-9 * target)
        f = _fit_multiplier(t0[rest], devices[rest].astype(np.float64), left, max_dur)
        duration[rest] = np.minimum(f * t0[rest], max_dur)
        if float(devices[rest] @ duration[rest]) < 0.999 * left:  # durations saturated: devices
            g = _fit_multiplier(devices[rest].astype(np.float64), duration[rest], left, cap)
            grown = stochastic_round(np.minimum(g * devices[rest], cap), rng)
            devices[rest] = np.clip(grown, 1, cap)
    return devices, duration


def _fit_multiplier(x: np.ndarray, w: np.ndarray, target: float, cap: float) -> float:
    """The multiplier ``s`` with sum(min(s*x, cap) * w) = target, solved exactly: with ``x``
    sorted, the items from some position on are capped and ``s`` is linear in the rest. If even
    every item at ``cap`` falls short, the multiplier that caps them all."""
    if x.size == 0:
        return 1.0
    if cap * float(w.sum()) <= target:
        return cap / float(x.min())
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    below = np.cumsum(xs * ws)  # below[i-1]: sum of x*w over the i smallest (not capped)
    capped = np.append(np.cumsum(ws[::-1])[::-1][1:], 0.0)  # weight above position i-1
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (target - cap * capped) / below
    nxt = np.append(xs[1:], np.inf)
    ok = (s > 0) & (s * xs <= cap * (1 + 1e-12)) & (s * nxt >= cap * (1 - 1e-12))
    return float(s[np.argmax(ok)])


def _allowed_sets(
    scenario: Scenario, org: Origins, n_hubs: int
) -> tuple[tuple[tuple[str, ...], ...], np.ndarray]:
    """Allowed-hub sets: per (origin, pool kind) the ``n_hubs`` nearest hubs having that pool
    kind. Returns the distinct sets and an (origins x pool kinds) table of codes into them."""
    has = {h.id: {p.kind for p in h.pools if p.devices > 0} for h in scenario.hubs}
    sets: list[tuple[str, ...]] = []
    table = np.full((len(org.nearest_hubs), len(POOL_KINDS)), ANY, dtype=np.int16)
    for r, near in enumerate(org.nearest_hubs):
        for p, pk in enumerate(POOL_KINDS):
            chosen = tuple(h for h in near if pk in has[h])[:n_hubs]
            if chosen:
                if chosen not in sets:
                    sets.append(chosen)
                table[r, p] = sets.index(chosen)
    return tuple(sets), table
