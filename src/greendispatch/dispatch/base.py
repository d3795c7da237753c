"""The Policy protocol: one verb, ``scores``. The engine does masking, capacity and booking.

Each scheduling cycle (one slot) works on a frozen snapshot of forecasts (:class:`SlotView`);
for each arriving job (:class:`JobView`) a policy scores every (hub, start offset) candidate;
lower is better and ``inf`` means "not a candidate". The engine admits the best candidate that
has capacity, books it (a reservation of future capacity) and moves to the next job.
Policies that can split interruptible work also give per-slot scores (:class:`SlotScorer`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


class _Cycle:
    """The arrays of one scheduling cycle, (H, W) each, shared by all views of the cycle, and
    the series derived from them (computed on first use)."""

    __slots__ = ("ci", "derived", "green_mw", "price_source", "pue", "surplus_it_mw")

    def __init__(
        self,
        ci: np.ndarray,
        pue: np.ndarray,
        price_source: np.ndarray | Callable[[], np.ndarray],
        green_mw: np.ndarray,
        surplus_it_mw: np.ndarray,
        ci_pue: np.ndarray | None,
    ):
        self.ci, self.pue, self.price_source = ci, pue, price_source
        self.green_mw, self.surplus_it_mw = green_mw, surplus_it_mw
        self.derived: dict[str, np.ndarray] = {} if ci_pue is None else {"ci_pue": ci_pue}

    def price(self) -> np.ndarray:
        if "price" not in self.derived:
            src = self.price_source
            self.derived["price"] = src() if callable(src) else src
        return self.derived["price"]

    def ci_pue(self) -> np.ndarray:
        if "ci_pue" not in self.derived:
            self.derived["ci_pue"] = self.ci * self.pue
        return self.derived["ci_pue"]

    def cumsum(self, name: str) -> np.ndarray:
        key = f"cumsum {name}"
        if key not in self.derived:
            base = {"ci_pue": self.ci, "price_pue": self.price()}[name] * self.pue
            cs = np.zeros((base.shape[0], base.shape[1] + 1))
            np.cumsum(base, axis=1, out=cs[:, 1:])
            self.derived[key] = cs
        return self.derived[key]


class SlotView:
    """Forecasts issued at slot ``t`` for slots ``t .. t+W-1``, shape (H, W); never actuals
    beyond ``t`` unless the forecast is ``perfect``.

    ``surplus_it_mw`` is forecast green supply (own wind + solar + contracted) minus the facility
    load already booked, in MW of IT load it can carry (divided by PUE); the engine lowers it as
    it books jobs in this cycle. ``ci_pue`` may be given when the caller has it already.

    A view of the first slots (:meth:`trim`) shares the cycle's arrays: each series is sliced
    when asked for, so bookings made through any view are seen by all.
    """

    __slots__ = ("_cycle", "dt_h", "t", "width")

    def __init__(
        self,
        t: int,
        dt_h: float,
        ci: np.ndarray,
        pue: np.ndarray,
        price_source: np.ndarray | Callable[[], np.ndarray],
        green_mw: np.ndarray,
        surplus_it_mw: np.ndarray,
        ci_pue: np.ndarray | None = None,
    ):
        self.t = t
        self.dt_h = dt_h
        self.width: int = ci.shape[1]
        self._cycle = _Cycle(ci, pue, price_source, green_mw, surplus_it_mw, ci_pue)

    @property
    def ci(self) -> np.ndarray:
        return self._cycle.ci[:, : self.width]

    @property
    def pue(self) -> np.ndarray:
        return self._cycle.pue[:, : self.width]

    @property
    def green_mw(self) -> np.ndarray:
        return self._cycle.green_mw[:, : self.width]

    @property
    def surplus_it_mw(self) -> np.ndarray:
        return self._cycle.surplus_it_mw[:, : self.width]

    @property
    def price(self) -> np.ndarray:
        """Forecast price per MWh, (H, W); forecast on first use (most policies never ask)."""
        return self._cycle.price()[:, : self.width]

    @property
    def ci_pue(self) -> np.ndarray:
        """Forecast g CO2 per kWh of IT energy (intensity x PUE), (H, W)."""
        return self._cycle.ci_pue()[:, : self.width]

    def trim(self, width: int) -> SlotView:
        """The first ``width`` slots of this view (sharing its arrays and cached series)."""
        if width >= self.width:
            return self
        # Built without __init__: this runs once per job, on the hot path.
        out = object.__new__(SlotView)
        out.t, out.dt_h, out.width, out._cycle = self.t, self.dt_h, width, self._cycle
        return out

    def cumsum(self, name: str) -> np.ndarray:
        """Cumulative sums with a leading 0 (H, W+1) of ``ci_pue`` or ``price_pue`` per MW."""
        return self._cycle.cumsum(name)[:, : self.width + 1]


@dataclass(slots=True)
class JobView:
    """One job as a policy sees it, relative to the cycle's slot ``t``.

    ``d`` slots to run; start offsets ``l`` in ``0 .. L-1`` (start slot ``t + l``) finish by the
    deadline; ``es[h]`` is the earliest offset at hub ``h`` (data transfer); ``allowed`` the hubs
    it may use (residency, device type, latency, capacity); ``rank`` the hubs' latency rank from
    the job's origin (0 = nearest, its home hub); ``marginal_mw`` the extra IT power (MW) it adds
    at each hub (devices x kW x (1 - idle share)); ``full_mw`` its full IT draw.
    ``all_allowed`` says every hub is allowed and ``waits`` that some ``es`` is above 0 (flags
    the engine sets once, so that it need not scan the arrays for each candidate set).
    """

    index: int
    d: int
    L: int
    es: np.ndarray
    allowed: np.ndarray
    rank: np.ndarray
    home: int
    marginal_mw: np.ndarray
    full_mw: np.ndarray
    interruptible: bool
    all_allowed: bool
    waits: bool
    spare: float = 0.0  # the part of its last slot the work leaves idle, in slots (0 <= s < 1)
    last_room: float = 1.0  # the part of its window's last slot it may work and end in time


def window_sums(cs: np.ndarray, d: int, L: int) -> np.ndarray:
    """Sums over ``d`` consecutive slots for each start offset ``0..L-1``: (H, L), from
    cumulative sums with a leading 0."""
    return cs[:, d : d + L] - cs[:, :L]


def sliding_sums(x: np.ndarray, d: int, L: int) -> np.ndarray:
    """Sums of ``x`` (H, >= L+d-1) over ``d`` consecutive slots for each start ``0..L-1``.

    The first window is one vectorised sum; the others follow by adding the slot that enters
    and subtracting the one that leaves, so the sequential cumulative sum runs over ``L``
    values per row instead of the whole window (cumsum is the slow numpy reduction).
    """
    out = np.empty((x.shape[0], L))
    out[:, 0] = x[:, :d].sum(axis=1)
    if L > 1:
        np.cumsum(x[:, d : d + L - 1] - x[:, : L - 1], axis=1, out=out[:, 1:])
        out[:, 1:] += out[:, :1]
    return out


def marginal_carbon(job: JobView, slot: SlotView) -> np.ndarray:
    """Per hub and slot: the carbon rate of the job's extra load (kg/h = g/kWh x MW), grid
    intensity x PUE on the part of its extra IT power that the green surplus cannot cover.
    Scaled by the job's power at each hub, so hubs with different devices compare fairly."""
    return uncovered_carbon(job.marginal_mw, slot.surplus_it_mw, slot.ci_pue)


def uncovered_carbon(mw: np.ndarray, surplus_it_mw: np.ndarray, ci_pue: np.ndarray) -> np.ndarray:
    """Per hub and slot, kg/h: ``ci_pue`` on the part of an extra IT load of ``mw`` (H,) that
    the green surplus (H, W) does not cover; a new array."""
    uncovered = np.maximum(surplus_it_mw, 0.0)  # no surplus: nothing covered
    np.subtract(mw[:, None], uncovered, out=uncovered)
    np.maximum(uncovered, 0.0, out=uncovered)
    return np.multiply(ci_pue, uncovered, out=uncovered)


@runtime_checkable
class Policy(Protocol):
    """Scores each (hub, start offset) candidate of a job; lower is better, inf excluded.

    ``scores`` returns a new (H, L) array each call: the engine masks it in place.
    """

    name: str

    def scores(self, job: JobView, slot: SlotView) -> np.ndarray: ...


@runtime_checkable
class SlotScorer(Protocol):
    """A policy that may split interruptible jobs: the cost of running in each slot, (H, W)."""

    def slot_scores(self, job: JobView, slot: SlotView) -> np.ndarray: ...
