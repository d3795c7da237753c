"""The Policy protocol: one verb, ``scores``. The engine does masking, capacity and booking.

Each scheduling cycle (one slot) works on a frozen snapshot of forecasts (:class:`SlotView`);
for each arriving job (:class:`JobView`) a policy scores every (hub, start offset) candidate;
lower is better and ``inf`` means "not a candidate". The engine admits the best candidate that
has capacity, books it (a reservation of future capacity) and moves to the next job.
Policies that can split interruptible work also give per-slot scores (:class:`SlotScorer`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass
class SlotView:
    """Forecasts issued at slot ``t`` for slots ``t .. t+W-1``, shape (H, W); never actuals
    beyond ``t`` unless the forecast is ``perfect``.

    ``surplus_it_mw`` is forecast green supply (own wind + solar + contracted) minus the facility
    load already booked, in MW of IT load it can carry (divided by PUE); the engine lowers it as
    it books jobs in this cycle.
    """

    t: int
    dt_h: float
    ci: np.ndarray
    pue: np.ndarray
    price_source: np.ndarray | Callable[[], np.ndarray]
    green_mw: np.ndarray
    surplus_it_mw: np.ndarray
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def price(self) -> np.ndarray:
        """Forecast price per MWh, (H, W); forecast on first use (most policies never ask)."""
        if "price" not in self._cache:
            src = self.price_source
            self._cache["price"] = src() if callable(src) else src
        return self._cache["price"]

    @property
    def width(self) -> int:
        return self.ci.shape[1]

    @property
    def ci_pue(self) -> np.ndarray:
        """Forecast g CO2 per kWh of IT energy (intensity x PUE), (H, W)."""
        if "ci_pue_slot" not in self._cache:
            self._cache["ci_pue_slot"] = self.ci * self.pue
        return self._cache["ci_pue_slot"]

    def trim(self, width: int) -> SlotView:
        """The first ``width`` slots of this view (numpy views: bookings made through the full
        view are seen here). Cached sums are shared: prefixes of prefix sums stay valid."""
        if width >= self.width:
            return self
        # Built without __init__: this runs once per job, on the hot path.
        out = object.__new__(SlotView)
        out.__dict__.update(
            t=self.t,
            dt_h=self.dt_h,
            ci=self.ci[:, :width],
            pue=self.pue[:, :width],
            price_source=lambda: self.price[:, :width],
            green_mw=self.green_mw[:, :width],
            surplus_it_mw=self.surplus_it_mw[:, :width],
            _cache={"ci_pue_slot": self.ci_pue[:, :width]},
            _parent=self,
        )
        return out

    def cumsum(self, name: str) -> np.ndarray:
        """Cumulative sums with a leading 0 (H, W+1) of ``ci_pue`` or ``price_pue`` per MW."""
        parent = getattr(self, "_parent", None)
        if parent is not None:
            return parent.cumsum(name)[:, : self.width + 1]
        if name not in self._cache:
            base = {"ci_pue": self.ci, "price_pue": self.price}[name] * self.pue
            cs = np.zeros((base.shape[0], base.shape[1] + 1))
            np.cumsum(base, axis=1, out=cs[:, 1:])
            self._cache[name] = cs
        return self._cache[name]


@dataclass(slots=True)
class JobView:
    """One job as a policy sees it, relative to the cycle's slot ``t``.

    ``d`` slots to run; start offsets ``l`` in ``0 .. L-1`` (start slot ``t + l``) finish by the
    deadline; ``es[h]`` is the earliest offset at hub ``h`` (data transfer); ``allowed`` the hubs
    it may use (residency, device type, latency, capacity); ``rank`` the hubs' latency rank from
    the job's origin (0 = nearest, its home hub); ``marginal_mw`` the extra IT power (MW) it adds
    at each hub (devices x kW x (1 - idle share)); ``full_mw`` its full IT draw.
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

    @property
    def all_allowed(self) -> bool:
        return bool(self.allowed.all())


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
