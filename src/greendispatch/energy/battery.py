"""Batteries of the hubs: :class:`BatteryParams` holds each hub's usable energy (MWh), power
limit (MW), round-trip efficiency and state-of-charge limits as validated (H,) arrays, with the
charge and discharge efficiency ``sqrt(rte)`` each; the rule that runs them is in
:mod:`greendispatch.energy.supply`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from greendispatch.domain.model import EnergyAssets
from greendispatch.errors import ModelError


def _vector(name: str, value: ArrayLike, n: int | None) -> np.ndarray:
    """A finite float64 copy of ``value`` as shape (n,) (scalars are broadcast), read-only."""
    a = np.array(value, dtype=np.float64)
    if a.ndim == 0 and n is not None:
        a = np.full(n, float(a))
    if a.ndim != 1 or (n is not None and a.shape[0] != n):
        want = "(H,)" if n is None else f"({n},) or a scalar"
        raise ModelError(f"{name} must have shape {want}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ModelError(f"{name} must be finite, got {a}")
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class BatteryParams:
    """Batteries of H hubs; a hub without one has ``e_mwh`` or ``p_mw`` 0.

    Each field is array_like of shape (H,) (the fractions also take a scalar): ``e_mwh`` usable
    energy capacity (MWh), ``p_mw`` charge and discharge power limit (MW), ``rte`` round-trip
    efficiency in (0, 1], ``soc0_frac`` initial state of charge, ``min_soc_frac`` lowest state
    of charge, ``soc0_green_frac`` green share of the initial energy (fractions of ``e_mwh``
    or of the stored energy, in [0, 1], with ``min_soc_frac <= soc0_frac``).

    A battery starts at its lowest state of charge (``soc0_frac`` None, the default: empty
    unless ``min_soc_frac`` says otherwise). Energy stored before the horizon came from no
    source the run accounts for: discharged, it would displace grid import at zero carbon
    (half-full batteries gave ``green-first`` a third of its saving on a day of
    ``china-hubs``), so a higher start is for tests and what-ifs only.
    """

    e_mwh: np.ndarray
    p_mw: np.ndarray
    rte: np.ndarray
    soc0_frac: np.ndarray | float | None = None
    min_soc_frac: np.ndarray | float = 0.0
    soc0_green_frac: np.ndarray | float = 0.0

    def __post_init__(self) -> None:
        n = _vector("battery e_mwh", self.e_mwh, None).shape[0]
        if self.soc0_frac is None:  # start at the lowest state of charge
            object.__setattr__(self, "soc0_frac", self.min_soc_frac)
        for name in ("e_mwh", "p_mw", "rte", "soc0_frac", "min_soc_frac", "soc0_green_frac"):
            object.__setattr__(self, name, _vector(f"battery {name}", getattr(self, name), n))
        rte, soc0, lo, green = self.rte, self.soc0_frac, self.min_soc_frac, self.soc0_green_frac
        for rule, bad in (
            ("e_mwh >= 0", self.e_mwh < 0.0),
            ("p_mw >= 0", self.p_mw < 0.0),
            ("0 < rte <= 1", (rte <= 0.0) | (rte > 1.0)),
            ("0 <= min_soc_frac <= soc0_frac <= 1", (lo < 0.0) | (lo > soc0) | (soc0 > 1.0)),
            ("0 <= soc0_green_frac <= 1", (green < 0.0) | (green > 1.0)),
        ):
            if bad.any():
                raise ModelError(f"battery needs {rule} (fails for hubs {np.flatnonzero(bad)})")

    @classmethod
    def from_assets(
        cls,
        assets: Sequence[EnergyAssets],
        *,
        soc0_frac: float | None = None,
        min_soc_frac: float = 0.0,
    ) -> BatteryParams:
        """The batteries of hubs' :class:`EnergyAssets`, in the given order, starting at their
        lowest state of charge unless ``soc0_frac`` is given."""
        e, p, rte = ([getattr(a, f"battery_{k}") for a in assets] for k in ("mwh", "mw", "rte"))
        return cls(np.array(e), np.array(p), np.array(rte), soc0_frac, min_soc_frac)

    @property
    def n_hubs(self) -> int:
        return int(self.e_mwh.shape[0])

    @property
    def eta(self) -> np.ndarray:
        """Charge efficiency = discharge efficiency = sqrt(rte), shape (H,)."""
        return np.sqrt(self.rte)

    @property
    def soc0_mwh(self) -> np.ndarray:
        return self.soc0_frac * self.e_mwh

    @property
    def min_soc_mwh(self) -> np.ndarray:
        return self.min_soc_frac * self.e_mwh
