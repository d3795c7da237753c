"""Supply stack of each hub, slot by slot: own wind and solar, battery, contracted green, grid.

Sign convention: load and supply are positive numbers; a battery's power is positive when it
discharges. Every per-slot quantity here is an ENERGY in MWh over one slot of ``dt_h`` hours
(power in MW x ``dt_h``). Arrays are shaped (H, T): hubs x slots.

The rule (issue #3), per hub and slot:

1. own wind + solar serve the load first;
2. their surplus charges the battery within its limits; the rest is curtailed;
3. if load remains that contracted green cannot cover and the grid intensity is strictly above
   the hub's threshold, the battery discharges into it within its limits, else it holds (stored
   energy never displaces contracted green that is there to take: that would leave the contract
   untaken and the battery emptier for a dirty hour, saving nothing);
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
its slot. Batteries start at their lowest state of charge (empty) unless told otherwise, so in a
run there is no initial energy to discharge.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

# Moved to their own modules; imported here so that they stay importable from this one.
from greendispatch.energy.battery import BatteryParams, _vector
from greendispatch.energy.result import SupplyResult, _prev
from greendispatch.energy.result import _off as _off
from greendispatch.energy.scan import Maps as Maps
from greendispatch.energy.scan import _linear_path, _soc_path
from greendispatch.energy.scan import _scan as _scan
from greendispatch.errors import ModelError


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
    dis_want = np.minimum(np.maximum(residual - contracted, 0.0), p_slot)  # MWh out
    ask = (dis_want > 0.0) & (ci > thr)
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
