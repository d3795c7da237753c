"""The energy side of the dispatch LPs, per hub and slot: its inputs (:class:`EnergyInputs`,
from the signals with :func:`energy_inputs`, cut to a window with :func:`slice_energy`), its
columns and rows (:func:`add_energy`: own wind and solar, contracted green, grid and the
batteries, balanced against a facility load), and the flows read back from a solution
(:func:`energy_flows`, :func:`grid_carbon_t`); :func:`battery_plan` runs the batteries alone on
the background load. The dispatch LP (:mod:`greendispatch.opt.model`), the presence LP and the
MILP share it.

Units: MWh per slot, g/kWh (= kg/MWh); the carbon objective is tonnes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from greendispatch.energy.supply import BatteryParams
from greendispatch.opt.lp import LinearProgram, LPSolution
from greendispatch.sim.network import NetworkArrays


@dataclass(frozen=True)
class EnergyInputs:
    """Per hub and slot (H, T): intensity g/kWh, PUE, price per MWh, own wind + solar and
    contracted green available (MWh per slot); per hub and pool kind, capacity (H, K, T) and
    MW per busy device; background IT load (MW) already booked; the batteries."""

    ci: np.ndarray
    pue: np.ndarray
    price: np.ndarray
    own_mwh: np.ndarray
    contracted_mwh: np.ndarray
    cap: np.ndarray
    mw_per_device: np.ndarray
    base_it_mw: np.ndarray
    battery: BatteryParams
    dt_h: float
    contract_price: np.ndarray  # (H,) per MWh
    soc0_mwh: np.ndarray | None = None  # (H,), default the battery's own (its floor: empty)
    free_soc0: bool = False  # the first state of charge is the LP's to choose (a relaxation)

    @property
    def shape(self) -> tuple[int, int]:
        return self.ci.shape


def energy_inputs(signals, net: NetworkArrays, battery: BatteryParams | None = None):
    """Actuals for the whole horizon (the oracle's perfect foresight)."""
    dt = signals.grid.dt_h
    n_t = signals.grid.n_slots
    return EnergyInputs(
        ci=signals.ci_g_per_kwh,
        pue=signals.pue,
        price=signals.price_per_mwh,
        own_mwh=(signals.wind_pu * net.wind_mw[:, None] + signals.solar_pu * net.solar_mw[:, None])
        * dt,
        contracted_mwh=np.broadcast_to(net.contracted_mw[:, None] * dt, (net.n_hubs, n_t)),
        cap=np.broadcast_to(net.cap[:, :, None], (*net.cap.shape, n_t)),
        mw_per_device=net.kw * (1.0 - net.idle) / 1000.0,
        base_it_mw=np.broadcast_to(net.idle_it_mw()[:, None], (net.n_hubs, n_t)),
        battery=battery if battery is not None else BatteryParams.from_assets(net.assets),
        dt_h=dt,
        contract_price=signals.price_per_mwh.mean(axis=1),
    )


def slice_energy(e: EnergyInputs, a: int, b: int) -> EnergyInputs:
    """The inputs of slots ``a .. b-1``; after the first slot the batteries start from a state
    of charge the LP picks (a relaxation: the segments' bounds add up to a bound)."""
    cut = slice(a, b)
    return dataclasses.replace(
        e,
        ci=e.ci[:, cut],
        pue=e.pue[:, cut],
        price=e.price[:, cut],
        own_mwh=e.own_mwh[:, cut],
        contracted_mwh=np.asarray(e.contracted_mwh)[:, cut],
        cap=np.asarray(e.cap)[:, :, cut],
        base_it_mw=np.asarray(e.base_it_mw)[:, cut],
        free_soc0=e.free_soc0 or a > 0,
    )


def add_energy(
    lp: LinearProgram,
    e: EnergyInputs,
    load: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    objective: str = "carbon",
    carbon_weight: float = 1.0,
    grid_charge: bool = False,
    energy_cost: bool = True,
) -> np.ndarray:
    """The energy side, per hub and slot: columns ``own``, ``contracted``, ``grid`` and the
    batteries' ``charge``, ``discharge``, ``soc`` (``grid_charge`` too if allowed); rows
    ``balance`` (supply = the background load + ``load``), ``own_supply``, ``storage``.
    ``load``: (hub-slot index h * T + t, column, facility MWh per unit of the column), one
    entry per nonzero. Returns the hubs with a battery."""
    n_h, n_t = e.shape
    slots = np.arange(n_t)
    load_rows, load_cols, load_mwh = load
    dt = e.dt_h
    hs = n_h * n_t
    grid_cost, con_cost = _costs(e, objective, carbon_weight)
    if not energy_cost:
        grid_cost, con_cost = 0.0, 0.0
    own = lp.add_cols("own", hs, 0.0, e.own_mwh.ravel())
    con = lp.add_cols("contracted", hs, 0.0, np.asarray(e.contracted_mwh).ravel(), con_cost)
    grid = lp.add_cols("grid", hs, 0.0, np.inf, grid_cost)
    hub_slot = np.arange(hs)
    b_rows = [hub_slot, hub_slot, hub_slot, load_rows]
    b_cols = [own, con, grid, load_cols]
    b_vals = [np.ones(hs), np.ones(hs), np.ones(hs), -np.asarray(load_mwh, dtype=np.float64)]

    bat = e.battery
    has_bat = np.flatnonzero((bat.e_mwh > 0) & (bat.p_mw > 0))
    nb = len(has_bat) * n_t
    if nb:
        bh = np.repeat(has_bat, n_t)
        bt = np.tile(slots, len(has_bat))
        p_slot = bat.p_mw[bh] * dt
        eta = bat.eta[bh]
        charge = lp.add_cols("charge", nb, 0.0, p_slot)
        discharge = lp.add_cols("discharge", nb, 0.0, p_slot)
        soc = lp.add_cols("soc", nb, bat.min_soc_mwh[bh], bat.e_mwh[bh])
        b_rows.append(bh * n_t + bt)
        b_cols.append(discharge)
        b_vals.append(np.ones(nb))
        soc0 = e.soc0_mwh if e.soc0_mwh is not None else bat.soc0_mwh
        first = bt == 0
        s_rows = np.concatenate([np.arange(nb), np.flatnonzero(~first), np.arange(nb),
                                 np.arange(nb)])  # fmt: skip
        s_cols = np.concatenate([soc, soc[np.flatnonzero(~first) - 1], charge, discharge])
        s_vals = np.concatenate([np.ones(nb), -np.ones(int((~first).sum())), -eta, 1.0 / eta])
        s_rhs = np.where(first, soc0[bh], 0.0)
        if e.free_soc0:  # the first slot starts from a state of charge the LP picks
            init = lp.add_cols("soc_start", len(has_bat), bat.min_soc_mwh[has_bat],
                               bat.e_mwh[has_bat])  # fmt: skip
            s_rows = np.concatenate([s_rows, np.flatnonzero(first)])
            s_cols = np.concatenate([s_cols, init])
            s_vals = np.concatenate([s_vals, -np.ones(len(has_bat))])
            s_rhs = np.zeros(nb)
        lp.add_rows("storage", nb, s_rows, s_cols, s_vals, s_rhs, s_rhs)
        own_avail = e.own_mwh.ravel()
        if grid_charge:
            # grid_in: the part of charge bought from the grid (carbon and cost of grid energy)
            gin_cost = np.broadcast_to(grid_cost, (hs,))[bh * n_t + bt]
            gin = lp.add_cols("grid_charge", nb, 0.0, p_slot, gin_cost)
            lp.add_rows("grid_charge_limit", nb, np.tile(np.arange(nb), 2),
                        np.concatenate([gin, charge]), np.concatenate([np.ones(nb), -np.ones(nb)]),
                        -np.inf, 0.0)  # fmt: skip
            o_rows = np.concatenate([hub_slot, bh * n_t + bt, bh * n_t + bt])
            o_cols = np.concatenate([own, charge, gin])
            o_vals = np.concatenate([np.ones(hs), np.ones(nb), -np.ones(nb)])
        else:
            o_rows = np.concatenate([hub_slot, bh * n_t + bt])
            o_cols = np.concatenate([own, charge])
            o_vals = np.ones(hs + nb)
        lp.add_rows("own_supply", hs, o_rows, o_cols, o_vals, -np.inf, own_avail)
    base = (e.pue * np.asarray(e.base_it_mw) * dt).ravel()
    lp.add_rows("balance", hs, np.concatenate(b_rows), np.concatenate(b_cols),
                np.concatenate(b_vals), base, base)  # fmt: skip
    return has_bat


def _costs(e: EnergyInputs, objective: str, carbon_weight: float):
    """Objective coefficients per MWh of grid and of contracted energy, per hub-slot."""
    n_t = e.shape[1]
    ci_t = e.ci.ravel() / 1000.0  # t CO2 per MWh
    if objective == "carbon":
        return ci_t, 0.0
    price = e.price.ravel()
    cprice = np.repeat(e.contract_price, n_t)
    if objective == "cost":
        return price, cprice
    # weighted: each term over its mean per MWh, so the weight means what it says
    c_ref = float(np.abs(ci_t).mean()) or 1.0
    p_ref = float(np.abs(price).mean()) or 1.0
    w = carbon_weight
    return w * ci_t / c_ref + (1 - w) * price / p_ref, (1 - w) * cprice / p_ref


def energy_flows(sol: LPSolution, battery_hubs: np.ndarray, e: EnergyInputs) -> dict:
    """The energy columns of :func:`add_energy` as (H, T) arrays of MWh (solver round-off
    below 0 cut): ``grid``, ``own``, ``contracted``, ``charge``, ``discharge``,
    ``grid_charge`` and ``soc`` (zero at hubs without a battery)."""
    n_h, n_t = e.shape
    out = {}
    for name in ("grid", "own", "contracted"):
        out[name] = np.maximum(sol.col(name).reshape(n_h, n_t), 0.0)
    nb = len(battery_hubs)
    for name in ("charge", "discharge", "grid_charge", "soc"):
        out[name] = np.zeros((n_h, n_t))
        if nb and name in sol.lp.cols:
            out[name][battery_hubs] = np.maximum(sol.col(name).reshape(nb, n_t), 0.0)
    return out


def battery_plan(
    e: EnergyInputs,
    *,
    objective: str = "carbon",
    carbon_weight: float = 1.0,
    grid_charge: bool = False,
) -> dict | None:
    """The batteries alone on the background load ``e.base_it_mw`` (no jobs to place): the
    optimum's :func:`energy_flows`, or None if the LP has none."""
    lp = LinearProgram()
    none = np.zeros(0, dtype=np.int64)
    hubs = add_energy(lp, e, (none, none, np.zeros(0)), objective=objective,
                      carbon_weight=carbon_weight, grid_charge=grid_charge)  # fmt: skip
    sol = lp.solve(method="simplex")
    return energy_flows(sol, hubs, e) if sol.optimal else None


def grid_carbon_t(flows: dict, e: EnergyInputs) -> float:
    """Location-based carbon of the grid energy taken (for load and for charging), t."""
    return float(((flows["grid"] + flows["grid_charge"]) * e.ci).sum() / 1000.0)
