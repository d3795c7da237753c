"""The dispatch LP in three steps (after PyPSA): :func:`build`, solve, :func:`extract`.

Columns (each block one vectorised call):

- ``run[g,h,t]``: devices of work group g running at hub h in slot t (>= 0, at most the group's
  open devices and the pool);
- ``stock[g,t]``: the group's released, unfinished work at the end of slot t, within
  ``[0, released so far - due so far]`` (so each job's work is done inside its window);
- per hub and slot, MWh: ``own`` (own wind/solar used), ``contracted``, ``grid``; with a battery
  ``charge`` (from own surplus; from the grid too with ``grid_charge``), ``discharge``, ``soc``.

Rows: ``work`` (stock balance), ``rate`` (a group's devices per slot), ``capacity`` (devices per
hub, pool kind and slot), ``balance`` (own + discharge + contracted + grid = facility load),
``own_supply`` (own used + charged <= available), ``storage`` (state of charge), ``power``.

Units: devices, MWh per slot, g/kWh (= kg/MWh); the carbon objective is tonnes.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from greendispatch.energy.supply import BatteryParams
from greendispatch.errors import InputError, ModelError
from greendispatch.opt.classes import WorkGroups
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
    soc0_mwh: np.ndarray | None = None  # (H,), default the battery's own
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


def _hub_shares(lp: LinearProgram, groups: WorkGroups, run, run_at, n_t: int, drop_penalty):
    """Exact classes (one per group, identical jobs): each allowed hub gets a share of the
    class's work (``assign_work``); the work given to a hub runs there (``work``), at most at
    the devices of that share (share / d, ``rate_at_hub``): no job follows the clean hours from
    hub to hub. Work allowed past a rolling horizon may be ``leftover`` (at the group's
    ``leftover_cost``); with ``drop_penalty`` work may be ``drop``-ped."""
    g_i, h_i, _ = run_at
    sc = groups.scale
    n_h = groups.mask.shape[1]
    cls = job_classes(groups, n_t)
    if not np.allclose(cls.d_min, cls.d_max):
        raise ModelError("hub shares need classes of identical jobs (one duration each)")
    ac, ah = np.nonzero(groups.mask[cls.group])  # (class, hub) pairs, sorted by group
    acg = cls.group[ac]
    n_p = len(ac)
    aw = lp.add_cols("assign_work", n_p, 0.0, cls.work[ac] / sc[acg])
    rhs = cls.work / sc[cls.group]
    lp.add_rows("assign_work_sum", len(cls.group), ac, aw, 1.0, rhs, rhs)
    pairs = np.arange(n_p)
    pos = np.searchsorted(acg * n_h + ah, g_i * n_h + h_i)  # the pair of each run column
    n_r, ones_r = len(g_i), np.ones(len(g_i))
    rows, cols, vals = [pos, pairs], [run, aw], [ones_r, -np.ones(n_p)]
    frac = cls.due_frac[ac]
    if groups.leftover_cost is not None and np.any(frac < 1.0):
        lc = groups.leftover_cost
        per_pair = lc[acg, ah] if lc.ndim == 2 else lc[acg]  # per (group, hub) or per group
        left = lp.add_cols("leftover", n_p, 0.0, np.inf, per_pair * sc[acg])
        rows.append(pairs), cols.append(left), vals.append(np.ones(n_p))
        lp.add_rows("leftover_limit", n_p, np.tile(pairs, 2), np.concatenate([left, aw]),
                    np.concatenate([np.ones(n_p), frac - 1.0]), -np.inf, 0.0)  # fmt: skip
    drop_index = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    if drop_penalty is not None:
        rows.append(pairs)
        cols.append(lp.add_cols("drop", n_p, 0.0, np.inf, drop_penalty * sc[acg]))
        vals.append(np.ones(n_p))
        drop_index = (acg, np.maximum(cls.end[ac] - 1, 0))
    lp.add_rows("work", n_p, *(np.concatenate(x) for x in (rows, cols, vals)), 0.0, 0.0)
    per_slot = 1.0 / cls.d_max[ac]  # devices of a share: its work over the jobs' run length
    lp.add_rows("rate_at_hub", n_r, np.tile(np.arange(n_r), 2), np.concatenate([run, aw[pos]]),
                np.concatenate([ones_r, -per_slot[pos]]), -np.inf, 0.0)  # fmt: skip
    return drop_index


def _group_stock(lp: LinearProgram, groups: WorkGroups, run, run_at, span, drop_penalty):
    """Grouped jobs: one ``stock`` of released, unfinished work per group and slot, within
    ``[0, released so far - due so far]`` (``work`` balances it), so every job's work is done
    inside its window. A group's work may run at any of its hubs in any slot: looser than
    :func:`_hub_shares`, and far smaller."""
    g_i, t_i = run_at
    sc = groups.scale
    g_n, n_t = span.shape
    released = np.zeros((g_n, n_t))
    due = np.zeros((g_n, n_t))
    ok = (groups.member >= 0) & (groups.job_work > 0)
    m, w = groups.member[ok], groups.job_work[ok]
    np.add.at(released, (m, np.minimum(groups.job_release[ok], n_t - 1)), w)
    np.add.at(due, (m, groups.job_end[ok] - 1), w * groups.job_due_frac[ok])
    sg, st = np.nonzero(span)
    room = np.maximum(np.cumsum(released, axis=1) - np.cumsum(due, axis=1), 0.0)[sg, st]
    room[room < 1e-9 * sc[sg]] = 0.0
    stock_cost = 0.0
    if groups.leftover_cost is not None:
        lc = groups.leftover_cost
        lc = np.where(groups.mask, lc, np.inf).min(axis=1) if lc.ndim == 2 else lc
        stock_cost = np.where(st == groups.stop[sg] - 1, lc[sg] * sc[sg], 0.0)
    stock = lp.add_cols("stock", len(sg), 0.0, room / sc[sg], stock_cost)
    row_of = np.full((g_n, n_t), -1, dtype=np.int64)
    row_of[sg, st] = np.arange(len(sg))
    prev = row_of[sg, np.maximum(st - 1, 0)]
    chained = np.flatnonzero((st > groups.start[sg]) & (prev >= 0))
    rows = [np.arange(len(sg)), chained, row_of[g_i, t_i]]
    cols = [stock, stock[prev[chained]], run]
    vals = [np.ones(len(sg)), -np.ones(len(chained)), np.ones(len(g_i))]
    drop_index = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    if drop_penalty is not None:
        rows.append(np.arange(len(sg)))
        cols.append(lp.add_cols("drop", len(sg), 0.0, np.inf, drop_penalty * sc[sg]))
        vals.append(np.ones(len(sg)))
        drop_index = (sg, st)
    rhs = released[sg, st] / sc[sg]
    lp.add_rows("work", len(sg), *(np.concatenate(x) for x in (rows, cols, vals)), rhs, rhs)
    return drop_index


@dataclass(frozen=True)
class JobClasses:
    """A group's jobs with the same release and end slot: group, release, end (exclusive),
    work (device-slots), devices, shortest and longest run (slots), share of work due."""

    group: np.ndarray
    release: np.ndarray
    end: np.ndarray
    work: np.ndarray
    devices: np.ndarray
    d_min: np.ndarray
    d_max: np.ndarray
    due_frac: np.ndarray


def job_classes(groups: WorkGroups, n_slots: int) -> JobClasses:
    ok = (groups.member >= 0) & (groups.job_work > 0)
    g, rel, end = groups.member[ok], groups.job_release[ok], groups.job_end[ok]
    base = np.int64(n_slots + 1)
    uk, inv = np.unique((g * base + rel) * base + end, return_inverse=True)
    inv = inv.reshape(-1)
    work, dev = groups.job_work[ok], groups.job_devices[ok].astype(np.float64)
    run = work / np.maximum(dev, 1e-12)
    d_min = np.full(len(uk), np.inf)
    d_max = np.zeros(len(uk))
    np.minimum.at(d_min, inv, run)
    np.maximum.at(d_max, inv, run)
    total = np.bincount(inv, weights=work, minlength=len(uk))
    due = np.bincount(inv, weights=work * groups.job_due_frac[ok], minlength=len(uk))
    return JobClasses(
        group=uk // (base * base),
        release=(uk // base) % base,
        end=uk % base,
        work=total,
        devices=np.bincount(inv, weights=dev, minlength=len(uk)),
        d_min=d_min,
        d_max=d_max,
        due_frac=np.divide(due, total, out=np.ones(len(uk)), where=total > 0),
    )


@dataclass
class DispatchLP:
    lp: LinearProgram
    groups: WorkGroups
    run_index: tuple[np.ndarray, np.ndarray, np.ndarray]  # (g, h, t) of each run column
    battery_hubs: np.ndarray
    build_s: float
    objective: str
    drop_index: tuple[np.ndarray, np.ndarray]  # (g, t) of each drop column, if any
    # (h, k, t) of each capacity row, and the devices one unit of that row stands for
    capacity_index: tuple[np.ndarray, np.ndarray, np.ndarray]
    capacity_unit: np.ndarray


def build(
    groups: WorkGroups,
    e: EnergyInputs,
    *,
    objective: str = "carbon",
    carbon_weight: float = 1.0,
    grid_charge: bool = False,
    drop_penalty: float | None = None,
    energy_cost: bool = True,
) -> DispatchLP:
    """Assemble the LP (see the module docstring). ``objective``: ``carbon`` (tonnes),
    ``cost``, or ``weighted`` (``carbon_weight`` x carbon + the rest x cost, each normalised by
    its mean per MWh). With ``drop_penalty`` work may be dropped (columns ``drop[g,t]`` at that
    cost per device-slot); with ``energy_cost`` off only dropping costs: the diagnosis of an
    infeasible set of jobs. A group's ``leftover_cost`` prices work still in stock at the end
    of its span (work allowed to run after the horizon): per group, or per group and hub (the
    grouped stock, not tied to a hub, takes the lowest)."""
    t0 = time.perf_counter()
    if objective not in ("carbon", "cost", "weighted"):
        raise InputError(f"objective must be carbon, cost or weighted (got {objective!r})")
    lp = LinearProgram()
    n_t = e.shape[1]
    g_n = groups.n_groups
    slots = np.arange(n_t)

    # Columns in units of each group's mean devices (stock and its rows likewise), so that
    # a CPU group of thousands of cores and a GPU group of 8 are scaled alike for the solver.
    sc = groups.scale
    # --- run[g,h,t]: where the group has open devices, its hub is allowed and released.
    open_ = groups.rate > 0
    span = (slots[None, :] >= groups.start[:, None]) & (slots[None, :] < groups.stop[:, None])
    act = (
        groups.mask[:, :, None]
        & open_[:, None, :]
        & (slots[None, None, :] >= groups.first[:, :, None])
    )
    if groups.exact:  # a group without work (no devices, or outside a rolling horizon) runs none
        act &= np.isin(np.arange(g_n), groups.member[groups.job_work > 0])[:, None, None]
    g_i, h_i, t_i = np.nonzero(act)
    k_i = groups.pool[g_i]
    ub = np.minimum(groups.rate[g_i, t_i], e.cap[h_i, k_i, t_i])
    run = lp.add_cols("run", len(g_i), 0.0, ub / sc[g_i])

    if groups.exact:
        drop_index = _hub_shares(lp, groups, run, (g_i, h_i, t_i), n_t, drop_penalty)
    else:
        drop_index = _group_stock(lp, groups, run, (g_i, t_i), span, drop_penalty)

    # --- rate: a group's devices across hubs (one hub: its column bound already says it)
    multi = groups.mask.sum(axis=1) > 1
    sel = multi[g_i]
    key = g_i[sel] * n_t + t_i[sel]
    uk, r_rate = np.unique(key, return_inverse=True)
    lp.add_rows("rate", len(uk), r_rate.reshape(-1), run[sel], 1.0, -np.inf,
                groups.rate[uk // n_t, uk % n_t] / sc[uk // n_t])  # fmt: skip

    # --- capacity per hub, pool kind, slot, where the columns could exceed it; each row in
    # units of its pool kind's largest group scale
    n_k = e.cap.shape[1]
    ckey = (h_i * n_k + k_i) * n_t + t_i
    uc, r_cap = np.unique(ckey, return_inverse=True)
    r_cap = r_cap.reshape(-1)
    most = np.bincount(r_cap, weights=ub, minlength=len(uc))
    ch, ck, ct = uc // (n_k * n_t), (uc // n_t) % n_k, uc % n_t
    limit = e.cap[ch, ck, ct].astype(np.float64)
    binding = most > limit + 1e-9
    new_row = np.cumsum(binding) - 1
    keep = binding[r_cap]
    k_scale = np.ones(n_k)
    np.maximum.at(k_scale, groups.pool, sc)
    lp.add_rows("capacity", int(binding.sum()), new_row[r_cap[keep]], run[keep],
                sc[g_i[keep]] / k_scale[k_i[keep]], -np.inf,
                limit[binding] / k_scale[ck[binding]])  # fmt: skip

    # --- energy per hub-slot: the runs' facility load, pue x dt x MW per device
    run_coef = e.pue[h_i, t_i] * e.dt_h * e.mw_per_device[h_i, k_i] * sc[g_i]
    has_bat = add_energy(lp, e, (h_i * n_t + t_i, run, run_coef), objective=objective,
                         carbon_weight=carbon_weight, grid_charge=grid_charge,
                         energy_cost=energy_cost)  # fmt: skip
    cap_index = (ch[binding], ck[binding], ct[binding])
    return DispatchLP(lp, groups, (g_i, h_i, t_i), has_bat, time.perf_counter() - t0, objective,
                      drop_index, cap_index, k_scale[ck[binding]])  # fmt: skip


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


@dataclass(frozen=True)
class Plan:
    """An LP solution: devices per group, hub and slot (G, H, T) as sparse triplets, and per hub
    and slot the energy flows (MWh); ``carbon_t`` location-based over the horizon."""

    run: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # g, h, t, devices
    grid_mwh: np.ndarray
    own_mwh: np.ndarray
    contracted_mwh: np.ndarray
    charge_mwh: np.ndarray
    discharge_mwh: np.ndarray
    grid_charge_mwh: np.ndarray
    soc_mwh: np.ndarray
    capacity_price: np.ndarray  # (H, K, T): objective per device per slot of more capacity
    carbon_t: float
    objective: float
    solve_s: float


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
    e: EnergyInputs, *, objective: str = "carbon", carbon_weight: float = 1.0
) -> dict | None:
    """The batteries alone on the background load ``e.base_it_mw`` (no jobs to place): the
    optimum's :func:`energy_flows`, or None if the LP has none."""
    lp = LinearProgram()
    none = np.zeros(0, dtype=np.int64)
    hubs = add_energy(lp, e, (none, none, np.zeros(0)), objective=objective,
                      carbon_weight=carbon_weight)  # fmt: skip
    sol = lp.solve(method="simplex")
    return energy_flows(sol, hubs, e) if sol.optimal else None


def grid_carbon_t(flows: dict, e: EnergyInputs) -> float:
    """Location-based carbon of the grid energy taken (for load and for charging), t."""
    return float(((flows["grid"] + flows["grid_charge"]) * e.ci).sum() / 1000.0)


def extract(model: DispatchLP, sol: LPSolution, e: EnergyInputs) -> Plan:
    n_h, n_t = e.shape
    g_i, h_i, t_i = model.run_index
    x = sol.col("run") * model.groups.scale[g_i]
    keep = x > 1e-9
    flows = energy_flows(sol, model.battery_hubs, e)
    charge, discharge, gin, soc = (flows[k] for k in ("charge", "discharge", "grid_charge", "soc"))
    carbon = grid_carbon_t(flows, e)
    price = np.zeros((n_h, e.cap.shape[1], n_t), dtype=np.float32)
    ch, ck, ct = model.capacity_index
    price[ch, ck, ct] = np.abs(sol.dual("capacity")) / model.capacity_unit
    return Plan(
        run=(g_i[keep], h_i[keep], t_i[keep], x[keep]),
        grid_mwh=flows["grid"],
        own_mwh=flows["own"],
        contracted_mwh=flows["contracted"],
        charge_mwh=charge,
        discharge_mwh=discharge,
        grid_charge_mwh=gin,
        soc_mwh=soc,
        capacity_price=price,
        carbon_t=carbon,
        objective=sol.objective,
        solve_s=sol.solve_s,
    )


def coarsen(groups: WorkGroups, e: EnergyInputs, block: int) -> tuple[WorkGroups, EnergyInputs]:
    """The LP over blocks of ``block`` slots: a relaxation, so its optimum is still a lower
    bound. Work is released at the start of its slot's block and falls due at the end of its
    deadline's block; a run column is the mean devices over the block (capacity is the block's
    mean, a group's open devices its most); the block's grid carbon is priced at its cleanest
    slot and its PUE at its lowest; energy available is the block's sum; batteries may move
    ``block`` slots' power."""
    if block <= 1:
        return groups, e
    n_t = e.shape[1]
    nb = -(-n_t // block)
    pad = nb * block - n_t

    def blocks(a: np.ndarray, fill: float) -> np.ndarray:
        """(..., T) -> (..., nb, block), padded with ``fill``."""
        if pad:
            width = [(0, 0)] * (a.ndim - 1) + [(0, pad)]
            a = np.pad(np.asarray(a, dtype=np.float64), width, constant_values=fill)
        return np.asarray(a, dtype=np.float64).reshape(*a.shape[:-1], nb, block)

    g = WorkGroups(
        member=groups.member,
        pool=groups.pool,
        mask=groups.mask,
        first=np.where(groups.first >= n_t, nb, groups.first // block),
        start=groups.start // block,
        stop=-(-groups.stop // block),
        rate=blocks(groups.rate, 0.0).max(axis=-1),
        job_release=groups.job_release // block,
        job_end=-(-groups.job_end // block),
        job_work=groups.job_work / block,
        job_devices=groups.job_devices,
        job_due_frac=groups.job_due_frac,
        scale=groups.scale,
        exact=False,
        leftover_cost=groups.leftover_cost,
    )
    bat = e.battery
    coarse = EnergyInputs(
        ci=blocks(e.ci, np.inf).min(axis=-1),
        pue=blocks(e.pue, np.inf).min(axis=-1),
        price=blocks(e.price, np.inf).min(axis=-1),
        own_mwh=blocks(e.own_mwh, 0.0).sum(axis=-1),
        contracted_mwh=blocks(np.asarray(e.contracted_mwh), 0.0).sum(axis=-1),
        cap=blocks(np.asarray(e.cap), 0.0).sum(axis=-1) / block,
        mw_per_device=e.mw_per_device,
        base_it_mw=blocks(np.asarray(e.base_it_mw), 0.0).sum(axis=-1) / block,
        battery=bat,
        dt_h=e.dt_h * block,
        contract_price=e.contract_price,
        soc0_mwh=e.soc0_mwh,
    )
    return g, coarse
