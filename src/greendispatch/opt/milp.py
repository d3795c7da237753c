"""The best integral schedule of a small instance: a MILP, solved by HiGHS's branch and cut.

The oracle's LP relaxes whole devices, one hub per job and running in one piece; its rounding
heuristic (:class:`~greendispatch.opt.oracle.OraclePolicy`,
:class:`~greendispatch.opt.presence.SharePolicy`) finds a feasible schedule at any size. On a
small instance the MILP finds the best one, within ``mip_rel_gap`` of optimal:

- every job at one hub with all its devices in each slot it runs; a job in one piece picks one
  start (``start``, a binary per hub and start slot); an interruptible one picks its hub
  (``hub``) and its slots (``run``, a binary per hub and slot of its window), and pays the
  engine's resume overhead: ``ceil((pieces - 1) x checkpoint / dt)`` more slots (``overhead``,
  an integer), its pieces counted by ``piece_start`` (each slot it runs after one it did not);
- windows per hub after the data transfer, devices within the free capacity per hub, pool kind
  and slot (``capacity``);
- the energy side of :func:`~greendispatch.opt.energy.add_energy`: own wind and solar,
  contracted green, grid import and the batteries, on the actual signals.

Its schedule goes to the engine as prescribed placements (:class:`MilpPolicy`); the engine
checks each one as it checks its own choices, and places a job itself if one fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from greendispatch.energy.supply import BatteryParams
from greendispatch.errors import InputError
from greendispatch.opt.classes import JobSlots, job_slots
from greendispatch.opt.lp import LinearProgram
from greendispatch.opt.model import (
    EnergyInputs,
    add_energy,
    energy_flows,
    energy_inputs,
    grid_carbon_t,
)
from greendispatch.sim.network import NetworkArrays
from greendispatch.workload.jobs import JobTable

MILP_BINARY_LIMIT = 20_000  # `auto`: instances needing more binaries are rounded by the heuristic
MILP_TIME_LIMIT_S = 120.0  # then the best schedule found so far, its gap reported
MILP_REL_GAP = 1e-4
_EPS = 1e-9  # the engine's tolerance on the resume overhead
# overhead < (pieces - 1) x checkpoint / dt - spare + 1 by this much: ten times HiGHS's
# feasibility tolerances (1e-7 on rows, 1e-6 on integrality), so a MILP schedule never runs a
# spare slot; a piece count whose overhead falls within it above a whole slot is not offered
# (a restriction, never an error). The spare part of the last slot comes from any duration, so
# the margin is small: at 1e-3 a 0.5005 h checkpoint with half a slot spare lost its best split.
_CEIL_MARGIN = 1e-5


@dataclass(frozen=True)
class MilpSchedule:
    """Per job its hub (-1: not in the MILP) and slots; the batteries' plan (H, T) MWh; the
    MILP's carbon (t), whether it was proven optimal and its relative gap to its bound."""

    hub: np.ndarray
    slots: dict[int, np.ndarray]
    charge_mwh: np.ndarray
    discharge_mwh: np.ndarray
    carbon_t: float
    optimal: bool
    mip_gap: float
    n_binaries: int
    build_s: float
    solve_s: float


def placed_schedule(placements) -> dict[int, tuple[int, np.ndarray]]:
    """A run's placements as job -> (hub, slots) (jobs placed in their windows only)."""
    p = placements
    return {
        j: (int(p.hub[j]), p.slots(j)) for j in np.flatnonzero((p.hub >= 0) & ~p.missed).tolist()
    }


def _ragged(counts: np.ndarray) -> np.ndarray:
    """``0 .. c-1`` for each count ``c``, concatenated."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    ends = np.cumsum(counts)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts)


def _pairs(js, keep: np.ndarray | None):
    """(job, hub) pairs whose window holds the work, and whether each job may run in pieces."""
    fits = js.mask & (js.first + js.d[:, None] <= js.end[:, None])
    if keep is not None:
        fits &= keep[:, None]
    jj, hh = np.nonzero(fits)
    inter = np.ones(len(js.end), dtype=bool) if js.interruptible is None else js.interruptible
    split = inter & (js.d > 1)
    return jj, hh, split


def milp_binaries(jobs: JobTable, net: NetworkArrays, n_slots: int, dt_h: float, keep=None) -> int:
    """The binaries the MILP of these jobs needs (its size, to decide whether to solve it)."""
    js = job_slots(jobs, net, n_slots, dt_h)
    jj, hh, split = _pairs(js, keep)
    width = js.end[jj] - js.first[jj, hh]
    per = np.where(split[jj], width + 1, width - js.d[jj] + 1)
    return int(per.sum())


def solve_milp(
    jobs: JobTable,
    signals,
    net: NetworkArrays,
    *,
    battery: BatteryParams | None = None,
    grid_charge: bool = False,
    keep: np.ndarray | None = None,
    time_limit_s: float = MILP_TIME_LIMIT_S,
    mip_rel_gap: float = MILP_REL_GAP,
    known: dict[int, tuple[int, np.ndarray]] | None = None,
) -> MilpSchedule | None:
    """The carbon-optimal integral schedule of ``jobs`` (those in ``keep``, default all) on the
    actual signals, starting from the ``known`` one (job -> hub, slots) if given; None if
    HiGHS found no feasible one in ``time_limit_s``."""
    n_t, dt = signals.grid.n_slots, signals.grid.dt_h
    return solve_milp_slots(
        job_slots(jobs, net, n_t, dt),
        energy_inputs(signals, net, battery),
        jobs.checkpoint_h / dt,
        keep=keep,
        grid_charge=grid_charge,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        known=known,
    )


def solve_milp_slots(
    js: JobSlots,
    e: EnergyInputs,
    checkpoint_slots: np.ndarray,
    *,
    keep: np.ndarray | None = None,
    grid_charge: bool = False,
    time_limit_s: float = MILP_TIME_LIMIT_S,
    mip_rel_gap: float = MILP_REL_GAP,
    known: dict[int, tuple[int, np.ndarray]] | None = None,
) -> MilpSchedule | None:
    """:func:`solve_milp` on the jobs' windows in slots (``js``) and the energy inputs ``e``;
    ``checkpoint_slots``: each job's resume overhead in slots (its checkpoint hours / dt).
    ``known``: a known schedule, job -> (hub, slots), the MILP's first incumbent (jobs whose
    placement it cannot express are left for HiGHS to complete)."""
    t0 = time.perf_counter()
    n_t, dt = e.shape[1], e.dt_h
    n_h, n_k = e.cap.shape[:2]
    jj, hh, split = _pairs(js, keep)
    lp = LinearProgram()

    # One piece: a binary per (job, hub) pair and start slot; it runs d slots from there.
    one = ~split[jj]
    oj, oh = jj[one], hh[one]
    n_starts = js.end[oj] - js.d[oj] - js.first[oj, oh] + 1
    s_pair = np.repeat(np.arange(len(oj)), n_starts)
    s_slot = js.first[oj, oh][s_pair] + _ragged(n_starts)
    start = lp.add_cols("start", len(s_pair), 0.0, 1.0, integer=True)
    s_run = np.repeat(np.arange(len(s_pair)), js.d[oj][s_pair])
    one_col = start[s_run]
    one_off = _ragged(js.d[oj][s_pair])
    one_t = s_slot[s_run] + one_off
    one_j, one_h = oj[s_pair][s_run], oh[s_pair][s_run]
    # The share of each slot the devices work: the last slot may hold only part of the work.
    one_share = np.clip(js.work[one_j] - one_off, 0.0, 1.0)

    # In pieces: a hub binary per pair, a run binary per pair and window slot, the pieces'
    # starts and the overhead slots.
    pj, ph = jj[~one], hh[~one]
    width = js.end[pj] - js.first[pj, ph]
    r_pair = np.repeat(np.arange(len(pj)), width)
    r_off = _ragged(width)
    r_slot = js.first[pj, ph][r_pair] + r_off
    hub = lp.add_cols("hub", len(pj), 0.0, 1.0, integer=True)
    run = lp.add_cols("run", len(r_pair), 0.0, 1.0, integer=True)
    piece = lp.add_cols("piece_start", len(r_pair), 0.0, 1.0)
    over = lp.add_cols("overhead", len(pj), 0.0, np.maximum(width - js.d[pj], 0), integer=True)

    jobs_in = np.unique(jj)
    row_of = np.full(len(js.end), -1, dtype=np.int64)
    row_of[jobs_in] = np.arange(len(jobs_in))
    lp.add_rows("assign", len(jobs_in), np.concatenate([row_of[oj][s_pair], row_of[pj]]),
                np.concatenate([start, hub]), 1.0, 1.0, 1.0)  # fmt: skip
    n_r = len(r_pair)
    lp.add_rows("link", n_r, np.tile(np.arange(n_r), 2), np.concatenate([run, hub[r_pair]]),
                np.concatenate([np.ones(n_r), -np.ones(n_r)]), -np.inf, 0.0)  # fmt: skip
    lp.add_rows("work", len(pj), np.concatenate([r_pair, np.arange(len(pj)), np.arange(len(pj))]),
                np.concatenate([run, hub, over]),
                np.concatenate([np.ones(n_r), -js.d[pj].astype(np.float64), -np.ones(len(pj))]),
                0.0, 0.0)  # fmt: skip
    later = np.flatnonzero(r_off > 0)  # piece_start >= run[t] - run[t - 1]
    lp.add_rows("pieces", n_r, np.concatenate([np.arange(n_r), np.arange(n_r), later]),
                np.concatenate([piece, run, run[later - 1]]),
                np.concatenate([np.ones(n_r), -np.ones(n_r), np.ones(len(later))]),
                0.0, np.inf)  # fmt: skip
    # ... and no more: piece_start <= run[t] and <= 1 - run[t - 1], so it counts the pieces.
    lp.add_rows("piece_on", n_r, np.tile(np.arange(n_r), 2), np.concatenate([piece, run]),
                np.concatenate([np.ones(n_r), -np.ones(n_r)]), -np.inf, 0.0)  # fmt: skip
    lp.add_rows("piece_after_pause", len(later), np.tile(np.arange(len(later)), 2),
                np.concatenate([piece[later], run[later - 1]]), 1.0, -np.inf, 1.0)  # fmt: skip
    ck = np.asarray(checkpoint_slots, dtype=np.float64)[pj]
    spare = js.d[pj] - js.work[pj]  # the part of the last slot the work leaves idle
    # overhead = ceil((pieces - 1) x checkpoint / dt - spare), the engine's count: the least
    # integer at or above it (so a job runs no slot its work and resumes do not need).
    n_p = len(pj)
    p_rows = np.concatenate([np.arange(n_p), r_pair, np.arange(n_p)])
    p_cols = np.concatenate([over, piece, hub])
    p_vals = np.concatenate([np.ones(n_p), -ck[r_pair], ck + spare])
    lp.add_rows("resume", n_p, p_rows, p_cols, p_vals, -_EPS, 1.0 - _CEIL_MARGIN)
    # Its devices stand idle in the rest of its last run slot: ``last`` marks that slot (run[t]
    # <= after[t], the ``last`` from t on, which sum to the hub binary; last <= run), ``idle``
    # (<= last) holds the idle share: the slots run less the work and the resumes.
    last = lp.add_cols("last", n_r, 0.0, 1.0)
    after = lp.add_cols("after", n_r, 0.0, 1.0)
    idle = lp.add_cols("idle", n_r, 0.0, 1.0)
    nxt = np.flatnonzero(r_off[1:] > 0)  # index i whose next index is the same pair's
    rows = np.arange(n_r)
    lp.add_rows("after_chain", n_r, np.concatenate([rows, rows, nxt]),
                np.concatenate([after, last, after[nxt + 1]]),
                np.concatenate([np.ones(n_r), -np.ones(n_r), -np.ones(len(nxt))]),
                0.0, 0.0)  # fmt: skip
    lp.add_rows("last_one", n_p, np.concatenate([r_pair, np.arange(n_p)]),
                np.concatenate([last, hub]), np.r_[np.ones(n_r), -np.ones(n_p)],
                0.0, 0.0)  # fmt: skip
    for name, lo_col, hi_col in (("run_before_last", run, after), ("last_runs", last, run),
                                 ("idle_last", idle, last)):  # fmt: skip
        lp.add_rows(name, n_r, np.tile(rows, 2), np.concatenate([lo_col, hi_col]),
                    np.r_[np.ones(n_r), -np.ones(n_r)], -np.inf, 0.0)  # fmt: skip
    if js.last_room is not None:  # work in the window's last slot must end by the deadline
        at_end = np.flatnonzero(r_off == width[r_pair] - 1)  # each pair's last window slot
        room = js.last_room[pj[r_pair[at_end]]]
        lp.add_rows("end_by_deadline", len(at_end), np.tile(np.arange(len(at_end)), 2),
                    np.concatenate([idle[at_end], last[at_end]]),
                    np.r_[np.ones(len(at_end)), room - 1.0], 0.0, np.inf)  # fmt: skip
    lp.add_rows("idle_share", n_p,
                np.concatenate([r_pair, np.arange(n_p), np.arange(n_p), r_pair, np.arange(n_p)]),
                np.concatenate([idle, over, hub, piece, hub]),
                np.concatenate([np.ones(n_r), -np.ones(n_p), -spare, ck[r_pair], -ck]),
                0.0, 0.0)  # fmt: skip

    # Every running (column, hub, slot) entry: capacity and the facility load.
    col = np.concatenate([one_col, run])
    rj = np.concatenate([one_j, pj[r_pair]])
    rh = np.concatenate([one_h, ph[r_pair]])
    rt = np.concatenate([one_t, r_slot])
    nd = js.devices[rj].astype(np.float64)
    k = js.pool[rj]
    lp.add_rows("capacity", n_h * n_k * n_t, (rh * n_k + k) * n_t + rt, col, nd, -np.inf,
                e.cap.ravel().astype(np.float64))  # fmt: skip
    # Energy: devices draw power while they work (the engine's metering): a job in one piece
    # the share of each slot its work fills, a job in pieces its run slots less the idle part.
    mwh = e.pue[rh, rt] * e.mw_per_device[rh, k] * nd * dt
    mwh[: len(one_share)] *= one_share
    n_one = len(one_share)
    load = (
        np.r_[rh * n_t + rt, (rh * n_t + rt)[n_one:]],
        np.r_[col, idle],
        np.r_[mwh, -mwh[n_one:]],
    )
    has_bat = add_energy(lp, e, load, grid_charge=grid_charge)
    build_s = time.perf_counter() - t0

    mip_start = None
    if known:
        # The known schedule's integer columns (and piece starts), for the jobs it places
        # where the MILP can say so.
        val = np.zeros(lp.n_cols)
        covered = np.zeros(len(js.end), dtype=bool)
        one_at = {ab: p for p, ab in enumerate(zip(oj.tolist(), oh.tolist(), strict=True))}
        split_at = {ab: p for p, ab in enumerate(zip(pj.tolist(), ph.tolist(), strict=True))}
        s_base, r_base = np.cumsum(n_starts) - n_starts, np.cumsum(width) - width
        for j, (h, got) in known.items():
            off = np.asarray(got, dtype=np.int64) - js.first[j, h]
            if not len(off):
                continue
            p = one_at.get((j, h))
            if p is not None:
                if len(off) == js.d[j] and np.all(np.diff(off) == 1) and 0 <= off[0] < n_starts[p]:
                    val[start[s_base[p] + off[0]]] = 1.0
                    covered[j] = True
                continue
            p = split_at.get((j, h))
            if p is not None and off[0] >= 0 and off[-1] < width[p]:
                val[hub[p]] = 1.0
                val[run[r_base[p] + off]] = 1.0
                val[piece[r_base[p] + off[np.r_[True, np.diff(off) > 1]]]] = 1.0
                val[over[p]] = len(off) - js.d[j]
                covered[j] = True
        cols = np.concatenate([start[covered[oj[s_pair]]], hub[covered[pj]], over[covered[pj]],
                               run[covered[pj[r_pair]]], piece[covered[pj[r_pair]]]])  # fmt: skip
        mip_start = (cols, val[cols])
    sol = lp.solve(time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, mip_start=mip_start)
    if not sol.feasible:
        return None
    hub_of = np.full(len(js.end), -1, dtype=np.int64)
    slots: dict[int, np.ndarray] = {}
    chosen = np.flatnonzero(sol.col("start") > 0.5)
    for c in chosen.tolist():
        p = int(s_pair[c])
        j = int(oj[p])
        hub_of[j] = int(oh[p])
        slots[j] = np.arange(s_slot[c], s_slot[c] + js.d[j], dtype=np.int64)
    on = sol.col("run") > 0.5
    for p in np.flatnonzero(sol.col("hub") > 0.5).tolist():
        j = int(pj[p])
        hub_of[j] = int(ph[p])
        slots[j] = r_slot[(r_pair == p) & on].astype(np.int64)
    flows = energy_flows(sol, has_bat, e)
    return MilpSchedule(hub_of, slots, flows["charge"], flows["discharge"],
                        grid_carbon_t(flows, e), sol.optimal, sol.mip_gap,
                        len(start) + len(hub) + len(run), build_s, sol.solve_s)  # fmt: skip


class MilpPolicy:
    """The oracle's rounded schedule from the MILP: each job where the MILP put it (the
    engine's checks decide; a job they refuse is placed by ``fallback``, the rounding
    heuristic), the batteries following the MILP's plan."""

    name = "oracle"

    def __init__(self, schedule: MilpSchedule, fallback):
        self.schedule = schedule
        self.fallback = fallback

    def prescribed(self, j: int) -> tuple[int, np.ndarray] | None:
        h = int(self.schedule.hub[j])
        return None if h < 0 else (h, self.schedule.slots[j])

    def scores(self, job, slot) -> np.ndarray:
        return self.fallback.scores(job, slot)

    def slot_scores(self, job, slot) -> np.ndarray:
        return self.fallback.slot_scores(job, slot)

    def booked(self, j: int, h: int, slots) -> None:
        hook = getattr(self.fallback, "booked", None)
        if hook is not None:
            hook(j, h, slots)

    def battery_schedule(self) -> tuple[np.ndarray, np.ndarray]:
        return self.schedule.charge_mwh, self.schedule.discharge_mwh


ROUNDINGS = ("auto", "milp", "heuristic")
MILP_FORCED_LIMIT = 500_000  # ``milp`` asked for by name: refused above this many binaries


def check_milp_size(
    jobs: JobTable, net: NetworkArrays, n_slots: int, dt_h: float, keep=None
) -> int:
    """The binaries the oracle's MILP needs for the jobs in ``keep`` (default: every job some
    schedule can serve); InputError above :data:`MILP_FORCED_LIMIT`, as ``--oracle-rounding
    milp`` is refused. Cheap: callers check it before any long work."""
    from greendispatch.opt.classes import unservable

    if keep is None:
        js = job_slots(jobs, net, n_slots, dt_h)
        keep = np.ones(len(jobs), dtype=bool)
        keep[np.concatenate(unservable(js))] = False
    n_bin = milp_binaries(jobs, net, n_slots, dt_h, keep)
    if n_bin > MILP_FORCED_LIMIT:
        raise InputError(
            f"--oracle-rounding milp: the MILP of these jobs needs {n_bin:,} binaries, more "
            f"than {MILP_FORCED_LIMIT:,} (fewer jobs or days, or --oracle-rounding auto)"
        )
    return n_bin


def oracle_rounding(
    result, jobs: JobTable, signals, net: NetworkArrays, *, how: str = "auto",
    grid_charge: bool = False, progress: Callable[[], Callable[[int, int], None]] | None = None,
) -> tuple[object, dict]:  # fmt: skip
    """The policy that turns the oracle into a feasible schedule, and how (for
    ``results.json``): ``heuristic`` rounds the LP plan; ``milp`` solves the MILP (refused
    above :data:`MILP_FORCED_LIMIT` binaries); ``auto`` the MILP up to
    :data:`MILP_BINARY_LIMIT` binaries, else the heuristic. The MILP starts from the
    heuristic's schedule (run in the engine), so it is never worse; if HiGHS takes no schedule
    in its time limit, the heuristic's stays. ``progress()``, if given, makes a progress bar
    for the MILP."""
    from greendispatch.opt.oracle import rounding_policy

    if how not in ROUNDINGS:
        raise InputError(f"--oracle-rounding: expected one of {', '.join(ROUNDINGS)} (got {how!r})")
    n_t, dt = signals.grid.n_slots, signals.grid.dt_h
    heuristic = rounding_policy(result, jobs, net.n_hubs, n_t)
    if how == "heuristic":
        return heuristic, {"method": "heuristic"}
    keep = ~np.isin(jobs.job_id, result.excluded)
    if how == "milp":
        n_bin = check_milp_size(jobs, net, n_t, dt, keep)
    else:
        n_bin = milp_binaries(jobs, net, n_t, dt, keep)
    if n_bin > MILP_BINARY_LIMIT and how == "auto":
        return heuristic, {"method": "heuristic", "milp_binaries": n_bin}
    from greendispatch.sim.engine import simulate

    bar = progress() if progress is not None else None
    if bar is not None:
        bar(0, 1)
    # The heuristic's schedule is the MILP's first incumbent: it can only improve on it.
    first = simulate(jobs, signals, net, heuristic, forecast="perfect", grid_charge=grid_charge)
    sched = solve_milp(jobs, signals, net, keep=keep, grid_charge=grid_charge,
                       known=placed_schedule(first.placements))  # fmt: skip
    heuristic = rounding_policy(result, jobs, net.n_hubs, n_t)  # a fresh one: it keeps state
    if bar is not None:
        bar(1, 1)
    if sched is None:
        return heuristic, {"method": "heuristic", "milp_binaries": n_bin,
                           "milp": f"no schedule found in {MILP_TIME_LIMIT_S:g} s"}  # fmt: skip
    return MilpPolicy(sched, heuristic), {
        "method": "milp",
        "milp_t": sched.carbon_t,
        "optimal": sched.optimal,
        "mip_gap": sched.mip_gap,
        "milp_binaries": sched.n_binaries,
        "build_s": sched.build_s,
        "solve_s": sched.solve_s,
    }
