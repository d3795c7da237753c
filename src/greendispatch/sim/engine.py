"""The time-stepped engine: arrivals, policy calls, capacity booking, then energy accounting.

Each slot ``t`` is one scheduling cycle: the jobs released in it are taken in submit order; the
policy scores their candidates on the forecasts issued at ``t``; the engine admits the best
candidate with free capacity for every slot it needs and books it (so capacity is reserved for
future starts). A job that cannot finish inside its window starts as early as it can after that
and is counted as a deadline miss (or stays unplaced if nothing fits before the horizon ends).
When all slots are done the booked device load gives IT and facility load per hub-slot, and the
energy module serves it (own wind/solar, battery, contracted green, grid).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from greendispatch.dispatch.base import (
    JobView,
    Policy,
    SlotScorer,
    SlotView,
    sliding_sums,
    uncovered_carbon,
)
from greendispatch.energy.supply import BatteryParams, SupplyResult, serve_load
from greendispatch.errors import InputError, ModelError
from greendispatch.signals.build import Signals
from greendispatch.signals.forecast import make_forecaster
from greendispatch.sim.network import NetworkArrays, job_windows, transfer_h_per_gb
from greendispatch.sim.network import allowed_mask as hubs_allowed
from greendispatch.workload.jobs import JobTable

Progress = Callable[[int, int], None]
_EPS = 1e-9
FORECAST_HORIZON_H = 48  # forecasts reach 2 days; beyond, the last observed days replay
REPLAY_DAYS = 28  # days of observations replayed beyond the forecasts
LATE_LOOKAHEAD_H = 14 * 24  # how far past a missed deadline a late start is searched
_HELD = -1e12  # the score of a slot a job has already run in: it always keeps it


@dataclass(frozen=True)
class Placements:
    """Per job (in the table's order): hub (-1 unplaced), first slot, slots run, and flags.

    Split (interruptible) jobs list their slots in ``split_slots``; ``segments`` counts the
    pieces a job ran in (1 for contiguous).
    """

    hub: np.ndarray
    start: np.ndarray
    n_slots: np.ndarray
    segments: np.ndarray
    missed: np.ndarray
    latency_violation: np.ndarray
    data_moved_gb: np.ndarray
    split_slots: dict[int, np.ndarray]

    def slots(self, j: int) -> np.ndarray:
        """The slots job ``j`` ran in (empty if unplaced)."""
        if self.hub[j] < 0:
            return np.zeros(0, dtype=np.int64)
        if j in self.split_slots:
            return np.asarray(self.split_slots[j], dtype=np.int64)
        return np.arange(self.start[j], self.start[j] + self.n_slots[j], dtype=np.int64)


@dataclass(frozen=True)
class SimRun:
    """One policy's run: placements, device load, energy supply and timing."""

    policy: str
    jobs: JobTable
    net: NetworkArrays
    signals: Signals
    placements: Placements
    busy: np.ndarray  # (H, K, T) devices booked
    it_mw: np.ndarray  # (H, T)
    supply: SupplyResult
    runtime_s: float


class SupplyInputs(NamedTuple):
    """What :func:`serve_load` takes per hub and slot (H, T), MWh per slot, and the grid's
    intensity (gCO2/kWh)."""

    load_mwh: np.ndarray
    wind_avail_mwh: np.ndarray
    solar_avail_mwh: np.ndarray
    contracted_avail_mwh: np.ndarray
    ci_g_per_kwh: np.ndarray


def supply_inputs(signals: Signals, net: NetworkArrays, it_mw: np.ndarray, a: int, b: int):
    """The facility load of IT power ``it_mw`` (H, b-a) and the supply available in slots
    ``a .. b-1``, as :class:`SupplyInputs`."""
    dt, cut = signals.grid.dt_h, slice(a, b)
    return SupplyInputs(
        it_mw * signals.pue[:, cut] * dt,
        signals.wind_pu[:, cut] * net.wind_mw[:, None] * dt,
        signals.solar_pu[:, cut] * net.solar_mw[:, None] * dt,
        np.repeat(net.contracted_mw[:, None] * dt, b - a, axis=1),
        signals.ci_g_per_kwh[:, cut],
    )


class _Replay:
    """What an operator expects beyond the forecast horizon, from the past: the last ``days``
    whole days observed before the issue slot, replayed in order (hour of day and day of week
    kept: 28 days are 4 weeks). A replay keeps the weather's spread, which a mean would smooth
    away (a mean wind day covers a job that a real week's calms would not)."""

    def __init__(self, actual: np.ndarray, spd: int, days: int):
        self.actual, self.spd, self.days = actual, spd, days

    def fill(self, out: np.ndarray, t: int, start: int) -> bool:
        """Fill ``out[:, start:]`` (slots t+start..) with the replay seen by slot ``t``; False
        on the first day (no whole day observed yet)."""
        today = t // self.spd
        n = min(today, self.days) * self.spd  # slots replayed
        if n == 0:
            return False
        base = today * self.spd - n
        # Slot s takes actual[base + (s - base) % n]: contiguous copies, one per lap of the replay.
        i, width = start, out.shape[1]
        while i < width:
            a = (t + i - base) % n
            m = min(n - a, width - i)
            out[:, i : i + m] = self.actual[:, base + a : base + a + m]
            i += m
        return True


class _Forecasts:
    """Forecasters for the series policies see: intensity, PUE and green supply stacked in one
    (one random stream per issue slot, errors independent across series and hubs), and price in
    another, asked only by the policies that use it. Beyond the forecast horizon each series
    replays the last ``REPLAY_DAYS`` days observed (:class:`_Replay`)."""

    def __init__(self, signals: Signals, net: NetworkArrays, spec: str, seed: int):
        spd = round(24 / signals.grid.dt_h)
        green = (
            signals.wind_pu * net.wind_mw[:, None]
            + signals.solar_pu * net.solar_mw[:, None]
            + net.contracted_mw[:, None]
        )
        self.n_h = net.n_hubs
        stacked = np.concatenate([signals.ci_g_per_kwh, signals.pue, green], axis=0)
        self.f = make_forecaster(spec, stacked, seed=seed, slots_per_day=spd)
        # Prices can be negative: forecast them relative to a positive offset, then shift back.
        self.offset = float(max(0.0, -signals.price_per_mwh.min()) + 1.0)
        self.f_price = make_forecaster(
            spec, signals.price_per_mwh + self.offset, seed=seed + 7919, slots_per_day=spd
        )
        self.spd = spd
        self.horizon = int(FORECAST_HORIZON_H / signals.grid.dt_h)
        ci, pue = signals.ci_g_per_kwh, np.maximum(signals.pue, 1.0)
        days = REPLAY_DAYS
        self.replay = _Replay(np.concatenate([ci, pue, green, ci * pue, green / pue]), spd, days)
        self.price_replay = _Replay(signals.price_per_mwh + self.offset, spd, days)

    def _extend(self, fc: np.ndarray, width: int, t: int, replay: _Replay) -> np.ndarray:
        """Beyond the forecast horizon: the replay (on the first day, the last forecast day
        repeats)."""
        rows, have = fc.shape
        if have >= width:
            return fc
        out = np.empty((rows, width))
        out[:, :have] = fc
        if replay.fill(out, t, have):
            return out
        period = min(self.spd, have)
        # From the last forecast day on the series repeats: copy it forward, doubling each time.
        day0, filled = have - period, have
        while filled < width:
            m = min(filled - day0, width - filled)
            out[:, filled : filled + m] = out[:, day0 : day0 + m]
            filled += m
        return out

    def slot_view(self, t: int, width: int, dt_h: float, booked_mw: np.ndarray) -> SlotView:
        fc = self.f.forecast(t, min(width, self.horizon))
        n = self.n_h
        ci, pue, green = fc[:n], np.maximum(fc[n : 2 * n], 1.0), fc[2 * n :]
        series = np.concatenate([ci, pue, green, ci * pue, green / pue])
        ext = self._extend(series, width, t, self.replay)
        ci, pue, green, ci_pue, green_it = ext.reshape(5, n, width)

        def price() -> np.ndarray:
            raw = self.f_price.forecast(t, min(width, self.horizon))
            return self._extend(raw, width, t, self.price_replay) - self.offset

        # The load booked now is expected to persist (jobs that end are replaced by new ones),
        # so a long job does not see the surplus of a hub emptying as its bookings run out.
        load = np.maximum(booked_mw, booked_mw[:, :1])
        return SlotView(t, dt_h, ci, pue, price, green, green_it - load, ci_pue)


def simulate(
    jobs: JobTable,
    signals: Signals,
    net: NetworkArrays,
    policy: Policy,
    *,
    forecast: str = "perfect",
    seed: int = 0,
    batteries: BatteryParams | None = None,
    grid_charge: bool = False,
    progress: Progress | None = None,
) -> SimRun:
    """Run one policy over the scenario's slots; deterministic for the same inputs and seed.

    With ``grid_charge`` batteries also charge from the grid in each hub's cleanest quarter of
    hours (intensity below its 25th percentile); that energy carries no green attribute.
    """
    t0 = time.perf_counter()
    grid = signals.grid
    n_t, dt = grid.n_slots, grid.dt_h
    n_h = net.n_hubs
    if jobs.regions and tuple(jobs.regions) != net.region_ids:
        raise InputError(
            f"jobs use demand regions {list(jobs.regions)} but the scenario has "
            f"{list(net.region_ids)}"
        )
    fc = _Forecasts(signals, net, forecast, seed)
    free = np.repeat(net.cap[:, :, None], n_t, axis=2).astype(np.int32)
    marg_kw = net.kw * (1.0 - net.idle)  # (H, K) extra kW per busy device
    idle_mw = net.idle_it_mw()  # (H,)
    booked_it = np.repeat(idle_mw[:, None], n_t, axis=1)  # IT MW booked so far, (H, T)

    n = len(jobs)
    hub = np.full(n, -1, dtype=np.int32)
    start = np.full(n, -1, dtype=np.int32)
    n_slots = np.zeros(n, dtype=np.int32)
    segments = np.zeros(n, dtype=np.int16)
    missed = np.zeros(n, dtype=bool)
    lat_viol = np.zeros(n, dtype=bool)
    moved = np.zeros(n, dtype=np.float64)
    split: dict[int, np.ndarray] = {}

    release, dslots, dead = job_windows(jobs, n_t, dt)
    order = np.lexsort((jobs.submit_h, release))
    bounds = np.searchsorted(release[order], np.arange(n_t + 1))
    rank = np.argsort(np.argsort(net.latency_ms, axis=1), axis=1) if net.region_ids else None
    allowed_cache: dict[tuple[int, int, int, int, float], tuple[np.ndarray, bool, bool, bool]] = {}
    scorer = policy if isinstance(policy, SlotScorer) else None
    # Optional policy hooks: a planning step per cycle, a note of each booking, a battery plan.
    bat = batteries if batteries is not None else BatteryParams.from_assets(net.assets)
    now = [0]  # the slot being scheduled: what ``observed`` may show ends before it

    def observed(a: int, b: int) -> SupplyInputs:
        """The supply inputs of slots ``a .. b-1`` as they turned out (load as booked): the
        past only, as an operator's meters show it."""
        if not 0 <= a <= b <= now[0]:
            raise ModelError(f"observed({a}, {b}): only slots before {now[0]} are known")
        return supply_inputs(signals, net, booked_it[:, a:b], a, b)

    prepare = getattr(policy, "prepare", None)
    if prepare is not None:
        prepare(jobs, net, n_t, dt, bat, observed=observed)
    begin_cycle = getattr(policy, "begin_cycle", None)
    on_book = getattr(policy, "booked", None)
    # A policy may prescribe a job's hub and slots (the oracle's MILP schedule); the engine
    # checks them as it checks its own choices and places the job itself if they fail.
    prescribe = getattr(policy, "prescribed", None)
    # A policy with ``replan_pauses_h`` moves the pauses of its interruptible jobs that often.
    replan_h = getattr(policy, "replan_pauses_h", None)
    replan_every = max(1, round(replan_h / dt)) if replan_h else 0
    movable: list[int] = []  # interruptible jobs placed in their windows, with slack left
    step = max(1, n_t // 200)

    has_regions = bool(net.region_ids)
    min_cap = net.cap.min(axis=0).tolist()  # smallest pool of each kind across hubs
    zeros_h = np.zeros(n_h, dtype=np.int64)
    home_of = net.home_hub.tolist() if has_regions else [0]
    rank_of = rank if rank is not None else np.arange(n_h)[None, :]

    def allowed_mask(j: int, k: int, origin: int) -> tuple[np.ndarray, bool, bool, bool]:
        """Hubs job ``j`` may use, whether its latency limit had to be broken, and whether some
        hub and whether every hub is allowed."""
        key = (allowed_set_l[j], device_type_l[j], k, origin, max_latency_l[j])
        hit = allowed_cache.get(key)
        if hit is None:
            mask, violated = hubs_allowed(net, jobs, j, k, origin)
            hit = allowed_cache[key] = (mask, violated, bool(mask.any()), bool(mask.all()))
        return hit

    def book(j: int, h: int, k: int, slots: np.ndarray | slice, sv: SlotView, mw: float) -> None:
        """Reserve job ``j``'s devices at hub ``h`` in ``slots`` and lower the cycle's surplus."""
        t0_, width_ = sv.t, sv.width
        if isinstance(slots, slice):
            # In place through views of the slots (a plain ``a[...] -= x`` also writes back).
            view = free[h, k, slots]
            view -= devices_l[j]
            view = booked_it[h, slots]
            view += mw
            lo, hi = slots.start - t0_, min(slots.stop - t0_, width_)
            if lo < width_:
                view = sv.surplus_it_mw[h, lo:hi]
                view -= mw
        else:  # split slots all lie inside the cycle's window; one row's index is the quickest
            free[h, k][slots] -= devices_l[j]
            booked_it[h][slots] += mw
            sv.surplus_it_mw[h][slots - t0_] -= mw
        if on_book is not None:
            on_book(j, h, slots)

    def held_slots(j: int) -> np.ndarray:
        got = split.get(j)
        if got is not None:
            return got.astype(np.int64)
        return np.arange(start[j], start[j] + n_slots[j], dtype=np.int64)

    def replan_pauses(t: int, candidates: list[int]) -> list[int]:
        """Each interruptible job with slack left after slot ``t`` chooses again, at its hub
        and on the forecasts issued at ``t``, the slots it runs from ``t`` to its deadline:
        the cheapest by marginal carbon, as on placement (its slots before ``t`` stay, and the
        resume overhead of all its pieces is counted), if they cost less than those it holds.
        A job moves its pauses to where the forecasts now show calm, dark or dirty hours,
        which on placement lay beyond them. Returns the jobs that still have slack."""
        jobs_left, mine = [], []
        for j in candidates:
            held = held_slots(j)
            future = held[held >= t]
            if len(future) and dead_l[j] - t > len(future):
                jobs_left.append(j)
                mine.append((held[held < t], future))
        if not jobs_left:
            return jobs_left
        width = min(n_t, max(dead_l[j] for j in jobs_left)) - t
        sv = fc.slot_view(t, width, dt, booked_it[:, t : t + width])
        surplus, ci_pue = sv.surplus_it_mw, sv.ci_pue
        for j, (past, future) in zip(jobs_left, mine, strict=True):
            h, k, nd = int(hub[j]), pool_l[j], devices_l[j]
            w = min(dead_l[j], n_t) - t
            mw = float(marg_mw_k[k][h] * nd)
            # The job's own future load is off the books while it chooses.
            free[h, k, future] += nd
            booked_it[h, future] -= mw
            surplus[h, future - t] += mw
            row = uncovered_carbon(np.array([mw]), surplus[h : h + 1, :w], ci_pue[h : h + 1, :w])[0]
            row[free[h, k, t : t + w] < nd] = np.inf
            s0 = int(past[0]) if len(past) else t
            scores = np.full(t + w - s0, np.inf)
            scores[past - s0] = _HELD
            scores[t - s0 :] = row
            found = _cheapest_slots(scores, dslots_l[j], ckpt_l[j], dt)
            keep = future
            if found is not None:
                slots = found[0] + s0
                new = slots[slots >= t]
                if len(slots) - len(new) == len(past) and row[new - t].sum() < row[
                    future - t
                ].sum() * (1.0 - 1e-12):
                    keep = new
                    start[j], n_slots[j], segments[j] = slots[0], len(slots), found[1]
                    if found[1] > 1:
                        split[j] = slots.astype(np.int32)
                    else:
                        split.pop(j, None)
            free[h, k, keep] -= nd
            booked_it[h, keep] += mw
            surplus[h, keep - t] -= mw
        return jobs_left

    # Transfer time per GB from each region to each hub (hours); none to the home hub.
    if has_regions:
        h_per_gb = transfer_h_per_gb(net)
        max_h_per_gb = h_per_gb.max(axis=1).tolist()
    # Per-job scalars as Python lists (much faster to index in the loop than numpy scalars).
    pool_l = jobs.pool.tolist()
    dslots_l = dslots.tolist()
    devices_l = jobs.devices.tolist()
    dead_l = dead.tolist()
    origin_l = jobs.origin.tolist()
    data_l = jobs.data_gb.tolist()
    submit_l = jobs.submit_h.tolist()
    interr_l = jobs.interruptible.tolist()
    ckpt_l = jobs.checkpoint_h.tolist()
    allowed_set_l = jobs.allowed_set.tolist()
    device_type_l = jobs.device_type.tolist()
    max_latency_l = jobs.max_latency_ms.astype(np.float64).tolist()
    marg_mw_k = [marg_kw[:, k] / 1000.0 for k in range(marg_kw.shape[1])]  # MW per device
    full_mw_k = [net.kw[:, k] / 1000.0 for k in range(marg_kw.shape[1])]

    for t in range(n_t):
        lo_i, hi_i = bounds[t], bounds[t + 1]
        if progress is not None and t % step == 0:
            progress(t, n_t)
        if replan_every and t % replan_every == 0 and movable:
            movable = replan_pauses(t, movable)
        if lo_i == hi_i:
            continue
        batch = order[lo_i:hi_i]
        now[0] = t
        width = int(min(n_t - t, max(1, (dead[batch] - t).max())))
        sv = fc.slot_view(t, width, dt, booked_it[:, t : t + width])
        if begin_cycle is not None:
            begin_cycle(t, batch, sv, free, booked_it)
        for j in batch.tolist():
            k = pool_l[j]
            d = dslots_l[j]
            nd = devices_l[j]
            dj = dead_l[j]
            origin = origin_l[j] if has_regions else 0
            mask, lat_viol[j], usable, everywhere = allowed_mask(j, k, origin)
            if nd > min_cap[k]:
                mask = mask & (net.cap[:, k] >= nd)
                usable, everywhere = bool(mask.any()), bool(mask.all())
            home = home_of[origin]
            jrank = rank_of[origin]
            # The transfer starts at submit time; the job can start at the first slot boundary
            # after its data has arrived (no wait if even the slowest link delivers by slot t).
            if has_regions and submit_l[j] + data_l[j] * max_h_per_gb[origin] > t * dt + _EPS:
                delay_h = data_l[j] * h_per_gb[origin]
                ready = np.ceil((submit_l[j] + delay_h) / dt - _EPS).astype(np.int64)
                es = np.maximum(ready - t, 0)
                waits = bool(es.any())
            else:
                es, waits = zeros_h, False
            if not usable:
                missed[j] = True
                continue
            L = dj - d - t + 1
            jv = JobView(
                j,
                d,
                max(L, 0),
                es,
                mask,
                jrank,
                home,
                marg_mw_k[k] * nd,
                full_mw_k[k] * nd,
                interr_l[j],
                everywhere,
                waits,
            )
            placed = False
            jsv = sv.trim(max(1, dj - t))
            if prescribe is not None and L > 0:
                got = prescribe(j)
                if got is not None:
                    placed = _place_prescribed(
                        jv, sv, *got, free, k, nd, ckpt_l[j], dt, dj, hub, start, n_slots,
                        segments, split, book,
                    )  # fmt: skip
            if not placed and L > 0 and jv.interruptible and scorer is not None and d > 1:
                placed = _place_split(
                    jv,
                    jsv,
                    scorer,
                    free,
                    k,
                    nd,
                    ckpt_l[j],
                    dt,
                    dj,
                    hub,
                    start,
                    n_slots,
                    segments,
                    split,
                    book,
                )
            if not placed and L > 0:
                placed = _place_contiguous(
                    jv, jsv, policy, free, k, nd, hub, start, n_slots, segments, book
                )
            if not placed:
                missed[j] = True
                _place_late(jv, sv, free, k, nd, n_t, dt, hub, start, n_slots, segments, book)
            if has_regions and 0 <= hub[j] != home:  # placed away from home: data moved
                moved[j] = data_l[j]
            if replan_every and placed and jv.interruptible and d > 1 and dj - t > d:
                movable.append(j)
    if progress is not None:
        progress(n_t, n_t)

    busy = (net.cap[:, :, None] - free).astype(np.int32)
    it_mw = (busy * marg_kw[:, :, None]).sum(axis=1) / 1000.0 + idle_mw[:, None]
    inputs = supply_inputs(signals, net, it_mw, 0, n_t)
    supply = serve_load(
        *inputs[:4],
        bat,
        signals.ci_g_per_kwh,
        np.median(signals.ci_g_per_kwh, axis=1),
        dt_h=dt,
        grid_charge=grid_charge,
        grid_charge_threshold_g_per_kwh=(
            np.percentile(signals.ci_g_per_kwh, 25, axis=1) if grid_charge else None
        ),
        schedule=policy.battery_schedule() if hasattr(policy, "battery_schedule") else None,
    )
    placements = Placements(hub, start, n_slots, segments, missed, lat_viol, moved, split)
    return SimRun(
        policy.name, jobs, net, signals, placements, busy, it_mw, supply, time.perf_counter() - t0
    )


def _place_contiguous(jv, sv, policy, free, k, nd, hub, start, n_slots, segments, book) -> bool:
    scores = np.asarray(policy.scores(jv, sv), dtype=np.float64)  # a new array: ours to edit
    if not jv.all_allowed:
        scores[~jv.allowed] = np.inf
    if jv.waits:
        scores[np.arange(jv.L)[None, :] < jv.es[:, None]] = np.inf
    flat = scores.ravel()
    t, d = sv.t, jv.d
    idx = int(np.argmin(flat))
    if not np.isfinite(flat[idx]):
        return False
    h, lo = divmod(idx, jv.L)
    if free[h, k, t + lo : t + lo + d].min() < nd:
        # The best candidate is full: mask every start whose window lacks capacity somewhere.
        scores[~_fits(free[:, k, t : t + jv.L + d - 1], nd, d)] = np.inf
        idx = int(np.argmin(flat))
        if not np.isfinite(flat[idx]):
            return False
        h, lo = divmod(idx, jv.L)
    _commit(jv, sv, h, t + lo, d, k, hub, start, n_slots, segments, book)
    return True


def _fits(free_w: np.ndarray, nd: int, d: int) -> np.ndarray:
    """For each row and start offset: do all ``d`` slots from there have ``nd`` free devices?

    Counts slots short of capacity with a cumulative sum: O(width) per row, not O(width x d).
    """
    short = np.zeros((free_w.shape[0], free_w.shape[1] + 1), dtype=np.int32)
    np.cumsum(free_w < nd, axis=1, out=short[:, 1:])
    return (short[:, d:] - short[:, :-d]) == 0


def _place_split(
    jv, sv, scorer, free, k, nd, ckpt_h, dt, dead, hub, start, n_slots, segments, split, book
) -> bool:
    """Interruptible work: the cheapest ``d`` slots (plus checkpoint overhead) at one hub.

    All hubs are ranked at once by the sum of their ``d`` cheapest feasible slots (a lower
    bound); the checkpoint overhead is then added for the best hubs in that order.
    """
    t, width, d = sv.t, dead - sv.t, jv.d
    if width <= d:  # no slack: the one contiguous run is the only choice
        return False
    per = np.asarray(scorer.slot_scores(jv, sv)[:, :width], dtype=np.float64)  # new array
    per[free[:, k, t : t + width] < nd] = np.inf
    if jv.waits:
        per[np.arange(width)[None, :] < jv.es[:, None]] = np.inf
    if not jv.all_allowed:
        per[~jv.allowed] = np.inf
    # Each hub's d cheapest slots, summed in ascending order (sorting the rows is quicker than
    # np.partition here: numpy's sort is vectorised).
    bound = np.sort(per, axis=1)[:, :d].sum(axis=1)
    lower = bound.tolist()
    # Two hubs at most: where overhead defeats splitting at the best, it rarely pays elsewhere
    # (the job then runs contiguously).
    for h in np.argsort(bound, kind="stable")[:2].tolist():
        if not math.isfinite(lower[h]):
            return False
        row = per[h]
        whole, at, all_finite = _best_window(row, d)
        # A split costs at least ``bound``: when one run is no dearer, take it (no resumes).
        found = None if lower[h] >= whole else _cheapest_slots(row, d, ckpt_h, dt, all_finite)
        if found is None or whole <= row[found[0]].sum():
            if math.isfinite(whole):
                _commit(jv, sv, h, t + at, d, k, hub, start, n_slots, segments, book)
                return True
            continue
        pick, pieces = found
        if pieces == 1:  # one piece needs no resume: exactly d slots
            _commit(jv, sv, h, t + int(pick[0]), d, k, hub, start, n_slots, segments, book)
            return True
        _commit_pieces(jv, sv, h, k, pick + t, pieces, hub, start, n_slots, segments, split, book)
        return True
    return False


def _commit_pieces(jv, sv, h, k, slots, pieces, hub, start, n_slots, segments, split, book):
    """Book an interruptible job's ``slots`` (absolute, sorted, ``pieces`` runs) at hub ``h``."""
    j = jv.index
    book(j, h, k, slots, sv, float(jv.marginal_mw[h]))
    hub[j], start[j], n_slots[j], segments[j] = h, slots[0], len(slots), pieces
    split[j] = slots.astype(np.int32)


def _place_prescribed(
    jv, sv, h, slots, free, k, nd, ckpt_h, dt, dead, hub, start, n_slots, segments, split, book
) -> bool:
    """Place the job at hub ``h`` in ``slots`` (sorted, absolute) if the engine's own checks
    pass: an allowed hub, inside the window after the data transfer, whole devices free in
    every slot, one piece unless interruptible, and exactly the work plus the resume overhead
    of its pieces. False (nothing booked) if any fails."""
    slots = np.asarray(slots, dtype=np.int64)
    t, d = sv.t, jv.d
    if not (0 <= h < len(jv.allowed)) or not (jv.all_allowed or jv.allowed[h]) or not len(slots):
        return False
    if slots[0] < t + int(jv.es[h]) or slots[-1] >= dead or np.any(np.diff(slots) < 1):
        return False
    pieces = 1 + int(np.count_nonzero(np.diff(slots) > 1))
    if pieces > 1 and not (jv.interruptible and d > 1):
        return False
    if len(slots) != d + math.ceil((pieces - 1) * ckpt_h / dt - _EPS):
        return False
    if free[h, k, slots].min() < nd:
        return False
    if pieces == 1:
        _commit(jv, sv, h, int(slots[0]), d, k, hub, start, n_slots, segments, book)
        return True
    _commit_pieces(jv, sv, h, k, slots, pieces, hub, start, n_slots, segments, split, book)
    return True


def _cheapest_slots(
    row: np.ndarray, d: int, ckpt_h: float, dt: float, all_finite: bool = False
) -> tuple[np.ndarray, int] | None:
    """Slot offsets (sorted) of the cheapest slots of ``row`` (inf = unavailable) that give ``d``
    slots of work plus the checkpoint overhead of resuming after each gap, and the number of
    pieces they form; None if there are too few."""
    available = len(row) if all_finite else int(np.count_nonzero(np.isfinite(row)))
    need = d
    for tries in range(4):
        if need > available:
            return None
        pick = row.argpartition(need - 1)[:need]
        pick.sort()
        pieces = 1 + int(np.count_nonzero(pick[1:] - pick[:-1] > 1))  # gaps split pieces
        total = d + math.ceil((pieces - 1) * ckpt_h / dt - _EPS)
        if total == need:
            return pick, pieces
        if total < need and tries >= 2:  # fewer pieces than paid for: drop the spare slots
            return _trim(pick, row, d, ckpt_h, dt)
        need = total
    return None


def _trim(
    pick: np.ndarray, row: np.ndarray, d: int, ckpt_h: float, dt: float
) -> tuple[np.ndarray, int]:
    """Drop the dearest slots at the edges of pieces until exactly ``d`` slots of work plus the
    resume overhead of the remaining pieces are left (dropping an edge never adds a piece).
    ``pick`` is sorted; among equally dear edges the earliest goes."""
    slots = pick
    while True:
        gap = slots[1:] - slots[:-1] > 1  # a gap between slot i and slot i + 1
        pieces = 1 + int(np.count_nonzero(gap))
        if len(slots) <= d + math.ceil((pieces - 1) * ckpt_h / dt - _EPS):
            return slots, pieces
        edge = np.ones(len(slots), dtype=bool)  # the first and last slots are edges
        edge[1:-1] = gap[:-1] | gap[1:]
        edges = np.flatnonzero(edge)
        drop = int(edges[row[slots[edges]].argmax()])
        slots = np.concatenate((slots[:drop], slots[drop + 1 :]))


def _best_window(row: np.ndarray, d: int) -> tuple[float, int, bool]:
    """The lowest sum over ``d`` consecutive finite values of ``row`` (inf if none), where that
    run starts (the earliest on ties), and whether every value of ``row`` is finite."""
    n = len(row)
    finite = np.isfinite(row)
    all_finite = bool(finite.all())
    if n < d:
        return float("inf"), 0, all_finite
    if all_finite:  # the common case: one sum, then a running difference over the starts
        first = row[:d].sum()
        if n == d:
            return float(first), 0, True
        later = np.cumsum(row[d:] - row[:-d])  # starts 1 .. n-d
        later += first
        at = int(later.argmin())
        if first <= later[at]:
            return float(first), 0, True
        return float(later[at]), at + 1, True
    both = sliding_sums(np.stack([np.where(finite, row, 0.0), ~finite]), d, n - d + 1)
    sums = both[0]
    sums[both[1] > 0.5] = np.inf  # a window with an unavailable slot
    at = int(sums.argmin())
    return float(sums[at]), at, False


def _place_late(jv, sv, free, k, nd, n_t, dt, hub, start, n_slots, segments, book) -> None:
    """Earliest start at any allowed hub (nearest first on ties), past the deadline if need be."""
    t, d = sv.t, jv.d
    end = min(n_t, t + d + int(LATE_LOOKAHEAD_H / dt))
    best: tuple[int, int, int] | None = None
    for h in np.flatnonzero(jv.allowed):
        s0 = t + int(jv.es[h])
        if s0 + d > end:
            continue
        fit = np.flatnonzero(_fits(free[h : h + 1, k, s0:end], nd, d)[0])
        if len(fit):
            cand = (s0 + int(fit[0]), int(jv.rank[h]), int(h))
            if best is None or cand < best:
                best = cand
    if best is not None:
        _commit(jv, sv, best[2], best[0], d, k, hub, start, n_slots, segments, book)


def _commit(jv, sv, h, s, d, k, hub, start, n_slots, segments, book) -> None:
    j = jv.index
    book(j, h, k, slice(s, s + d), sv, float(jv.marginal_mw[h]))
    hub[j], start[j], n_slots[j], segments[j] = h, s, d, 1
