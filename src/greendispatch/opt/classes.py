"""Jobs as work groups for the LP: who may run where and when, how much, how fast.

A job needs ``w = devices x work`` device-slots of work (``work`` = its duration in slots; the
engine books ``d = ceil(work)`` whole slots, the last only partly worked), at most ``devices``
at a time, in its allowed hubs, from its release at each hub (submit time plus data transfer)
to its deadline. The LP sees groups of jobs:

- ``exact``: jobs whose every constraint is the same -- pool kind, allowed hubs, first slot at
  each hub, deadline, devices and duration -- form a class. The class LP has the same optimum as
  one LP per job (a class of N identical jobs may run N x devices at a time and needs N x w:
  any such plan splits back into N job plans). Jobs that differ only in devices or duration are
  not merged: with per-job rate limits, merging them would loosen the LP.
- ``grouped`` (for scale): jobs of one pool kind, allowed hubs and slack band share one group.
  The group's work is released and falls due job by job (the LP keeps a stock of released,
  unfinished work that must be empty of each job's work by its deadline), and the group may run
  at most the devices of its jobs open at that slot. Every per-job plan is a group plan, so the
  grouped LP is a relaxation: its optimum is still a lower bound, a little looser.

Release at each hub: the job's data reaches hub ``h`` at ``submit + data x h_per_gb``; the
grouped form releases the work at the earliest hub (a relaxation).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from greendispatch.errors import InputError
from greendispatch.sim.network import (
    NetworkArrays,
    job_hub_masks,
    job_windows,
    transfer_h_per_gb,
)
from greendispatch.workload.jobs import POOL_KINDS, JobTable

_EPS = 1e-9
# Slack bands (hours) of the grouped form: jobs with similar room to move share a group.
SLACK_BANDS_H = (0.0, 2.0, 8.0, 24.0, 72.0)


@dataclass(frozen=True)
class JobSlots:
    """Per job, in slots of the scenario grid: release at each hub (n, H), deadline (exclusive
    end), slots of work, devices, pool kind, allowed hubs (n, H); the latency flags, and
    whether it may be interrupted."""

    first: np.ndarray
    end: np.ndarray
    d: np.ndarray
    devices: np.ndarray
    pool: np.ndarray
    mask: np.ndarray
    latency_violation: np.ndarray
    interruptible: np.ndarray | None = None  # (n,) bool; None: treated as interruptible
    work_slots: np.ndarray | None = None  # (n,) the work in slots, <= d; None: d
    last_room: np.ndarray | None = None  # (n,) part of the slot end - 1 the work may fill

    @property
    def work(self) -> np.ndarray:
        """Slots of work per device (n,), float: the duration over the slot length, which a
        job's last slot holds only part of (its devices draw power only while they work)."""
        return self.d.astype(np.float64) if self.work_slots is None else self.work_slots

    @property
    def release(self) -> np.ndarray:
        """Earliest slot at any allowed hub (n,)."""
        return np.where(self.mask, self.first, np.iinfo(np.int64).max).min(axis=1)


def job_slots(jobs: JobTable, net: NetworkArrays, n_slots: int, dt_h: float) -> JobSlots:
    """The engine's view of each job's window, as arrays (same rounding as the engine)."""
    release, d, end = job_windows(jobs, n_slots, dt_h)
    mask, viol = job_hub_masks(net, jobs)
    first = np.repeat(release[:, None], net.n_hubs, axis=1)
    if net.region_ids:
        ready_h = (
            jobs.submit_h[:, None] + jobs.data_gb[:, None] * transfer_h_per_gb(net)[jobs.origin]
        )
        ready = np.ceil(ready_h / dt_h - _EPS).astype(np.int64)
        first = np.maximum(first, ready)
    work = np.minimum(jobs.duration_h / dt_h, d).astype(np.float64)
    room = np.clip((jobs.deadline_h - (end - 1) * dt_h) / dt_h, 0.0, 1.0)
    return JobSlots(first, end, d, jobs.devices.astype(np.int64), jobs.pool.astype(np.int64),
                    mask, viol, jobs.interruptible.astype(bool), work, room)  # fmt: skip


def unservable(js: JobSlots) -> tuple[np.ndarray, np.ndarray]:
    """Jobs no schedule can serve: with no allowed hub whose pool is big enough, and (others)
    whose window cannot hold the work at any allowed hub after the data transfer."""
    no_hub = np.flatnonzero(~js.mask.any(axis=1))
    fits = js.mask & (js.first + js.d[:, None] <= js.end[:, None])
    return no_hub, np.setdiff1d(np.flatnonzero(~fits.any(axis=1)), no_hub)


def check_feasible(jobs: JobTable, js: JobSlots, net: NetworkArrays, dt_h: float) -> None:
    """Refuse jobs no schedule can serve (:func:`unservable`), naming them and the constraint."""
    problems: list[str] = []
    no_hub, late = unservable(js)
    for j in no_hub[:10].tolist():
        k = int(js.pool[j])
        problems.append(
            f"job {int(jobs.job_id[j])}: fits no allowed hub ({int(js.devices[j])} "
            f"{POOL_KINDS[k].value} devices; largest allowed pool "
            f"{int(net.cap[:, k].max())}; residency, device type and latency limits applied)"
        )
    for j in late[:10].tolist():
        at = np.where(js.mask[j], js.first[j], np.iinfo(np.int64).max).min()
        problems.append(
            f"job {int(jobs.job_id[j])}: impossible deadline (needs {int(js.d[j])} slots of "
            f"{dt_h:g} h from slot {int(at)}, after data transfer, but must end by slot "
            f"{int(js.end[j])})"
        )
    if problems:
        n_bad = len(no_hub) + len(late)
        more = f" (and {n_bad - len(problems)} more)" if n_bad > len(problems) else ""
        raise InputError(
            f"the oracle cannot schedule {n_bad} job(s){more}:\n  " + "\n  ".join(problems)
        )


@dataclass(frozen=True)
class WorkGroups:
    """G groups for the LP. ``member[j]`` is job j's group (-1: none). Per group: pool kind
    (G,), allowed hubs (G, H), first slot at each hub (G, H), span ``[start, stop)``; per group
    and slot (G, T) the most devices it may run (the sum over its jobs open in that slot). Per
    job (n,): release slot, end slot (exclusive), work (device-slots), devices, and the share of
    its work due by its end (1; less for work allowed past a rolling horizon)."""

    member: np.ndarray
    pool: np.ndarray
    mask: np.ndarray
    first: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    rate: np.ndarray
    job_release: np.ndarray
    job_end: np.ndarray
    job_work: np.ndarray
    job_devices: np.ndarray
    job_due_frac: np.ndarray
    scale: np.ndarray
    exact: bool
    leftover_cost: np.ndarray | None = None  # (G,) per device-slot left at the end of the span

    @property
    def n_groups(self) -> int:
        return len(self.pool)


def work_groups(
    js: JobSlots,
    n_slots: int,
    mode: str = "exact",
    dt_h: float = 1.0,
    keep: np.ndarray | None = None,
) -> WorkGroups:
    """Group jobs (see the module docstring); ``mode`` is ``exact``, ``grouped`` or ``jobs``
    (one group per job, for checking the other two). Jobs outside ``keep`` (bool, n) bring no
    work (member -1)."""
    n, n_h = js.mask.shape
    if keep is not None and not keep.all():
        sub = work_groups(_subset(js, keep), n_slots, mode, dt_h)
        return _widen(sub, keep)
    hub_bits = _pack_rows(js.mask)
    if mode == "jobs":
        member = np.arange(n)
    elif mode == "exact":
        work_code = np.unique(js.work, return_inverse=True)[1].reshape(-1, 1)
        keys = np.concatenate(
            [js.pool[:, None], hub_bits, js.first, js.end[:, None], js.d[:, None],
             js.devices[:, None], work_code], axis=1,
        )  # fmt: skip
        member = np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1)
    elif mode == "grouped":
        slack_h = (js.end - js.release - js.d) * dt_h
        band = np.searchsorted(np.asarray(SLACK_BANDS_H), slack_h, side="right")
        keys = np.concatenate([js.pool[:, None], hub_bits, band[:, None]], axis=1)
        member = np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1)
    else:
        raise InputError(f"LP grouping must be exact, grouped or jobs (got {mode!r})")
    g_n = int(member.max()) + 1 if n else 0
    rep = np.zeros(g_n, dtype=np.int64)
    rep[member] = np.arange(n)
    release = js.release
    work = js.devices * js.work
    first = np.full((g_n, n_h), np.iinfo(np.int64).max)
    if mode == "grouped":  # every hub from the job's earliest release (a relaxation)
        np.minimum.at(first, member, np.repeat(release[:, None], n_h, axis=1))
    else:
        np.minimum.at(first, member, js.first)
    start = np.full(g_n, n_slots)
    np.minimum.at(start, member, release)
    stop = np.zeros(g_n, dtype=np.int64)
    np.maximum.at(stop, member, js.end)
    diff = np.zeros((g_n, n_slots + 1))
    np.add.at(diff, (member, release), js.devices.astype(np.float64))
    np.add.at(diff, (member, js.end), -js.devices.astype(np.float64))
    rate = np.cumsum(diff[:, :-1], axis=1)
    count = np.bincount(member, minlength=g_n)
    scale = np.maximum(1.0, np.bincount(member, weights=js.devices, minlength=g_n) / count)
    return WorkGroups(
        member=member,
        pool=js.pool[rep],
        mask=js.mask[rep],
        first=first,
        start=start,
        stop=stop,
        rate=rate,
        job_release=release,
        job_end=js.end,
        job_work=work,
        job_devices=js.devices,
        job_due_frac=np.ones(n),
        scale=scale,
        exact=mode != "grouped",
    )


def _pack_rows(mask: np.ndarray) -> np.ndarray:
    """Rows of a bool (n, H) array as int64 words (n, ceil(H / 63)), for grouping keys."""
    n, n_h = mask.shape
    words = -(-n_h // 63) or 1
    out = np.zeros((n, words), dtype=np.int64)
    for w in range(words):
        part = mask[:, w * 63 : (w + 1) * 63]
        weights = np.left_shift(np.int64(1), np.arange(part.shape[1], dtype=np.int64))
        out[:, w] = part.astype(np.int64) @ weights
    return out


def horizon_groups(
    js: JobSlots, idx: np.ndarray, t: int, width: int, leftover_cost: np.ndarray
) -> WorkGroups:
    """One group per job of ``idx`` over the slots ``t .. t+width-1`` (a rolling horizon): the
    part of its work that cannot fit after the horizon is due inside it; the rest may be left
    at ``leftover_cost`` per device-slot, (G,) or per hub (G, H). Jobs must have an allowed
    hub."""
    g_n = len(idx)
    n_h = js.mask.shape[1]
    first = np.clip(js.first[idx] - t, 0, width)
    release = np.where(js.mask[idx], first, width).min(axis=1)
    end = js.end[idx] - t
    work = js.devices[idx] * js.work[idx]
    dev = js.devices[idx].astype(np.float64)
    after = np.maximum(end - np.maximum(width, release), 0)  # window slots past the horizon
    must = np.maximum(work - dev * after, 0.0)
    stop = np.minimum(end, width)
    rows = np.arange(g_n)
    ok = release < stop
    slots = np.arange(width)
    rate = np.where((slots >= release[:, None]) & (slots < stop[:, None]), dev[:, None], 0.0)
    member = np.full(len(js.end), -1, dtype=np.int64)
    member[idx] = rows
    n = len(js.end)

    def per_job(values: np.ndarray, fill: float = 0.0) -> np.ndarray:
        out = np.full(n, fill, dtype=np.float64)
        out[idx] = values
        return out

    return WorkGroups(
        member=member,
        pool=js.pool[idx],
        mask=js.mask[idx] & ok[:, None],
        first=np.where(js.mask[idx], first, width).reshape(g_n, n_h),
        start=np.minimum(release, width - 1),
        stop=np.maximum(stop, 1),
        rate=rate,
        job_release=per_job(release).astype(np.int64),
        job_end=per_job(stop).astype(np.int64),
        job_work=per_job(np.where(ok, work, 0.0)),
        job_devices=per_job(dev),
        job_due_frac=per_job(np.divide(must, work, out=np.ones(g_n), where=work > 0), 1.0),
        scale=np.maximum(dev, 1.0),
        exact=True,
        leftover_cost=leftover_cost,
    )


def _subset(js: JobSlots, keep: np.ndarray) -> JobSlots:
    parts = (getattr(js, f.name) for f in dataclasses.fields(js))
    return JobSlots(*(None if a is None else a[keep] for a in parts))


def _widen(g: WorkGroups, keep: np.ndarray) -> WorkGroups:
    """Per-job arrays of ``g`` (for the kept jobs) back to every job; the others bring none."""

    def wide(a: np.ndarray, fill) -> np.ndarray:
        out = np.full(len(keep), fill, dtype=a.dtype)
        out[keep] = a
        return out

    return dataclasses.replace(
        g,
        member=wide(g.member, -1),
        job_release=wide(g.job_release, 0),
        job_end=wide(g.job_end, 1),
        job_work=wide(g.job_work, 0.0),
        job_devices=wide(g.job_devices, 0),
        job_due_frac=wide(g.job_due_frac, 1.0),
    )
