"""What a run produces, and the supply its load meets.

:class:`Placements` records where and when each job ran; :class:`SimRun` is one policy's whole
run (placements, device load, energy supply and timing). :func:`supply_inputs` turns the IT load
booked per hub and slot into the facility load and the supply available to serve it, as
:func:`~greendispatch.energy.supply.serve_load` takes them: the engine uses it for the energy
accounting after the last slot and for the past it shows policies (``observed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from greendispatch.energy.supply import SupplyResult
from greendispatch.signals.build import Signals
from greendispatch.sim.network import NetworkArrays
from greendispatch.workload.jobs import JobTable

_EPS = 1e-9


@dataclass(frozen=True)
class Placements:
    """Per job (in the table's order): hub (-1 unplaced), first slot, slots run, and flags.

    Split (interruptible) jobs list their slots in ``split_slots``; ``segments`` counts the
    pieces a job ran in (1 for contiguous). ``missed``: the job did not end by its deadline --
    its work ended later (:func:`end_hours`), or it was never placed.
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


def _work_reach(jobs: JobTable, p: Placements, dt_h: float, j=slice(None)):
    """Per job (of ``j``, default all): how many of its booked slots its work reaches (``k``,
    at least 1, at most those booked) and the hours of work in the last of them (``part_h``, in
    ``(0, dt_h]``).

    The work (``duration_h`` plus ``checkpoint_h`` per resume) fills the booked slots in order,
    each whole but the last it reaches."""
    work_h = jobs.duration_h[j] + np.maximum(p.segments[j] - 1, 0) * jobs.checkpoint_h[j]
    k = np.clip(np.ceil(work_h / dt_h - _EPS), 1, np.maximum(p.n_slots[j], 1)).astype(np.int64)
    part_h = np.clip(work_h - (k - 1) * dt_h, 0.0, dt_h)
    return k, part_h


def end_hours(jobs: JobTable, p: Placements, dt_h: float) -> np.ndarray:
    """When each job's work really ends, hours from the start (NaN if unplaced).

    The work fills the job's booked slots in order (:func:`_work_reach`): it ends at the start
    of the last slot it reaches plus the part of the work that falls in it (a 0.3 h job started
    at slot 5 of 1 h ends at 5.3 h).
    """
    placed = p.hub >= 0
    k, part_h = _work_reach(jobs, p, dt_h)
    last = (p.start + k - 1).astype(np.float64)
    for j, slots in p.split_slots.items():
        last[j] = slots[k[j] - 1]
    return np.where(placed, last * dt_h + part_h, np.nan)


class IdleParts(NamedTuple):
    """Booked slots in which a job's devices do not work the whole slot: the slot its work ends
    in (part way into it) and any booked slot after that (a resume overhead rounded up to whole
    slots). Per entry: the job, the slot and the share of the slot its devices stand idle
    (``0 < idle <= 1``). The devices stay reserved for the job (capacity counts them) but draw
    only their idle power: the energy of a job is that of its work, not of its whole slots."""

    job: np.ndarray
    slot: np.ndarray
    idle: np.ndarray


def idle_parts(jobs: JobTable, p: Placements, dt_h: float) -> IdleParts:
    """The :class:`IdleParts` of every placed job (vectorised; a loop only over split jobs)."""
    placed = np.flatnonzero(p.hub >= 0)
    k, part_h = _work_reach(jobs, p, dt_h)
    k, part, n_booked = k[placed], part_h[placed] / dt_h, p.n_slots[placed].astype(np.int64)
    # Offsets into each job's booked slots: the last one its work reaches, when partly idle,
    # then every one after it.
    tail = part < 1.0 - _EPS
    first = np.where(tail, k - 1, k)
    count = np.maximum(n_booked - first, 0)
    job = np.repeat(placed, count)
    ends = np.cumsum(count)
    off = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64) - np.repeat(
        ends - count, count
    )
    off += np.repeat(first, count)
    idle = np.where(off == np.repeat(k - 1, count), 1.0 - np.repeat(part, count), 1.0)
    slot = p.start[job].astype(np.int64) + off
    for i in np.flatnonzero(np.isin(job, list(p.split_slots))).tolist():
        slot[i] = p.split_slots[int(job[i])][off[i]]
    return IdleParts(job, slot, idle)


def slot_work_shares(work_h: float, n: int, dt_h: float) -> np.ndarray:
    """The share of each of ``n`` booked slots that ``work_h`` hours of work, filling them in
    order, keeps busy: 1, ..., 1, the part in the last slot it reaches, then 0."""
    share = np.clip(work_h / dt_h - np.arange(n), 0.0, 1.0)
    return np.where(share > 1.0 - _EPS, 1.0, np.where(share < _EPS, 0.0, share))


def work_shares(jobs: JobTable, p: Placements, dt_h: float, j: int) -> np.ndarray:
    """The share of each of job ``j``'s slots (:meth:`Placements.slots`) its devices work."""
    work_h = jobs.duration_h[j] + max(int(p.segments[j]) - 1, 0) * jobs.checkpoint_h[j]
    return slot_work_shares(float(work_h), len(p.slots(j)), dt_h)


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
