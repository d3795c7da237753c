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


def end_hours(jobs: JobTable, p: Placements, dt_h: float) -> np.ndarray:
    """When each job's work really ends, hours from the start (NaN if unplaced).

    The work (``duration_h`` plus ``checkpoint_h`` per resume) fills the job's booked slots in
    order, each whole but the last it reaches: it ends at the start of that slot plus the part
    of the work that falls in it (a 0.3 h job started at slot 5 of 1 h ends at 5.3 h). Energy is
    still booked by whole slots.
    """
    placed = p.hub >= 0
    work_h = jobs.duration_h + np.maximum(p.segments - 1, 0) * jobs.checkpoint_h
    # Slots the work reaches (at most those booked) and the part of it in the last of them.
    k = np.clip(np.ceil(work_h / dt_h - _EPS), 1, np.maximum(p.n_slots, 1)).astype(np.int64)
    part_h = np.clip(work_h - (k - 1) * dt_h, 0.0, dt_h)
    last = (p.start + k - 1).astype(np.float64)
    for j, slots in p.split_slots.items():
        last[j] = slots[k[j] - 1]
    return np.where(placed, last * dt_h + part_h, np.nan)


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
