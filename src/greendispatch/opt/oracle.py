"""The offline optimum with perfect foresight: an LP lower bound on carbon, and a feasible
integral schedule rounded from it.

The bound: :func:`solve_oracle` builds the dispatch LP over the whole horizon on the actual
signals (work groups of :mod:`greendispatch.opt.classes`, energy and batteries of
:mod:`greendispatch.opt.energy`), solves it with HiGHS and reports its carbon. No schedule that
finishes every job inside its window can emit less (the LP relaxes whole devices, contiguous
runs and one hub per job, and optimises the batteries with hindsight).

The rounding: :class:`OraclePolicy` is a dispatch policy that places each job, in the engine,
where its group's LP plan has room left (devices integral, non-interruptible work contiguous,
every capacity check the engine's own), choosing within the plan by marginal carbon on the
actual signals plus the LP's shadow price of the capacity it takes (so a job leaves the slots
that later work needs more), with the batteries following the LP's charge and discharge plan.
Its carbon is ``rounded_t``. On small instances the runner uses the MILP's best integral
schedule instead (:mod:`greendispatch.opt.milp`); this heuristic serves every size.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from greendispatch.dispatch.base import JobView, SlotView, marginal_carbon
from greendispatch.energy.supply import BatteryParams
from greendispatch.errors import InputError
from greendispatch.opt.classes import (
    WorkGroups,
    check_feasible,
    job_slots,
    unservable,
    work_groups,
)
from greendispatch.opt.energy import EnergyInputs, energy_inputs, slice_energy
from greendispatch.opt.follower import PlanFollower, _per_slot, plan_array
from greendispatch.opt.lp import LPSolution
from greendispatch.opt.model import Plan, build, coarsen, extract
from greendispatch.opt.presence import (
    PresencePlan,
    SharePolicy,
    ShareRows,
    build_presence,
    extract_presence,
    presence_classes,
    window_segment,
)
from greendispatch.opt.stitch import keep_slots, stitched_bound, window_duals, windows
from greendispatch.sim.network import NetworkArrays
from greendispatch.workload.jobs import POOL_KINDS, JobTable

ORACLE_MODES = ("auto", "exact", "grouped", "presence")
EXACT_COLUMN_LIMIT = 400_000  # above this many run columns, jobs are grouped (see classes)
# The presence LP (no hub hopping, any run length) up to this many columns (about a minute or
# two with HiGHS here), then the grouped LP.
PRESENCE_COLUMN_LIMIT = 300_000
# The presence LP over a longer horizon is solved in segments this long. A job crossing an edge
# may change hubs there: on 112 days of china-hubs (jobs up to 28 days long) 56-day segments
# gave a bound 8.5 % higher than 28-day ones, in 2.4x the time.
SEGMENT_SLOTS = 56 * 24
# ... as windows overlapping by a week on each side, whose duals stitch into a bound for the
# whole horizon (see stitch): on 28 days of china-hubs the whole LP gives 35,116 t, 14-day
# segments 30,241 t, 14-day windows 7 days apart 33,043 t (bench_opt.py gap-28), 21-day ones
# 7 days apart 34,534 t.
OVERLAP_SLOTS = 7 * 24
IPM_COLUMNS = 20_000  # LPs with more columns are solved by the interior point method
COLUMN_BUDGET = 250_000  # grouped LPs above this many run columns are solved over time blocks


@dataclass(frozen=True)
class OracleResult:
    bound_t: float
    plan: Plan | PresencePlan
    groups: WorkGroups | ShareRows
    mode: str
    block: int  # slots per LP time step (1: the scenario's own slots)
    build_s: float
    solve_s: float
    n_cols: int
    n_rows: int
    excluded: np.ndarray  # job ids left out of the bound: no schedule can serve them

    @property
    def n_groups(self) -> int:
        """Work groups (or, for the presence LP, job classes) of the LP."""
        g = self.groups
        return g.n_classes if isinstance(g, ShareRows) else g.n_groups


def _run_columns(js, n_slots: int) -> int:
    """Run columns of the exact LP: allowed hubs x window slots, summed over jobs (an upper
    estimate: identical jobs share theirs)."""
    width = np.clip(js.end[:, None] - js.first, 0, n_slots)
    return int((width * js.mask).sum())


def solve_oracle(
    jobs: JobTable,
    signals,
    net: NetworkArrays,
    *,
    mode: str = "auto",
    battery: BatteryParams | None = None,
    grid_charge: bool = False,
    objective: str = "carbon",
    carbon_weight: float = 1.0,
    block: int | None = None,
    exclude_unservable: bool = False,
    segment_slots: int = SEGMENT_SLOTS,
    overlap_slots: int = OVERLAP_SLOTS,
    progress: Callable[[int, int], None] | None = None,
) -> OracleResult:
    """The LP bound over the whole horizon. ``mode``: ``exact`` (identical jobs merged, run
    per slot), ``presence`` (each job held to its hub shares, see
    :mod:`~greendispatch.opt.presence`), ``grouped`` (the loosest, for scale) or ``auto``
    (exact while it stays small, then presence, then grouped).
    ``block``: slots per LP step (see :func:`~greendispatch.opt.model.coarsen`); by default 1,
    or for a grouped LP the fewest that keep it within :data:`COLUMN_BUDGET` run columns.
    Jobs no schedule can serve are refused (InputError naming them), or with
    ``exclude_unservable`` left out of the bound and listed in ``excluded`` (every policy misses
    them too: e.g. jobs of a real trace submitted too late in the horizon). ``segment_slots``:
    the presence LP's window length over a long horizon, ``overlap_slots`` how far windows
    overlap on each side (0: segments); ``progress(done, total)`` is told of each window
    solved."""
    if mode not in ORACLE_MODES:
        raise InputError(f"the oracle's LP must be one of {', '.join(ORACLE_MODES)} (got {mode!r})")
    n_t, dt = signals.grid.n_slots, signals.grid.dt_h
    t0 = time.perf_counter()
    js = job_slots(jobs, net, n_t, dt)
    excluded = np.zeros(0, dtype=np.int64)
    if exclude_unservable:
        bad = np.concatenate(unservable(js))
        excluded = jobs.job_id[bad]
        keep = np.ones(len(jobs), dtype=bool)
        keep[bad] = False
    else:
        check_feasible(jobs, js, net, dt)
        keep = None
    if mode == "auto":
        if _run_columns(js, n_t) <= EXACT_COLUMN_LIMIT:
            mode = "exact"
        elif _presence_columns(js, net, n_t) <= PRESENCE_COLUMN_LIMIT:
            mode = "presence"
        else:
            mode = "grouped"
    e = energy_inputs(signals, net, battery)
    if mode == "presence":
        res = _solve_presence(js, e, keep, t0, excluded, objective, carbon_weight, grid_charge,
                              block or 1, segment_slots, progress, overlap_slots)  # fmt: skip
        if res is None:  # infeasible: the grouped LP's diagnosis names the jobs and hubs
            groups = work_groups(js, n_t, "grouped", dt, keep)
            raise InputError(_explain_infeasible(jobs, js, groups, e, net.hub_ids))
        return res
    groups = work_groups(js, n_t, mode, dt, keep)
    if block is None:
        block = 1 if mode != "grouped" else max(1, -(-_group_columns(groups) // COLUMN_BUDGET))
    lp_groups, lp_e = coarsen(groups, e, block)
    model = build(lp_groups, lp_e, objective=objective, carbon_weight=carbon_weight,
                  grid_charge=grid_charge)  # fmt: skip
    build_s = time.perf_counter() - t0
    sol = _solve(model.lp)
    if not sol.optimal:
        if sol.status == "Infeasible":
            raise InputError(_explain_infeasible(jobs, js, lp_groups, lp_e, net.hub_ids))
        raise InputError(f"the oracle LP was not solved: HiGHS status {sol.status}")
    plan = extract(model, sol, lp_e)
    return OracleResult(plan.carbon_t, plan, groups, mode, block, build_s, sol.solve_s,
                        model.lp.n_cols, model.lp.n_rows, excluded)  # fmt: skip


def _solve(lp, duals_only: bool = False) -> LPSolution:
    """HiGHS's interior point for a large LP (simplex is far slower there), else its choice.
    ``duals_only``: the duals, the objective and a plan that need not be a vertex serve (the
    presence LP's windows and segments): the interior point's, without the crossover (28 days
    of ``china-hubs`` in 14-day segments: over 15 minutes with it, 34 s without)."""
    if duals_only and lp.n_cols > IPM_COLUMNS:
        return lp.solve(method="ipm", crossover=False)
    return lp.solve(method="ipm" if lp.n_cols > IPM_COLUMNS else "choose")


def _solve_presence(
    js,
    e,
    keep,
    t0,
    excluded,
    objective,
    carbon_weight,
    grid_charge,
    block,
    segment_slots,
    progress=None,
    overlap_slots=OVERLAP_SLOTS,
):
    """The presence LP (:mod:`greendispatch.opt.presence`): each job held to its hub shares;
    None when it is infeasible. A horizon longer than ``segment_slots`` is solved in windows of
    that length overlapping by ``overlap_slots`` on each side: the bound is the whole horizon's
    from the windows' stitched duals (:mod:`~greendispatch.opt.stitch`), the plan each window's
    in the part it keeps. With no overlap the windows are segments whose bounds add up to a
    bound (see :func:`window_segment`)."""
    n, n_t = len(js.end), e.shape[1]
    alive = np.ones(n, dtype=bool) if keep is None else keep
    seg_len = n_t if n_t <= segment_slots * 1.5 else segment_slots
    margin = min(overlap_slots, max(0, (seg_len - 1) // 3)) if seg_len < n_t else 0
    spans = windows(n_t, seg_len, seg_len - 2 * margin)
    stitching = margin > 0 and len(spans) > 1
    member = np.full(n, -1, dtype=np.int64)
    plans, share_rows, parts, offset = [], [], [], 0
    n_cols = n_rows = 0
    build_s, solve_s = time.perf_counter() - t0, 0.0
    whole = None
    if stitching:
        t1 = time.perf_counter()
        whole = build_presence(presence_classes(js, n_t, block, alive), e, objective=objective,
                               carbon_weight=carbon_weight, grid_charge=grid_charge)  # fmt: skip
        build_s += time.perf_counter() - t1
    for k, (a, b, lo, hi) in enumerate(spans):
        t1 = time.perf_counter()
        seg, idx = window_segment(js, a, b)
        live = alive[idx]
        seg_e = slice_energy(e, a, b)
        cls = presence_classes(seg, b - a, block, live)
        model = build_presence(cls, seg_e, objective=objective, carbon_weight=carbon_weight,
                               grid_charge=grid_charge,
                               unit=whole.unit if whole is not None else None)  # fmt: skip
        build_s += time.perf_counter() - t1
        sol = _solve(model.lp, duals_only=True)  # no crossover: hours on a long segment
        solve_s += sol.solve_s
        if not sol.optimal:
            if sol.status == "Infeasible":
                return None
            raise InputError(f"the oracle LP was not solved: HiGHS status {sol.status}")
        if whole is not None:
            parts.append(window_duals(whole, model, sol, b - a))
        plans.append(keep_slots(extract_presence(model, sol, seg_e), lo - a, hi - a))
        n_cols, n_rows = n_cols + model.lp.n_cols, n_rows + model.lp.n_rows
        release = js.release[idx]
        own = (release >= lo) & (release < hi) & (cls.member >= 0)  # rounded from this plan
        member[idx[own]] = offset + cls.member[own]
        share_rows.append(plans[-1].shares)
        offset += cls.n_classes
        if progress is not None:
            progress(k + 1, len(spans))
    bound = float(sum(p.carbon_t for p in plans))
    if whole is not None:
        t1 = time.perf_counter()
        bound = stitched_bound(whole, spans, parts)
        build_s += time.perf_counter() - t1
    plan = PresencePlan(
        shares=np.concatenate(share_rows),
        running=np.concatenate([p.running for p in plans], axis=2),
        capacity_price=np.concatenate([p.capacity_price for p in plans], axis=2),
        charge_mwh=np.concatenate([p.charge_mwh for p in plans], axis=1),
        discharge_mwh=np.concatenate([p.discharge_mwh for p in plans], axis=1),
        carbon_t=bound,
    )
    rows = ShareRows(member, offset)
    return OracleResult(plan.carbon_t, plan, rows, "presence", 1, build_s, solve_s, n_cols,
                        n_rows, excluded)  # fmt: skip


def rounding_policy(result: OracleResult, jobs: JobTable, n_hubs: int, n_slots: int):
    """The policy that rounds the oracle's LP plan into the engine's schedule."""
    if isinstance(result.plan, PresencePlan):
        return SharePolicy(result.plan, result.groups.member, jobs)
    return OraclePolicy(result, jobs, n_hubs, n_slots)


def _presence_columns(js, net: NetworkArrays, n_slots: int) -> int:
    """Columns of the presence LP, about: a share per job and allowed hub (an upper estimate:
    identical jobs share theirs), five per hub, pool kind and slot, and the energy side."""
    pairs = int((net.cap > 0).sum())
    return int(js.mask.sum()) + (5 * pairs + 6 * net.n_hubs) * n_slots


def _group_columns(groups: WorkGroups) -> int:
    """Run columns of the LP at full time resolution (see :func:`build`)."""
    slots = np.arange(groups.rate.shape[1])
    total = 0
    for g in range(groups.n_groups):  # one group at a time: (H, T) each, not (G, H, T)
        open_ = groups.rate[g] > 0
        total += int((groups.mask[g][:, None] & open_ & (slots >= groups.first[g][:, None])).sum())
    return total


def _explain_infeasible(
    jobs: JobTable, js, groups: WorkGroups, e: EnergyInputs, hub_ids: tuple[str, ...]
) -> str:
    """Every job fits alone, so capacity is short somewhere: find the groups whose work cannot
    all be done (the LP with droppable work, minimising what is dropped) and name their jobs."""
    from greendispatch.opt.model import build as build_lp

    elastic = build_lp(groups, e, drop_penalty=1.0, energy_cost=False)
    sol = elastic.lp.solve(method="choose")
    if not sol.optimal:
        return f"the oracle LP is infeasible (HiGHS: {sol.status})"
    dropped = sol.col("drop") * groups.scale[elastic.drop_index[0]]
    lines = []
    order = np.argsort(-dropped)
    for i in order[:5].tolist():
        if dropped[i] <= 1e-6:
            break
        g, t = int(elastic.drop_index[0][i]), int(elastic.drop_index[1][i])
        members = np.flatnonzero(groups.member == g)
        due_here = members[js.end[members] - 1 <= t]
        ids = ", ".join(str(int(jobs.job_id[j])) for j in due_here[-5:])
        hubs = ", ".join(hub_ids[h] for h in np.flatnonzero(groups.mask[g]))
        lines.append(
            f"{dropped[i]:,.0f} device-slots of {POOL_KINDS[int(groups.pool[g])].value} work "
            f"due by slot {t + 1} (jobs {ids or '?'}) do not fit in the free capacity of "
            f"{hubs}"
        )
    return "the jobs cannot all finish inside their windows (capacity is short):\n  " + (
        "\n  ".join(lines)
    )


class OraclePolicy(PlanFollower):
    """The rounded oracle: follows the whole-horizon LP plan, on perfect forecasts."""

    name = "oracle"

    def __init__(self, result: OracleResult, jobs: JobTable, n_hubs: int, n_slots: int):
        super().__init__(
            result.groups.member,
            plan_array(result.plan, result.groups.n_groups, n_hubs, n_slots, result.block),
            jobs.devices.astype(np.float64),
        )
        self.result = result
        self.n_slots = n_slots
        self.pool = jobs.pool
        b = result.block
        cp = result.plan.capacity_price
        self.prices = np.repeat(cp / b, b, axis=2)[:, :, :n_slots] if b > 1 else cp

    def slot_scores(self, job: JobView, slot: SlotView) -> np.ndarray:
        """Marginal carbon (t per slot, on actuals) plus the LP's price of the capacity the
        job takes, plus a penalty for each slot the plan has no room for, as large as the
        dearest slot's cost: the plan leads, the prices and carbon decide within it."""
        t, w = slot.t, slot.width
        out = marginal_carbon(job, slot) * (slot.dt_h / 1000.0)
        nd = float(self.devices[job.index])
        out += self.prices[:, int(self.pool[job.index]), t : t + w] * nd
        return out + (1.0 - self._room(job, slot, w)) * (float(np.abs(out).max()) or 1.0)

    def battery_schedule(self) -> tuple[np.ndarray, np.ndarray]:
        p, b = self.result.plan, self.result.block
        return _per_slot(p.charge_mwh, b, self.n_slots), _per_slot(p.discharge_mwh, b, self.n_slots)
