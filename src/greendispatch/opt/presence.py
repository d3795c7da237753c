"""The presence LP: a tight bound at scale, where each job stays at the hubs it is given.

The grouped LP (:mod:`greendispatch.opt.classes`) lets a group's work follow the clean hours
from hub to hub. For a workload of week-long jobs that is far too loose: a real job runs at one
hub for its whole week and sees that hub's week. This LP keeps that, and stays small, because a
job's load at a hub is almost fixed once the hub is chosen:

- ``share[c,h]``: the devices of job class c (jobs of one pool kind, allowed hubs, release at
  each hub, deadline and run length) given to hub h; the shares sum to the class's devices. A job is
  *present* at its hub from its release there to its deadline: ``w`` slots, of which it runs
  ``d`` and pauses ``w - d`` (its slack; a non-interruptible job pauses before and after its
  run, an interruptible one anywhere).
- per hub, pool kind and slot: ``present`` devices (a running total: the shares arrive at
  their release and leave at their deadline, one row per slot), ``pause`` (<= present), the
  pause ``budget`` not yet used (each share brings ``w - d`` device-slots per device at its
  release) and the ``open_budget`` of the shares still present after the slot (the budget
  must be used by then). The devices running are ``present - pause``, within the capacity.
  A job that runs in one piece cannot pause between its latest start and its earliest end
  (its ``core``, one more running total): the pauses of non-interruptible work stay at the
  edges of its window.

Every schedule of the engine (whole devices, one hub per job, contiguous runs) is a solution,
so the optimum is a lower bound. It relaxes: fractional shares (a job may be split across
hubs), and pauses pooled across the jobs present at a hub (one job's slack may cover
another's pause, within the budget still open). The LP's size is the classes' hub shares plus
four columns per hub, pool kind and slot, whatever the jobs' durations.

Windows may be widened to a grid of ``block`` slots (release rounded down, deadline up) so
that more jobs share a class: a relaxation too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from greendispatch.dispatch.base import marginal_carbon, sliding_sums
from greendispatch.opt.classes import JobSlots, _pack_rows
from greendispatch.opt.lp import LinearProgram, LPSolution
from greendispatch.opt.model import EnergyInputs, add_energy, energy_flows, grid_carbon_t

_EPS = 1e-9  # slots that differ by less than this are the same


@dataclass(frozen=True)
class PresenceClasses:
    """C classes: ``member[j]`` is job j's class (-1: none). Per class: pool kind (C,), hubs it
    may use (C, H) (allowed, with room for its work after the data transfer), presence start
    at each hub (C, H), deadline (exclusive end, C,), devices, work (device-slots) and whether
    its jobs run in one piece."""

    member: np.ndarray
    pool: np.ndarray
    mask: np.ndarray
    first: np.ndarray
    end: np.ndarray
    devices: np.ndarray
    work: np.ndarray
    contiguous: np.ndarray  # (C,) bool: not interruptible

    @property
    def n_classes(self) -> int:
        return len(self.pool)


def presence_classes(
    js: JobSlots, n_slots: int, block: int = 1, keep: np.ndarray | None = None
) -> PresenceClasses:
    """Jobs with the same pool kind, usable hubs, presence start at each hub, deadline (on a
    grid of ``block`` slots) and run length form a class: the same hub shares of each fit them
    all (jobs of different lengths would be held to one split, which is no relaxation). Jobs
    outside ``keep`` bring nothing."""
    n = js.mask.shape[0]
    ok = np.ones(n, dtype=bool) if keep is None else keep.copy()
    mask = js.mask & (js.first + js.d[:, None] <= js.end[:, None])
    ok &= mask.any(axis=1) & (js.d > 0) & (js.devices > 0)
    first = np.where(mask, (js.first // block) * block, n_slots)
    end = np.minimum(-(-js.end // block) * block, n_slots)
    idx = np.flatnonzero(ok)
    inter = np.ones(n, dtype=bool) if js.interruptible is None else js.interruptible
    keys = np.concatenate(
        [js.pool[idx, None], _pack_rows(mask[idx]), first[idx], end[idx, None], js.d[idx, None],
         inter[idx, None]],
        axis=1,
    )  # fmt: skip
    _, rep, inv = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inv = inv.reshape(-1)
    member = np.full(n, -1, dtype=np.int64)
    member[idx] = inv
    dev = js.devices[idx].astype(np.float64)
    c_n = len(rep)
    # Work per device: the least of the class's jobs (the same whole slots, parts of the last
    # may differ), so that any split of the jobs among the hubs is within the shares' work.
    per_dev = np.full(c_n, np.inf)
    np.minimum.at(per_dev, inv, js.work[idx])
    return PresenceClasses(
        member=member,
        pool=js.pool[idx][rep],
        mask=mask[idx][rep],
        first=first[idx][rep],
        end=end[idx][rep],
        devices=np.bincount(inv, weights=dev, minlength=c_n),
        work=np.bincount(inv, weights=dev, minlength=c_n) * per_dev,
        contiguous=~inter[idx][rep],
    )


@dataclass(frozen=True)
class ShareRows:
    """The row of a plan's shares each job follows (-1: none), over every segment solved."""

    member: np.ndarray
    n_classes: int


@dataclass
class PresenceLP:
    lp: LinearProgram
    classes: PresenceClasses
    share_index: tuple[np.ndarray, np.ndarray]  # (class, hub) of each share column
    pairs: tuple[np.ndarray, np.ndarray]  # (hub, pool kind) of each pair
    unit: np.ndarray  # (K,) devices per LP unit of each pool kind
    battery_hubs: np.ndarray
    build_s: float
    n_slots: int = 0


def build_presence(
    cls: PresenceClasses,
    e: EnergyInputs,
    *,
    objective: str = "carbon",
    carbon_weight: float = 1.0,
    grid_charge: bool = False,
    unit: np.ndarray | None = None,
) -> PresenceLP:
    """Assemble the presence LP (see the module docstring). ``unit``: the devices per LP unit
    of each pool kind (by default from the classes), so that two LPs' rows may match."""
    t0 = time.perf_counter()
    lp = LinearProgram()
    n_h, n_t = e.shape
    n_k = e.cap.shape[1]
    # units: the mean devices of a class of each pool kind, so that cores and GPUs scale alike
    if unit is None:
        unit = np.ones(n_k)
        for k in range(n_k):
            m = cls.pool == k
            if m.any():
                unit[k] = max(1.0, float(cls.devices[m].mean()))
    usable = np.asarray(e.cap).max(axis=2) > 0  # (H, K)
    mask = cls.mask & usable[:, cls.pool].T
    ac, ah = np.nonzero(mask)
    ak = cls.pool[ac]
    pair_of = np.full((n_h, n_k), -1, dtype=np.int64)
    used = np.zeros((n_h, n_k), dtype=bool)
    used[ah, ak] = True
    ph, pk = np.nonzero(used)
    pair_of[ph, pk] = np.arange(len(ph))
    n_p = len(ph)
    ap = pair_of[ah, ak]
    a_first = cls.first[ac, ah]
    a_end = cls.end[ac]
    per_dev = cls.work[ac] / cls.devices[ac]  # slots run per device present
    beta = np.maximum((a_end - a_first) - per_dev, 0.0)  # pause budget per device present

    n_a = len(ac)
    share = lp.add_cols("share", n_a, 0.0, cls.devices[ac] / unit[ak])
    has = np.flatnonzero(np.bincount(ac, minlength=cls.n_classes) > 0)
    rhs = cls.devices[has] / unit[cls.pool[has]]
    row_of_class = np.full(cls.n_classes, -1, dtype=np.int64)
    row_of_class[has] = np.arange(len(has))
    lp.add_rows("share_sum", len(has), row_of_class[ac], share, 1.0, rhs, rhs)

    npt = n_p * n_t
    present = lp.add_cols("present", npt)
    pause = lp.add_cols("pause", npt)
    budget = lp.add_cols("budget", npt)
    open_budget = lp.add_cols("open_budget", npt)
    cell = np.arange(npt)
    later = np.flatnonzero(cell % n_t > 0)  # cells with a slot before them

    def chain(name: str, var: np.ndarray, extra_r, extra_c, extra_v) -> None:
        """var[t] - var[t-1] + extra = 0, one row per cell."""
        rows = np.concatenate([cell, later, *extra_r])
        cols = np.concatenate([var, var[later - 1], *extra_c])
        vals = np.concatenate([np.ones(npt), -np.ones(len(later)), *extra_v])
        lp.add_rows(name, npt, rows, cols, vals, 0.0, 0.0)

    arrive = ap * n_t + a_first
    leaves = a_end < n_t
    leave = ap[leaves] * n_t + a_end[leaves]
    ones_a = np.ones(n_a)
    chain("present_balance", present, [arrive, leave], [share, share[leaves]],
          [-ones_a, np.ones(int(leaves.sum()))])  # fmt: skip
    chain("budget_balance", budget, [arrive, cell], [share, pause], [-beta, np.ones(npt)])
    closes = ap * n_t + (a_end - 1)  # the budget must be used by the share's last slot
    chain("open_budget_balance", open_budget, [arrive, closes], [share, share], [-beta, beta])
    plus_minus = np.concatenate([np.ones(npt), -np.ones(npt)])
    # A job in one piece runs in every slot its window allows no way around: from its latest
    # start (end - d) to its earliest end (first + d). Those devices cannot pause.
    # The slots every start works whole: from the latest start to the earliest start's last
    # whole slot (its last slot may be only part worked: a partial pause).
    core_from = a_end - np.ceil(per_dev - _EPS).astype(np.int64)
    core_to = a_first + np.floor(per_dev + _EPS).astype(np.int64)
    has_core = cls.contiguous[ac] & (core_from < core_to)
    p_rows, p_cols, p_vals = [np.tile(cell, 2)], [np.concatenate([pause, present])], [plus_minus]
    if has_core.any():
        core = lp.add_cols("core", npt)
        sel = np.flatnonzero(has_core)
        ends = sel[core_to[sel] < n_t]
        starts, stops = ap[sel] * n_t + core_from[sel], ap[ends] * n_t + core_to[ends]
        chain("core_balance", core, [starts, stops], [share[sel], share[ends]],
              [-np.ones(len(sel)), np.ones(len(ends))])  # fmt: skip
        p_rows.append(cell), p_cols.append(core), p_vals.append(np.ones(npt))
    lp.add_rows("pause_limit", npt, np.concatenate(p_rows), np.concatenate(p_cols),
                np.concatenate(p_vals), -np.inf, 0.0)  # fmt: skip
    lp.add_rows("budget_limit", npt, np.tile(cell, 2), np.concatenate([budget, open_budget]),
                plus_minus, -np.inf, 0.0)  # fmt: skip
    c_h, c_k = np.repeat(ph, n_t), np.repeat(pk, n_t)
    c_t = np.tile(np.arange(n_t), n_p)
    limit = np.asarray(e.cap)[c_h, c_k, c_t] / unit[c_k]
    lp.add_rows("capacity", npt, np.tile(cell, 2), np.concatenate([present, pause]),
                plus_minus, -np.inf, limit)  # fmt: skip

    mwh = e.pue[c_h, c_t] * e.dt_h * e.mw_per_device[c_h, c_k] * unit[c_k]
    load = (np.tile(c_h * n_t + c_t, 2), np.concatenate([present, pause]),
            np.concatenate([mwh, -mwh]))  # fmt: skip
    has_bat = add_energy(lp, e, load, objective=objective, carbon_weight=carbon_weight,
                         grid_charge=grid_charge)  # fmt: skip
    return PresenceLP(lp, cls, (ac, ah), (ph, pk), unit, has_bat, time.perf_counter() - t0, n_t)


def running(model: PresenceLP, sol: LPSolution, n_t: int) -> np.ndarray:
    """Devices running per pair and slot (P, T)."""
    n_p = len(model.pairs[0])
    x = sol.col("present") - sol.col("pause")
    return np.maximum(x.reshape(n_p, n_t), 0.0) * model.unit[model.pairs[1]][:, None]


@dataclass(frozen=True)
class PresencePlan:
    """The presence LP's solution: each class's devices per hub (C, H), the devices running
    per hub, pool kind and slot (H, K, T), the capacity's shadow prices (H, K, T), the
    batteries' charge and discharge (H, T) and the bound (t CO2)."""

    shares: np.ndarray
    running: np.ndarray
    capacity_price: np.ndarray
    charge_mwh: np.ndarray
    discharge_mwh: np.ndarray
    carbon_t: float


def extract_presence(model: PresenceLP, sol: LPSolution, e: EnergyInputs) -> PresencePlan:
    n_h, n_t = e.shape
    n_k = e.cap.shape[1]
    cls = model.classes
    ac, ah = model.share_index
    shares = np.zeros((cls.n_classes, n_h))
    shares[ac, ah] = np.maximum(sol.col("share"), 0.0) * model.unit[cls.pool[ac]]
    ph, pk = model.pairs
    run = np.zeros((n_h, n_k, n_t), dtype=np.float32)
    run[ph, pk] = running(model, sol, n_t)
    price = np.zeros((n_h, n_k, n_t), dtype=np.float32)
    price[ph, pk] = np.abs(sol.dual("capacity")).reshape(len(ph), n_t) / model.unit[pk][:, None]
    flows = energy_flows(sol, model.battery_hubs, e)
    return PresencePlan(shares, run, price, flows["charge"], flows["discharge"],
                        grid_carbon_t(flows, e))  # fmt: skip


class SharePolicy:
    """The rounded presence plan: each job goes where its class's shares have room left (one
    hub, whole devices, the engine's own checks), in the slots where the plan's devices running
    at that hub have room left (the pauses then fall where the LP put them), and within that by
    marginal carbon on the actual signals plus the LP's price of the capacity it takes; the
    batteries follow the plan. Each missing share of room costs as much as the dearest slot."""

    name = "oracle"

    def __init__(self, plan: PresencePlan, member: np.ndarray, jobs):
        self.plan = plan
        self.remaining = plan.shares.copy()
        self.member = member
        self.devices = jobs.devices.astype(np.float64)
        self.pool = jobs.pool
        self.run_left = plan.running.astype(np.float64)  # (H, K, T) the plan's devices left

    def _room(self, j: int) -> np.ndarray:
        g = int(self.member[j])
        if g < 0:
            return np.ones(self.remaining.shape[1])
        return np.clip(self.remaining[g] / self.devices[j], 0.0, 1.0)

    def slot_scores(self, job, slot) -> np.ndarray:
        t, w = slot.t, slot.width
        out = marginal_carbon(job, slot) * (slot.dt_h / 1000.0)
        price = self.plan.capacity_price[:, int(self.pool[job.index]), t : t + w]
        out[:, : price.shape[1]] += price * self.devices[job.index]
        room = self._room(job.index)[:, None]
        top = float(np.abs(out).max()) or 1.0
        nd = self.devices[job.index]
        left = self.run_left[:, int(self.pool[job.index]), t : t + w]
        busy = np.ones_like(out)
        busy[:, : left.shape[1]] = 1.0 - np.clip(left / nd, 0.0, 1.0)
        return out + (1.0 - room + busy) * top

    def scores(self, job, slot) -> np.ndarray:
        return sliding_sums(self.slot_scores(job, slot), job.d, job.L)

    def booked(self, j: int, h: int, slots) -> None:
        g = int(self.member[j])
        if g >= 0:
            self.remaining[g, h] -= self.devices[j]
        self.run_left[h, int(self.pool[j]), slots] -= self.devices[j]

    def battery_schedule(self) -> tuple[np.ndarray, np.ndarray]:
        return self.plan.charge_mwh, self.plan.discharge_mwh


def window_segment(js: JobSlots, a: int, b: int) -> tuple[JobSlots, np.ndarray]:
    """The jobs' windows seen from the slots ``a .. b-1`` alone (the oracle's segments).

    A job whose window crosses the segment's edges must still run here at least the slots its
    window outside cannot hold (``d`` less the slots outside, at the hub with most outside:
    less than it may, so a relaxation), and may be interrupted there (a relaxation too). Returns
    the segment's jobs (slots relative to ``a``) and their indices in ``js``."""
    release = js.release  # max int64 for a job with no allowed hub
    idx = np.flatnonzero((release < b) & (js.end > a))
    first, end = js.first[idx], js.end[idx]
    outside = np.maximum(a - first, 0) + np.maximum(end - b, 0)[:, None]
    worst = np.where(js.mask[idx], outside, 0).max(axis=1)
    d = js.d[idx] - worst
    work = js.work[idx] - worst
    keep = (d > 0) & (work > 0)
    idx, d, work = idx[keep], d[keep], work[keep]
    crosses = (release[idx] < a) | (js.end[idx] > b)
    inter = np.ones(len(js.d), dtype=bool) if js.interruptible is None else js.interruptible
    seg = JobSlots(
        first=np.clip(js.first[idx], a, b) - a,
        end=np.minimum(js.end[idx], b) - a,
        d=d,
        devices=js.devices[idx],
        pool=js.pool[idx],
        mask=js.mask[idx],
        latency_violation=js.latency_violation[idx],
        interruptible=inter[idx] | crosses,
        work_slots=work,
    )
    return seg, idx
