"""The time-stepped engine: arrivals, policy calls, capacity booking, then energy accounting.

Each slot ``t`` is one scheduling cycle: the jobs released in it are taken in submit order; the
policy scores their candidates on the forecasts issued at ``t``; the engine admits the best
candidate with free capacity for every slot it needs and books it (so capacity is reserved for
future starts). A job that cannot finish inside its window starts as early as it can after that
(or stays unplaced if nothing fits before the horizon ends). A job is missed when its work
really ends after its deadline -- part way into its last slot, not at that slot's end -- or it
was never placed.
When all slots are done the booked device load gives IT and facility load per hub-slot, and the
energy module serves it (own wind/solar, battery, contracted green, grid). How one job is placed
is in :mod:`~greendispatch.sim.placement`; what a run records, in :mod:`~greendispatch.sim.results`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from greendispatch.dispatch.base import JobView, Policy, SlotScorer, SlotView, uncovered_carbon
from greendispatch.energy.supply import BatteryParams, serve_load
from greendispatch.errors import InputError, ModelError
from greendispatch.signals.build import Signals
from greendispatch.signals.forecast import make_forecaster
from greendispatch.sim.network import NetworkArrays, job_windows, transfer_h_per_gb
from greendispatch.sim.network import allowed_mask as hubs_allowed
from greendispatch.sim.placement import (  # noqa: F401 (all stay importable from here)
    _EPS,
    LATE_LOOKAHEAD_H,
    _best_window,
    _cheapest_slots,
    _commit,
    _commit_pieces,
    _fits,
    _place_contiguous,
    _place_late,
    _place_prescribed,
    _place_split,
    _trim,
)
from greendispatch.sim.replay import _Replay
from greendispatch.sim.results import (
    Placements,
    SimRun,
    SupplyInputs,
    end_hours,
    idle_parts,
    supply_inputs,
)
from greendispatch.workload.jobs import JobTable

Progress = Callable[[int, int], None]
FORECAST_HORIZON_H = 48  # forecasts reach 2 days; beyond, the last observed days replay
REPLAY_DAYS = 28  # days of observations replayed beyond the forecasts
_HELD = -1e12  # the score of a slot a job has already run in: it always keeps it


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
        prepare(jobs, net, n_t, dt, bat, observed=observed, grid_charge=grid_charge)
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
        idle_tail(j, h, slots, mw)

    tails: dict[int, tuple[int, int, float]] = {}  # job -> hub, slot, MW taken off

    def idle_tail(j: int, h: int, slots: np.ndarray | slice, mw: float) -> None:
        """Take off the meters the marginal power of job ``j``'s devices for the part of its
        last slot they stand idle after its work ends (reserved, not working;
        :func:`idle_parts`). The engine books no slot its work and resumes leave wholly idle,
        so that part is under one slot, in the last."""
        if isinstance(slots, slice):
            n_s, pieces, last = slots.stop - slots.start, 1, slots.stop - 1
        else:
            n_s, last = len(slots), int(slots[-1])
            pieces = 1 + int(np.count_nonzero(np.diff(slots) > 1))
        idle = n_s - (dur_l[j] + (pieces - 1) * ckpt_l[j]) / dt
        if idle > _EPS:
            tails[j] = (h, last, min(idle, 1.0) * mw)
            booked_it[h, last] -= tails[j][2]

    def undo_tail(j: int) -> None:
        got = tails.pop(j, None)
        if got is not None:
            booked_it[got[0], got[1]] += got[2]

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
            undo_tail(j)
            free[h, k, future] += nd
            booked_it[h, future] -= mw
            surplus[h, future - t] += mw
            row = uncovered_carbon(np.array([mw]), surplus[h : h + 1, :w], ci_pue[h : h + 1, :w])[0]
            row[free[h, k, t : t + w] < nd] = np.inf
            s0 = int(past[0]) if len(past) else t
            scores = np.full(t + w - s0, np.inf)
            scores[past - s0] = _HELD
            scores[t - s0 :] = row
            spare = dslots_l[j] - dur_l[j] / dt
            room = room_l[j] if t + w == dead_l[j] else 1.0  # scores end at the window's end
            found = _cheapest_slots(scores, dslots_l[j], ckpt_l[j], dt, spare=spare,
                                    last_room=room)  # fmt: skip
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
            idle_tail(j, h, held_slots(j), mw)
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
    # The part of each window's last slot the work may fill and still end by the deadline.
    room_l = np.clip((jobs.deadline_h - (dead - 1) * dt) / dt, 0.0, 1.0).tolist()
    origin_l = jobs.origin.tolist()
    data_l = jobs.data_gb.tolist()
    submit_l = jobs.submit_h.tolist()
    interr_l = jobs.interruptible.tolist()
    ckpt_l = jobs.checkpoint_h.tolist()
    dur_l = jobs.duration_h.tolist()
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
            if not usable:  # unplaced (and so missed)
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
                d - dur_l[j] / dt,
                room_l[j],
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
            if not placed:  # as early as it can: missed unless it still ends in time
                _place_late(jv, sv, free, k, nd, n_t, dt, hub, start, n_slots, segments, book)
            if has_regions and 0 <= hub[j] != home:  # placed away from home: data moved
                moved[j] = data_l[j]
            if replan_every and placed and jv.interruptible and d > 1 and dj - t > d:
                movable.append(j)
    if progress is not None:
        progress(n_t, n_t)

    placements = Placements(hub, start, n_slots, segments, missed, lat_viol, moved, split)
    busy = (net.cap[:, :, None] - free).astype(np.int32)
    it_mw = (busy * marg_kw[:, :, None]).sum(axis=1) / 1000.0 + idle_mw[:, None]
    # Devices reserved but idle after the work ends part way into a slot draw idle power only.
    tail = idle_parts(jobs, placements, dt)
    th, tk = hub[tail.job], jobs.pool[tail.job]
    np.subtract.at(
        it_mw, (th, tail.slot), jobs.devices[tail.job] * marg_kw[th, tk] * tail.idle / 1e3
    )
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
    # Missed: ended after the deadline (judged on the work's real end, not its last slot's end)
    # or never placed.
    ended = end_hours(jobs, placements, dt)
    np.copyto(missed, (hub < 0) | (ended > jobs.deadline_h + _EPS))
    return SimRun(
        policy.name, jobs, net, signals, placements, busy, it_mw, supply, time.perf_counter() - t0
    )
