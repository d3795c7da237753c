"""The dispatch policies, chosen by name from :data:`POLICIES`.

- ``baseline``: carbon-agnostic; earliest start, then the hub nearest the job's origin.
- ``lowest-carbon``: spatial; earliest start, then the allowed hub with the lowest intensity now.
- ``wait-awhile``: temporal; the origin's nearest hub, in the forecast lowest-carbon window inside
  the slack (Wiesner et al., "Let's Wait Awhile", Middleware 2021); interruptible jobs take the
  lowest slots. Like ``baseline``, it moves to the next-nearest hub only when the nearer one has
  no capacity in the window.
- ``carbon-time``: temporal; the origin's nearest hub (next-nearest when full), starting when the
  forecast carbon saved per hour of waiting is highest, or now if waiting saves nothing (GAIA,
  Hanafy et al., ASPLOS 2024).
- ``cost``: the cheapest (hub, start) by forecast price.
- ``green-first``: spatio-temporal; the (hub, start) that minimises forecast *marginal* carbon,
  counting a hub's forecast green surplus (own wind/solar and contracted supply not used by the
  load already booked) as zero-carbon; ``carbon_weight`` < 1 trades carbon against cost, and
  ``wait_weight`` (default 2 % of a typical candidate's score per hour) keeps it from waiting for
  small savings.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from greendispatch.dispatch.base import (
    JobView,
    Policy,
    SlotView,
    marginal_carbon,
    sliding_sums,
    window_sums,
)
from greendispatch.errors import InputError

_EARLY = 1e-9  # tie-break: among equal scores prefer the earlier start


_OFFSETS = np.arange(1 << 16, dtype=np.float64)
_OFFSETS.flags.writeable = False


def _earliest(job: JobView) -> np.ndarray:
    """Start offsets 0..L-1 as a (1, L) row (a read-only view, no allocation)."""
    if len(_OFFSETS) >= job.L:
        return _OFFSETS[None, : job.L]
    return np.arange(job.L, dtype=np.float64)[None, :]


def _nearest_first(job: JobView, scores: np.ndarray) -> np.ndarray:
    """Order candidates by the hub's latency rank first, then by ``scores`` (a finite offset
    larger than any score separates the ranks)."""
    finite = scores[np.isfinite(scores)]
    span = float(np.abs(finite).max()) * 2 + 1 if finite.size else 1.0
    return scores + job.rank[:, None] * span


class Baseline:
    """Earliest start; among hubs free then, the one nearest the job's origin."""

    name = "baseline"

    def scores(self, job: JobView, slot: SlotView) -> np.ndarray:
        return _earliest(job) * 1e6 + job.rank[:, None]


class LowestCarbon:
    """Earliest start; among hubs free then, the lowest grid intensity now."""

    name = "lowest-carbon"

    def scores(self, job: JobView, slot: SlotView) -> np.ndarray:
        return _earliest(job) * 1e6 + slot.ci[:, :1]


class WaitAwhile:
    """Home hub; the lowest forecast carbon window (or slots, if interruptible) in the slack."""

    name = "wait-awhile"

    def scores(self, job: JobView, slot: SlotView) -> np.ndarray:
        c = window_sums(slot.cumsum("ci_pue"), job.d, job.L)
        return _nearest_first(job, c * (1 + _EARLY * _earliest(job)))

    def slot_scores(self, job: JobView, slot: SlotView) -> np.ndarray:
        return _nearest_first(job, slot.ci_pue)


class CarbonTime:
    """Home hub; maximise forecast carbon saved per hour of waiting (start now if none)."""

    name = "carbon-time"

    def scores(self, job: JobView, slot: SlotView) -> np.ndarray:
        c = window_sums(slot.cumsum("ci_pue"), job.d, job.L)
        first = np.clip(job.es, 0, job.L - 1)  # each hub's earliest start offset
        wait_h = (np.arange(job.L)[None, :] - first[:, None]) * slot.dt_h
        now = c[np.arange(c.shape[0]), first][:, None]
        saved_per_h = np.divide(now - c, wait_h, out=np.zeros_like(c), where=wait_h > 0)
        # The best ratio first; waiting that saves nothing ranks after starting now.
        score = np.where(saved_per_h > 0, -saved_per_h, _earliest(job) * 1e-6)
        return _nearest_first(job, score)


class Cost:
    """The cheapest (hub, start) by forecast price of the job's energy."""

    name = "cost"

    def scores(self, job: JobView, slot: SlotView) -> np.ndarray:
        p = window_sums(slot.cumsum("price_pue"), job.d, job.L) * job.full_mw[:, None]
        return p + np.abs(p) * _EARLY * _earliest(job) + _EARLY * _earliest(job)


class GreenFirst:
    """Minimise forecast marginal carbon over hubs and starts (green surplus counts as zero);
    with ``carbon_weight`` < 1, a weighted sum of normalised carbon and cost."""

    name = "green-first"

    def __init__(self, carbon_weight: float = 1.0, wait_weight: float = 0.02):
        if not 0.0 <= carbon_weight <= 1.0:
            raise InputError(f"--carbon-weight must be in [0, 1] (got {carbon_weight})")
        self.carbon_weight = carbon_weight
        self.wait_weight = wait_weight

    def slot_scores(self, job: JobView, slot: SlotView) -> np.ndarray:
        score = marginal_carbon(job, slot)
        w = self.carbon_weight
        if w < 1.0:
            cost = slot.price * slot.pue * job.full_mw[:, None]
            score = w * score / _ref(score) + (1 - w) * cost / _ref(cost)
        return score

    def scores(self, job: JobView, slot: SlotView) -> np.ndarray:
        c = sliding_sums(self.slot_scores(job, slot), job.d, job.L)
        # Penalty scale: the mean over hubs of the score of starting now.
        ref = abs(float(c[:, 0].sum())) / c.shape[0]
        c += ((self.wait_weight * ref + _EARLY) * slot.dt_h) * _earliest(job)
        return c


def _ref(x: np.ndarray) -> float:
    m = float(np.mean(np.abs(x)))
    return m if m > 0 else 1.0


POLICIES: dict[str, Callable[[float], Policy]] = {
    "baseline": lambda w: Baseline(),
    "lowest-carbon": lambda w: LowestCarbon(),
    "wait-awhile": lambda w: WaitAwhile(),
    "carbon-time": lambda w: CarbonTime(),
    "cost": lambda w: Cost(),
    "green-first": lambda w: GreenFirst(w),
    "mpc": lambda w: _mpc(w),
}


def _mpc(carbon_weight: float) -> Policy:
    from greendispatch.dispatch.mpc import MPC  # builds on the optimiser: imported on use

    return MPC(carbon_weight)


ORACLE = "oracle"  # the offline optimum: not an online policy, run by the simulator's runner


def policy_names(spec: str) -> list[str]:
    """``all`` (every online policy) or ``NAME[,NAME...]`` (``all`` may be one of them, and
    ``oracle`` adds the offline bound) -> names; unknown names raise InputError."""
    names: list[str] = []
    for s in (s.strip() for s in spec.split(",")):
        for name in list(POLICIES) if s == "all" else [s] if s else []:
            if name not in names:
                names.append(name)
    bad = [n for n in names if n not in POLICIES and n != ORACLE]
    if bad or not names:
        raise InputError(
            f"--policy: unknown policy {', '.join(repr(b) for b in bad) or repr(spec)} "
            f"(expected all or a comma-separated list of: {', '.join([*POLICIES, ORACLE])})"
        )
    return names


def make_policy(name: str, carbon_weight: float = 1.0) -> Policy:
    policy_names(name)
    if name == ORACLE:
        raise InputError("the oracle is solved by the runner (greendispatch.opt.oracle)")
    return POLICIES[name](carbon_weight)
