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

The energy side (``own``, ``contracted``, ``grid``, the batteries; rows ``balance``,
``own_supply``, ``storage``) is :func:`~greendispatch.opt.energy.add_energy`'s.

Units: devices, MWh per slot, g/kWh (= kg/MWh); the carbon objective is tonnes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from greendispatch.errors import InputError, ModelError
from greendispatch.opt.classes import WorkGroups
from greendispatch.opt.energy import (
    EnergyInputs,
    add_energy,
    energy_flows,
    grid_carbon_t,
)

# moved to opt/energy.py, still importable from here
from greendispatch.opt.energy import _costs as _costs
from greendispatch.opt.energy import battery_plan as battery_plan
from greendispatch.opt.energy import energy_inputs as energy_inputs
from greendispatch.opt.energy import slice_energy as slice_energy
from greendispatch.opt.lp import LinearProgram, LPSolution


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
