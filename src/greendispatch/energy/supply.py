"""Supply stack of each hub, slot by slot: own wind and solar, battery, contracted green, grid.

Sign convention: load and supply are positive numbers; a battery's power is positive when it
discharges. Every per-slot quantity here is an ENERGY in MWh over one slot of ``dt_h`` hours
(power in MW x ``dt_h``). Arrays are shaped (H, T): hubs x slots.

The rule (issue #3), per hub and slot:

1. own wind + solar serve the load first;
2. their surplus charges the battery within its limits; the rest is curtailed;
3. if load remains and the grid intensity is strictly above the hub's threshold, the battery
   discharges within its limits, else it holds;
4. contracted green supply serves what remains, up to what is available (the rest is not taken);
5. the grid serves the rest.

Optional grid charging: where the grid intensity is strictly below a second threshold and the
battery is not asked to discharge, the grid tops up the charging power that surplus left free.

Battery: charge and discharge efficiencies are each ``sqrt(rte)``. The power limit applies at the
terminals: at most ``p_mw * dt_h`` taken in, or delivered, per slot. State of charge (end of slot):
``soc[t] = soc[t-1] + charge * eta_c - discharge / eta_d`` within ``[min_soc_frac, 1] * e_mwh``.

Green tracking: the stored energy is one pool with a green share. Surplus charge is green, grid
charge is not, the initial energy is green in the share ``soc0_green_frac`` (0 by default: its
origin is unknown, so it is never claimed). A discharge carries the pool's share at the start of
its slot.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields

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


def _energy(name: str, value: ArrayLike, shape: tuple[int, ...] | None) -> np.ndarray:
    """``value`` as a float64 (H, T) array, finite and >= 0."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim != 2 or (shape is not None and a.shape != shape):
        raise ModelError(f"{name} must have shape {shape or '(H, T)'}, got {a.shape}")
    if a.size == 0:
        raise ModelError(f"{name} has no hubs or no slots (shape {a.shape})")
    if not (a.min() >= 0.0 and a.max() < np.inf):  # NaN fails both
        if np.isnan(a).any():
            raise ModelError(f"{name} contains NaN values")
        raise ModelError(f"{name} must be finite and >= 0 (min {a.min()}, max {a.max()})")
    return a


@dataclass(frozen=True, eq=False)
class BatteryParams:
    """Batteries of H hubs; a hub without one has ``e_mwh`` or ``p_mw`` 0.

    Each field is array_like of shape (H,) (the fractions also take a scalar): ``e_mwh`` usable
    energy capacity (MWh), ``p_mw`` charge and discharge power limit (MW), ``rte`` round-trip
    efficiency in (0, 1], ``soc0_frac`` initial state of charge, ``min_soc_frac`` lowest state
    of charge, ``soc0_green_frac`` green share of the initial energy (fractions of ``e_mwh``
    or of the stored energy, in [0, 1], with ``min_soc_frac <= soc0_frac``).
    """

    e_mwh: np.ndarray
    p_mw: np.ndarray
    rte: np.ndarray
    soc0_frac: np.ndarray | float = 0.5
    min_soc_frac: np.ndarray | float = 0.0
    soc0_green_frac: np.ndarray | float = 0.0

    def __post_init__(self) -> None:
        n = _vector("battery e_mwh", self.e_mwh, None).shape[0]
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
        cls, assets: Sequence[EnergyAssets], *, soc0_frac: float = 0.5, min_soc_frac: float = 0.0
    ) -> BatteryParams:
        """The batteries of hubs' :class:`EnergyAssets`, in the given order."""
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


Maps = tuple[np.ndarray, ...]


def _scan(
    s0: np.ndarray,
    inputs: Sequence[tuple[np.ndarray, float]],
    identity: Maps,
    step: Callable[..., Maps],
    apply: Callable[[Maps, np.ndarray], np.ndarray],
) -> np.ndarray:
    """``s[t] = f_t(s[t-1])`` over (H, T) for per-slot maps f_t from a family closed under
    composition: ``step(m, *inputs[t])`` composes slot t's map after ``m``, ``apply(m, s)``
    evaluates it; ``inputs`` are (array, padding value) pairs.

    The slots are cut into ~sqrt(T) blocks: the maps from each block's start are composed slot
    by slot in all blocks at once, the block starts are carried one block at a time, and the
    maps are applied to them: ~3 sqrt(T) vectorised steps instead of T. The value at the end of
    a block is exactly the next block's start.
    """
    n_hubs, n_slots = inputs[0][0].shape
    size = max(1, math.isqrt(n_slots))
    blocks = []
    for a, fill in inputs:  # (H, T) -> (size, H, n_blocks), padded at the end
        b = np.full((n_hubs, -(-n_slots // size) * size), fill)
        b[:, :n_slots] = a
        blocks.append(np.ascontiguousarray(b.reshape(n_hubs, -1, size).transpose(2, 0, 1)))

    def maps() -> Iterator[Maps]:
        m = tuple(np.broadcast_to(v, blocks[0].shape[1:]) for v in identity)
        for k in range(size):
            m = step(m, *(b[k] for b in blocks))
            yield m

    last, starts, s = deque(maps(), maxlen=1).pop(), [], s0
    for j in range(blocks[0].shape[2]):
        starts.append(s)
        s = apply(tuple(v[:, j] for v in last), s)
    s, out = np.stack(starts, axis=1), blocks[0]  # slot k of out is read before it is written
    for k, m in enumerate(maps()):
        out[k] = apply(m, s)
    return np.ascontiguousarray(out.transpose(1, 2, 0).reshape(n_hubs, -1)[:, :n_slots])


def _soc_path(soc0: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``soc[t] = min(max(soc[t-1] + x[t], lo), hi)``; these maps compose as
    ``min(max(s + X, L), U)``."""
    lo, hi = lo[:, None], hi[:, None]

    def step(m: Maps, xk: np.ndarray) -> Maps:
        return m[0] + xk, np.maximum(m[1] + xk, lo), np.minimum(np.maximum(m[2] + xk, lo), hi)

    def apply(m: Maps, s: np.ndarray) -> np.ndarray:
        return np.minimum(np.maximum(s + m[0], m[1]), m[2])

    return _scan(
        soc0, [(x, 0.0)], (np.array(0.0), np.array(-np.inf), np.array(np.inf)), step, apply
    )


def _linear_path(g0: np.ndarray, a: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``g[t] = g[t-1] * a[t] + c[t]``; these maps compose as ``s * A + C``."""

    def step(m: Maps, ak: np.ndarray, ck: np.ndarray) -> Maps:
        return m[0] * ak, m[1] * ak + ck

    def apply(m: Maps, s: np.ndarray) -> np.ndarray:
        return s * m[0] + m[1]

    return _scan(g0, [(a, 1.0), (c, 0.0)], (np.array(1.0), np.array(0.0)), step, apply)


def serve_load(
    load_mwh: ArrayLike,
    wind_avail_mwh: ArrayLike,
    solar_avail_mwh: ArrayLike,
    contracted_avail_mwh: ArrayLike,
    battery: BatteryParams,
    ci_g_per_kwh: ArrayLike,
    discharge_threshold_g_per_kwh: ArrayLike,
    *,
    dt_h: float = 1.0,
    grid_charge: bool = False,
    grid_charge_threshold_g_per_kwh: ArrayLike | None = None,
    schedule: tuple[ArrayLike, ArrayLike] | None = None,
) -> SupplyResult:
    """Serve each hub's load from its supply stack by the rule of the module docstring.

    Parameters
    ----------
    load_mwh, wind_avail_mwh, solar_avail_mwh, contracted_avail_mwh : array_like (H, T)
        Facility load and available own wind, own solar and contracted green energy, MWh per slot.
    battery : BatteryParams
        One battery per hub (capacity 0 for none).
    ci_g_per_kwh : array_like (H, T)
        Grid carbon intensity, gCO2/kWh.
    discharge_threshold_g_per_kwh : array_like (H,) or float
        The battery discharges only in slots where ``ci_g_per_kwh`` is above this, gCO2/kWh.
    dt_h : float
        Slot length, hours.
    grid_charge : bool
        Charge from the grid where ``ci_g_per_kwh < grid_charge_threshold_g_per_kwh`` (H,) or
        float, gCO2/kWh (required then, refused otherwise).
    schedule : (charge_mwh, discharge_mwh), each array_like (H, T), optional
        A battery plan (an optimiser's) that replaces the rule: the battery discharges up to
        the planned energy (at most the remaining load) and, in every other slot, stores the
        own surplus (with ``grid_charge`` the grid tops it up to the planned charge), within
        its limits; the threshold then plays no part. Storing all the surplus, not only the
        planned charge, costs nothing and leaves more for the planned discharges when the
        forecasts the plan was made on were wrong.
    """
    load = _energy("load_mwh", load_mwh, None)
    shape = load.shape
    wind = _energy("wind_avail_mwh", wind_avail_mwh, shape)
    solar = _energy("solar_avail_mwh", solar_avail_mwh, shape)
    contracted = _energy("contracted_avail_mwh", contracted_avail_mwh, shape)
    ci = _energy("ci_g_per_kwh", ci_g_per_kwh, shape)
    if not (math.isfinite(dt_h) and dt_h > 0.0):
        raise ModelError(f"dt_h must be a positive number of hours, got {dt_h}")
    n = shape[0]
    if battery.n_hubs != n:
        raise ModelError(f"battery has {battery.n_hubs} hubs, load_mwh has {n}")
    thr = _vector("discharge_threshold_g_per_kwh", discharge_threshold_g_per_kwh, n)[:, None]
    if grid_charge and grid_charge_threshold_g_per_kwh is None:
        raise ModelError("grid_charge needs grid_charge_threshold_g_per_kwh")
    if not grid_charge and grid_charge_threshold_g_per_kwh is not None:
        raise ModelError("grid_charge_threshold_g_per_kwh is given but grid_charge is off")

    # In-place steps below: every fresh (H, T) array costs page faults on a first call.
    surplus = wind + solar
    own_used = np.minimum(load, surplus)
    surplus -= own_used
    residual = load - own_used
    p_slot = (battery.p_mw * dt_h)[:, None]
    own_cap = np.minimum(surplus, p_slot)  # charge wanted from surplus, MWh in
    ask = (residual > 0.0) & (ci > thr)
    dis_want = np.minimum(residual, p_slot)  # MWh out
    dis_want[~ask] = 0.0
    charge_want = own_cap
    if schedule is not None:
        plan_in = _energy("schedule charge_mwh", schedule[0], shape)
        plan_out = _energy("schedule discharge_mwh", schedule[1], shape)
        # As the optimiser counts it: contracted green serves load before own generation is
        # stored, so own energy that contracted green frees may charge, and the battery
        # discharges only into load that neither covers.
        freed = np.minimum(own_used, np.maximum(contracted - residual, 0.0))
        own_cap = np.minimum(surplus + freed, p_slot)
        dis_want = np.minimum(np.minimum(np.maximum(residual - contracted, 0.0), p_slot), plan_out)
        ask = dis_want > 0.0
        # Own green that would be curtailed is stored whenever the plan does not discharge,
        # whatever the plan's charge: forecasts err, and more stored green only leaves the
        # plan's later discharges more to give (a re-plan starts from the state of charge).
        charge_want = own_cap.copy()
        if grid_charge:  # the grid tops up to the plan's charge
            np.maximum(charge_want, np.minimum(p_slot, plan_in), out=charge_want)
        charge_want[ask] = 0.0
    elif grid_charge:
        gthr = _vector("grid_charge_threshold_g_per_kwh", grid_charge_threshold_g_per_kwh, n)
        charge_want = np.where((ci < gthr[:, None]) & ~ask, p_slot, own_cap)

    eta = battery.eta[:, None]
    soc0, sg0 = battery.soc0_mwh, battery.soc0_mwh * battery.soc0_green_frac
    x = charge_want * eta  # stored energy wanted in (> 0) or out (< 0); hubs without a
    x -= dis_want / eta  # battery have p_mw 0 (x = 0) or e_mwh 0 (soc held at 0)
    soc = _soc_path(soc0, x, battery.min_soc_mwh, battery.e_mwh)
    prev = _prev(soc0, soc)
    delta = soc - prev
    charge = np.maximum(delta, 0.0)
    charge /= eta
    np.minimum(charge, charge_want, out=charge)
    discharge = np.maximum(-delta, 0.0)
    discharge *= eta
    np.minimum(discharge, dis_want, out=discharge)
    own_charge = np.minimum(charge, own_cap)
    if schedule is not None:  # the charge beyond the surplus came from own energy serving load
        taken = np.clip(own_charge - surplus, 0.0, own_used)  # <= freed, but for round-off
        own_used -= taken
        residual += taken
        surplus += taken
    # The green pool grows by green charge and shrinks in proportion in a discharge slot.
    shrink = np.divide(soc, prev, out=np.ones(shape), where=delta < 0.0)
    sg = np.clip(_linear_path(sg0, shrink, own_charge * eta), 0.0, soc)
    share = np.divide(_prev(sg0, sg), prev, out=np.zeros(shape), where=prev > 0.0)
    np.clip(share, 0.0, 1.0, out=share)
    rest = np.subtract(residual, discharge, out=residual)
    contracted_used = np.minimum(rest, contracted)
    return SupplyResult(
        load_mwh=load,
        wind_avail_mwh=wind,
        solar_avail_mwh=solar,
        contracted_avail_mwh=contracted,
        own_used_mwh=own_used,
        charge_mwh=charge,
        discharge_mwh=discharge,
        discharge_green_mwh=np.multiply(share, discharge, out=share),
        contracted_used_mwh=contracted_used,
        grid_mwh=np.subtract(rest, contracted_used, out=rest),
        grid_charge_mwh=charge - own_charge,
        curtailed_mwh=np.subtract(surplus, own_charge, out=surplus),
        soc_mwh=soc,
        soc_green_mwh=sg,
        battery=battery,
        dt_h=float(dt_h),
    )


def facility_load_mwh(it_mw: ArrayLike, pue: ArrayLike, dt_h: float) -> np.ndarray:
    """Facility energy per slot, MWh: IT power (MW) x PUE (dimensionless) x slot length (h)."""
    return np.asarray(it_mw, dtype=np.float64) * np.asarray(pue, dtype=np.float64) * dt_h


def default_discharge_threshold(ci_g_per_kwh: ArrayLike) -> np.ndarray:
    """Each hub's median grid intensity over the horizon, gCO2/kWh, shape (H,)."""
    return np.median(_energy("ci_g_per_kwh", ci_g_per_kwh, None), axis=1)
