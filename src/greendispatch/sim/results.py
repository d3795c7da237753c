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
