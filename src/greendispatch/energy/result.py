"""What :func:`~greendispatch.energy.supply.serve_load` returns: :class:`SupplyResult`, how each
hub's load was served slot by slot (own used, battery charge and discharge with its green part,
contracted, grid, curtailed, state of charge), its green energy and battery losses, and
:meth:`SupplyResult.check_balance`, which raises unless energy and storage balance everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from greendispatch.energy.battery import BatteryParams
from greendispatch.errors import ModelError


@dataclass(frozen=True, eq=False)
class SupplyResult:
    """How each hub's load was served, per slot; every array is (H, T) in MWh per slot.

    ``charge_mwh`` is taken into the battery (from own surplus, or from the grid: then it is also
    in ``grid_charge_mwh``); ``discharge_mwh`` is delivered to load, of which
    ``discharge_green_mwh`` is green; ``grid_mwh`` is grid import serving load (grid charging is
    extra import); ``soc_mwh`` / ``soc_green_mwh`` are the stored energy / its green part at the
    end of each slot. The inputs are kept as given (not copied).
    """

    load_mwh: np.ndarray
    wind_avail_mwh: np.ndarray
    solar_avail_mwh: np.ndarray
    contracted_avail_mwh: np.ndarray
    own_used_mwh: np.ndarray
    charge_mwh: np.ndarray
    discharge_mwh: np.ndarray
    discharge_green_mwh: np.ndarray
    contracted_used_mwh: np.ndarray
    grid_mwh: np.ndarray
    grid_charge_mwh: np.ndarray
    curtailed_mwh: np.ndarray
    soc_mwh: np.ndarray
    soc_green_mwh: np.ndarray
    battery: BatteryParams
    dt_h: float

    @property
    def green_mwh(self) -> np.ndarray:
        """Green energy serving load: own used + green part of discharge + contracted used."""
        return self.own_used_mwh + self.discharge_green_mwh + self.contracted_used_mwh

    @property
    def loss_mwh(self) -> np.ndarray:
        """Battery conversion losses: charge * (1 - eta) + discharge * (1 / eta - 1)."""
        eta = self.battery.eta[:, None]
        return self.charge_mwh * (1.0 - eta) + self.discharge_mwh * (1.0 / eta - 1.0)

    def check_balance(self, rtol: float = 1e-9) -> None:
        """Raise :class:`ModelError` unless energy and storage balance in every hub and slot,
        flows are >= 0, 0 <= soc within limits, and no slot both charges and discharges."""
        b, eta, e = self.battery, self.battery.eta[:, None], self.battery.e_mwh[:, None]
        served = self.own_used_mwh + self.discharge_mwh + self.contracted_used_mwh + self.grid_mwh
        split = self.own_used_mwh + self.charge_mwh - self.grid_charge_mwh + self.curtailed_mwh
        prev = _prev(b.soc0_mwh, self.soc_mwh)
        inflow, outflow = self.charge_mwh * eta, self.discharge_mwh / eta
        scale = np.maximum(np.maximum(prev, e), np.maximum(inflow, outflow))
        own, c, d = self.wind_avail_mwh + self.solar_avail_mwh, self.charge_mwh, self.discharge_mwh
        checks = {
            "energy balance (own + discharge + contracted + grid = load)": _off(
                served, self.load_mwh, rtol, np.maximum(served, self.load_mwh)
            ),
            "own supply (used + charged + curtailed = wind + solar)": _off(
                split, own, rtol, np.maximum(np.maximum(split, own), c)
            ),
            "storage balance (soc[t] = soc[t-1] + charge*eta - discharge/eta)": _off(
                self.soc_mwh, prev + inflow - outflow, rtol, scale
            ),
            "grid_charge <= charge": self.grid_charge_mwh > c,
            "discharge_green <= discharge": self.discharge_green_mwh > d,
            "contracted_used <= available": self.contracted_used_mwh > self.contracted_avail_mwh,
            "soc <= e_mwh": self.soc_mwh > e * (1.0 + rtol),
            "soc >= min_soc": self.soc_mwh < b.min_soc_mwh[:, None] - rtol * e,
            "no charge and discharge in one slot": (c > 0.0) & (d > 0.0),
        }
        for f in fields(self):
            if f.name.endswith("_mwh"):
                checks[f"{f.name} >= 0"] = getattr(self, f.name) < 0.0
        for name, bad in checks.items():
            if bad.any():
                h, t = (int(i) for i in np.argwhere(bad)[0])
                raise ModelError(f"{name} fails at hub {h}, slot {t} ({bad.sum()} slots in all)")


def _off(got: np.ndarray, want: np.ndarray, rtol: float, scale: np.ndarray) -> np.ndarray:
    """Where ``got`` and ``want`` differ by more than ``rtol`` x ``scale``, ignoring subnormal
    round-off (1e-300 MWh)."""
    return np.abs(got - want) > rtol * scale + 1e-300


def _prev(first: np.ndarray, a: np.ndarray) -> np.ndarray:
    """The value before each slot: ``first`` (H,), then ``a`` (H, T) shifted by one slot."""
    return np.concatenate([first[:, None], a[:, :-1]], axis=1)
