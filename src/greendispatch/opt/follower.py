"""Following a plan of devices per group, hub and slot in the engine: :class:`PlanFollower`,
the dispatch policy that places each job where the plan still has room (carbon breaking the
ties), books it against the plan, and is the base of the rounded oracle
(:class:`~greendispatch.opt.oracle.OraclePolicy`) and of mpc; :func:`plan_array` turns an LP
:class:`~greendispatch.opt.model.Plan` into the dense array it follows, and :func:`_per_slot`
spreads a time block's energies over its slots.
"""

from __future__ import annotations

import numpy as np

from greendispatch.dispatch.base import JobView, SlotView, marginal_carbon, sliding_sums
from greendispatch.opt.model import Plan


class PlanFollower:
    """A dispatch policy that follows a plan of devices per group, hub and slot.

    ``remaining[g, h, t]`` starts as the plan and loses each booking. A candidate's score is
    the device-slots it would run beyond the plan's room (in slots of the job), plus its
    marginal carbon scaled below one slot: the plan decides, carbon breaks ties.
    """

    name = "plan"

    def __init__(
        self, member: np.ndarray, remaining: np.ndarray, devices: np.ndarray, offset: int = 0
    ):
        self.member = member  # group of each job (-1: none)
        self.remaining = remaining
        self.devices = devices
        self.offset = offset  # slot of remaining[..., 0]

    def _room(self, job: JobView, slot: SlotView, width: int) -> np.ndarray:
        """Per hub and slot of the view: the fraction of the job's devices the plan covers."""
        g = int(self.member[job.index])
        a = slot.t - self.offset
        room = np.zeros((len(job.allowed), width))  # no plan yet (mpc's first cycle unsolved)
        if g >= 0 and a < self.remaining.shape[2]:
            part = self.remaining[g, :, max(a, 0) : a + width]
            room[:, : part.shape[1]] = part
        return np.clip(room / float(self.devices[job.index]), 0.0, 1.0)

    def _carbon(self, job: JobView, slot: SlotView) -> np.ndarray:
        """Per hub and slot of the view: what running there costs the job, for the ties."""
        return marginal_carbon(job, slot)

    def slot_scores(self, job: JobView, slot: SlotView) -> np.ndarray:
        c = self._carbon(job, slot)
        top = float(np.abs(c).max()) or 1.0
        return (1.0 - self._room(job, slot, slot.width)) + 0.5 * c / top / max(job.d, 1)

    def scores(self, job: JobView, slot: SlotView) -> np.ndarray:
        return sliding_sums(self.slot_scores(job, slot), job.d, job.L)

    def booked(self, j: int, h: int, slots: np.ndarray | slice) -> None:
        g = int(self.member[j])
        if g < 0:
            return
        if isinstance(slots, slice):
            idx = np.arange(slots.start, slots.stop) - self.offset
        else:
            idx = np.asarray(slots) - self.offset
        idx = idx[(idx >= 0) & (idx < self.remaining.shape[2])]
        self.remaining[g, h, idx] -= self.devices[j]


def plan_array(plan: Plan, n_groups: int, n_hubs: int, n_slots: int, block: int = 1):
    """The plan's devices as a dense (G, H, T) array (a block's mean in each of its slots)."""
    nb = -(-n_slots // block)
    out = np.zeros((n_groups, n_hubs, nb), dtype=np.float32)
    g, h, t, x = plan.run
    out[g, h, t] = x
    return np.repeat(out, block, axis=2)[:, :, :n_slots] if block > 1 else out


def _per_slot(a: np.ndarray, block: int, n_slots: int) -> np.ndarray:
    """Per-block energies (H, nb) spread evenly over their slots (H, T)."""
    return np.repeat(a / block, block, axis=1)[:, :n_slots] if block > 1 else a
