"""Matching per hub-hour: each green bundle is shared among the beneficiaries that drew energy.

Beneficiaries are the tenants whose jobs ran at the hub, by their facility energy (job energy =
devices x kW per device x PUE x slot length, as :func:`greendispatch.sim.metrics.job_energy`),
and ``facility``: the rest of the hub's load (idle devices) and the grid energy its batteries
charged (whose carbon is the facility's, on both bases). Within each slot every beneficiary
gets the same mix of the green sources (own wind, own solar, battery green, contracted). By
default each gets green pro rata to its energy, so the totals equal the simulator's attribution.
With ``priority_tenants`` those tenants get green first, pro rata among them up to their energy,
and the others share the rest pro rata. Slot shares are summed into the UTC hour and floored to
whole Wh per (beneficiary, bundle); what no one was allocated stays active. Within a bundle's id
range the claims follow the part cancelled into storage, in beneficiary order (tenants in the
job table's order, then ``facility``).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from greendispatch.errors import InputError, ModelError, Problem
from greendispatch.ledger.certificates import (
    EPS_WH,
    SOURCES,
    WH_PER_MWH,
    hourly_intensity,
    to_hours,
)
from greendispatch.sim.engine import SimRun
from greendispatch.sim.results import idle_parts

FACILITY = "facility"
_TINY_MWH = 1e-9  # a facility remainder below this (1 mWh) is rounding noise, not load


def check_beneficiary(name: str, known: Sequence[str]) -> int:
    """The position of ``name`` among a ledger's beneficiaries ``known`` (its tenants, then
    ``facility``). When it is not one of them: InputError naming ``--tenant`` (where a name comes
    from), the beneficiaries and the closest of them, case-insensitive."""
    known = list(known)
    if name in known:
        return known.index(name)
    folded = {k.casefold(): k for k in known}
    close = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.6)
    hint = f"; did you mean '{folded[close[0]]}'?" if close else ""
    raise InputError(
        Problem(
            "--tenant",
            None,
            "",
            f"unknown beneficiary '{name}'{hint} (the ledger's tenants: {', '.join(known)})",
        )
    )


@dataclass(frozen=True, eq=False)
class Usage:
    """Energy per beneficiary row and slot, MWh.

    Rows are the (tenant, hub) pairs that ran jobs, then one ``facility`` row per hub. ``code``
    is the beneficiary (tenant index; ``n_tenants`` for facility); ``row_of[code, hub]`` is the
    row, -1 where that beneficiary drew nothing at that hub.
    """

    code: np.ndarray
    hub: np.ndarray
    energy_mwh: np.ndarray
    row_of: np.ndarray
    mw_per_job: np.ndarray  # (n_jobs,) MW of each placed job at its hub (0 unplaced)
    end_slot: np.ndarray  # (n_jobs,) one past each job's last slot (split jobs included)


def beneficiary_energy(run: SimRun) -> Usage:
    """Tenant energy per hub-slot from the devices working (difference arrays, no per-job loop
    for contiguous jobs; ``np.add.at`` for split ones and for the idle parts of slots after a
    job's work ends), and the facility remainder."""
    jobs, p, net, sig = run.jobs, run.placements, run.net, run.signals
    n_h, n_t = run.it_mw.shape
    n_k = net.kw.shape[1]
    n_ten = len(jobs.tenants)
    placed = np.flatnonzero(p.hub >= 0)
    hub, pool = p.hub[placed].astype(np.int64), jobs.pool[placed].astype(np.int64)
    keys, row = np.unique(jobs.tenant[placed].astype(np.int64) * n_h + hub, return_inverse=True)
    n_pairs = len(keys)
    is_split = np.zeros(len(jobs), dtype=bool)
    is_split[list(p.split_slots)] = True
    dev = np.zeros((n_pairs, n_k, n_t + 1))
    c = ~is_split[placed]
    devices = jobs.devices[placed].astype(np.int64)
    start = p.start[placed].astype(np.int64)
    np.add.at(dev, (row[c], pool[c], start[c]), devices[c])
    np.add.at(dev, (row[c], pool[c], start[c] + p.n_slots[placed][c]), -devices[c])
    dev = np.cumsum(dev[:, :, :n_t], axis=2)
    end_slot = (p.start + p.n_slots).astype(np.int64)
    if (~c).any():
        sl = [np.asarray(p.split_slots[j], dtype=np.int64) for j in placed[~c]]
        end_slot[placed[~c]] = [x.max() + 1 for x in sl]
        lens = np.array([len(s) for s in sl])
        np.add.at(
            dev,
            (np.repeat(row[~c], lens), np.repeat(pool[~c], lens), np.concatenate(sl)),
            np.repeat(devices[~c], lens),
        )
    # Less the parts of slots their devices stand idle after the work ends (the facility's).
    tail = idle_parts(jobs, p, sig.grid.dt_h)
    pos = np.searchsorted(placed, tail.job)
    np.subtract.at(dev, (row[pos], pool[pos], tail.slot), devices[pos] * tail.idle)
    pair_hub = keys % n_h
    it_mw = np.einsum("pkt,pk->pt", dev, net.kw[pair_hub] / 1000.0)
    energy = it_mw * sig.pue[pair_hub] * sig.grid.dt_h
    tenants_mwh = np.zeros((n_h, n_t))
    np.add.at(tenants_mwh, pair_hub, energy)
    facility = run.supply.load_mwh - tenants_mwh
    facility[facility < _TINY_MWH] = 0.0
    code = np.concatenate([keys // n_h, np.full(n_h, n_ten)])
    hubs = np.concatenate([pair_hub, np.arange(n_h)])
    row_of = np.full((n_ten + 1, n_h), -1, dtype=np.int64)
    row_of[code, hubs] = np.arange(len(code))
    mw = np.zeros(len(jobs))
    mw[placed] = devices * net.kw[hub, pool] / 1000.0
    return Usage(code, hubs, np.concatenate([energy, facility]), row_of, mw, end_slot)


@dataclass(frozen=True, eq=False)
class Allocation:
    """Green allocated to each beneficiary row.

    ``claims_wh``: (4, R, n_hours) int64 per source in :data:`SOURCES` order. ``green_per_mwh``:
    (2, H, T) green MWh per MWh of energy in each slot for ordinary (0) and priority (1) rows;
    ``group``: (R,) 0 or 1 for each row.
    """

    claims_wh: np.ndarray
    green_per_mwh: np.ndarray
    group: np.ndarray


def allocate(
    usage: Usage,
    source_mwh: np.ndarray,
    claimable_wh: np.ndarray,
    load_mwh: np.ndarray,
    priority: np.ndarray,
    slots_per_hour: int,
) -> Allocation:
    """Share each source among the beneficiaries, slot by slot; floor per hour to Wh.

    ``source_mwh`` (4, H, T): each source's energy serving load per slot; ``claimable_wh``
    (4, H, n_hours): what each bundle can still give (issued minus cancelled into storage);
    ``priority`` (R,) bool: rows of priority tenants.
    """
    green = source_mwh.sum(axis=0)
    group = priority.astype(np.int64)
    r = np.zeros((2, *load_mwh.shape))
    np.divide(green, load_mwh, out=r[0], where=load_mwh > 0.0)
    if priority.any():
        prio_mwh = np.zeros_like(load_mwh)
        np.add.at(prio_mwh, usage.hub[priority], usage.energy_mwh[priority])
        first = np.minimum(green, prio_mwh)
        np.divide(first, prio_mwh, out=r[1], where=prio_mwh > 0.0)
        rest = load_mwh - prio_mwh
        r[0] = 0.0
        np.divide(green - first, rest, out=r[0], where=rest > _TINY_MWH)
    np.clip(r, 0.0, 1.0, out=r)
    green_rows = usage.energy_mwh * r[group, usage.hub]
    mix = np.zeros_like(source_mwh)
    np.divide(source_mwh, green, out=mix, where=green > 0.0)
    claims = np.stack(
        [
            np.floor(
                to_hours(green_rows * mix[s, usage.hub], slots_per_hour) * WH_PER_MWH + EPS_WH
            ).astype(np.int64)
            for s in range(len(SOURCES))
        ]
    )
    _fit_to_bundles(claims, usage.hub, claimable_wh)
    return Allocation(claims, r, group)


def _fit_to_bundles(claims: np.ndarray, hub: np.ndarray, claimable: np.ndarray) -> None:
    """Where float noise (or a battery cut short by rounding) makes the claims on a bundle exceed
    what it can give, take the excess from the largest claims, a Wh at a time (in place)."""
    for h in range(claimable.shape[1]):
        rows = np.flatnonzero(hub == h)
        if len(rows) == 0:
            continue
        sub = claims[:, rows, :]
        excess = np.maximum(sub.sum(axis=1) - claimable[:, h, :], 0)  # (S, n_hours)
        while excess.any():
            top = sub.argmax(axis=1)  # (S, n_hours)
            s_idx, t_idx = np.nonzero(excess)
            ex = excess[s_idx, t_idx]
            take = np.minimum(np.maximum(1, ex // len(rows)), ex)
            take = np.minimum(take, sub[s_idx, top[s_idx, t_idx], t_idx])
            sub[s_idx, top[s_idx, t_idx], t_idx] -= take
            excess[s_idx, t_idx] -= take
        claims[:, rows, :] = sub


def claims_frame(
    alloc: Allocation, usage: Usage, lookup: np.ndarray, bundles: pd.DataFrame
) -> pd.DataFrame:
    """One row per non-zero claim, ordered by bundle row then beneficiary, with its id range.

    Columns: ``bundle_row`` (row of ``bundles``), ``beneficiary`` (code), ``row`` (usage row),
    ``hub``, ``hour``, ``source``, ``wh``, ``range_start``, ``range_end``.
    """
    s, row, t = np.nonzero(alloc.claims_wh)
    wh = alloc.claims_wh[s, row, t]
    hub = usage.hub[row]
    brow = lookup[s, hub, t]
    if (brow < 0).any():
        raise ModelError("matching claimed energy from a bundle that was never issued")
    code = usage.code[row]
    order = np.lexsort((code, brow))
    s, row, t, wh, hub, brow, code = (a[order] for a in (s, row, t, wh, hub, brow, code))
    cs = np.cumsum(wh) - wh  # Wh of earlier claims (all bundles)
    new = np.r_[True, brow[1:] != brow[:-1]] if len(brow) else np.zeros(0, dtype=bool)
    group_base = np.maximum.accumulate(np.where(new, cs, 0))
    start = (
        bundles["range_start"].to_numpy()[brow]
        + bundles["cancelled_wh"].to_numpy()[brow]
        + (cs - group_base)
    )
    return pd.DataFrame(
        {
            "bundle_row": brow,
            "beneficiary": code.astype(np.int32),
            "row": row,
            "hub": hub.astype(np.int32),
            "hour": t.astype(np.int32),
            "source": s.astype(np.int8),
            "wh": wh,
            "range_start": start,
            "range_end": start + wh,
        }
    )


def hourly_usage(
    usage: Usage,
    alloc: Allocation,
    grid_mwh: np.ndarray,
    load_mwh: np.ndarray,
    ci_g_per_kwh: np.ndarray,
    slots_per_hour: int,
    grid_charge_mwh: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per beneficiary row and hour with energy, grid charging or claims: ``energy_mwh``;
    ``green_mwh`` (green allocated before flooring: the weight for sharing claims among a
    tenant's jobs); ``phys_grid_mwh`` (pro rata share of the grid import serving load);
    ``grid_charge_mwh`` (grid energy charged into the hub's batteries, (H, T) ``grid_charge_mwh``:
    the ``facility`` row's, which drew it; 0 for tenants); ``grid_charge_t`` (its carbon: grid
    charge x each slot's intensity, t); ``location_t`` ((phys grid + grid charge) x each slot's
    intensity, so that it sums to the run's ``carbon_t``); ``ci_g_per_kwh`` (over the hour's
    slots, weighted by the row's grid energy, :func:`hourly_intensity`); and the Wh claimed per
    source (``wind_wh``, ...). Ordered by beneficiary, hour, hub."""
    sph = slots_per_hour
    e = usage.energy_mwh
    grid_share = np.divide(grid_mwh, load_mwh, out=np.zeros_like(load_mwh), where=load_mwh > 0)
    ci = ci_g_per_kwh[usage.hub]
    phys = e * grid_share[usage.hub]
    charged = np.zeros_like(phys)
    if grid_charge_mwh is not None:
        facility = usage.row_of[-1]  # the facility row of each hub
        charged[facility] = grid_charge_mwh[usage.hub[facility]]
    energy_h = to_hours(e, sph)
    charged_h = to_hours(charged, sph)
    green_h = to_hours(e * alloc.green_per_mwh[alloc.group, usage.hub], sph)
    ci_w = hourly_intensity(ci, sph, phys + charged, e)
    claims = alloc.claims_wh
    row, t = np.nonzero((energy_h > 0) | (charged_h > 0) | claims.any(axis=0))
    frame = pd.DataFrame(
        {
            "beneficiary": usage.code[row].astype(np.int32),
            "hub": usage.hub[row].astype(np.int32),
            "hour": t.astype(np.int32),
            "row": row,
            "energy_mwh": energy_h[row, t],
            "green_mwh": green_h[row, t],
            "phys_grid_mwh": to_hours(phys, sph)[row, t],
            "grid_charge_mwh": charged_h[row, t],
            "grid_charge_t": to_hours(charged * ci, sph)[row, t] * 1e-3,
            "location_t": to_hours((phys + charged) * ci, sph)[row, t] * 1e-3,
            "ci_g_per_kwh": ci_w[row, t],
            **{f"{name}_wh": claims[i, row, t] for i, name in enumerate(SOURCES)},
        }
    )
    order = np.lexsort((frame["hub"], frame["hour"], frame["beneficiary"]))
    return frame.iloc[order].reset_index(drop=True)
