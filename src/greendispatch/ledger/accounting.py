"""Green-power accounting of a simulated run: certificates, storage, matching, GECs, entries.

:func:`account` issues hourly certificate bundles for every hub's assets
(:mod:`~greendispatch.ledger.certificates`), runs the charged ones through storage
(:mod:`~greendispatch.ledger.storage`), shares every bundle among the tenants whose jobs ran in
that hub-hour and the hub's own load (:mod:`~greendispatch.ledger.matching`), settles monthly GECs
(:mod:`~greendispatch.ledger.gec`), and returns an :class:`Accounting`. Its
:meth:`Accounting.entries` are the ledger's entries in time order: one per hub-hour, then one per
hub-month for GECs after each month's last hour. Every entry is JSON-ready (int, float, str,
None, lists and dicts only).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from greendispatch.domain import Hub
from greendispatch.errors import InputError
from greendispatch.ledger.certificates import (
    BATTERY,
    CONTRACTED,
    SOLAR,
    WIND,
    HourAxis,
    HubSites,
    bundle_table,
    device_names,
    floor_wh,
    hourly_intensity,
    issue_generation,
    to_hours,
)
from greendispatch.ledger.gec import GecRegistry, settle_months
from greendispatch.ledger.matching import (
    FACILITY,
    Allocation,
    Usage,
    allocate,
    beneficiary_energy,
    check_beneficiary,
    claims_frame,
    hourly_usage,
)
from greendispatch.ledger.storage import (
    OPENING,
    StorageFlows,
    opening_green_wh,
    store_and_discharge,
)
from greendispatch.sim.engine import SimRun


@dataclass(frozen=True, eq=False)
class Accounting:
    """The certificates, storage, matching and GECs of one run.

    - ``bundles``: one row per issued bundle (:func:`~greendispatch.ledger.certificates.
      bundle_table`), ordered by hour, hub, source;
    - ``claims``: one row per (bundle, beneficiary) with Wh and id range
      (:func:`~greendispatch.ledger.matching.claims_frame`); ``beneficiary`` is a code into
      ``beneficiaries`` (tenants, then ``facility``);
    - ``usage``: per beneficiary, hub and hour: energy, green by source, pro rata grid and
      location-based carbon (:func:`~greendispatch.ledger.matching.hourly_usage`);
    - ``storage``: the FIFO queues (:class:`~greendispatch.ledger.storage.StorageFlows`);
    - ``gec``: the GEC registry (None when GECs are off);
    - ``hub_hours``: (H, n_hours) ``load_wh``, ``grid_wh``, ``grid_charge_wh`` and
      ``ci_g_per_kwh`` (load-weighted over the hour's slots).
    """

    scenario: str
    policy: str
    issuer: str
    hub_ids: tuple[str, ...]
    beneficiaries: tuple[str, ...]
    priority_tenants: frozenset[str]
    axis: HourAxis
    sites: HubSites
    bundles: pd.DataFrame
    claims: pd.DataFrame
    usage: pd.DataFrame
    storage: StorageFlows
    gec: GecRegistry | None
    months: tuple[tuple[int, int], ...]
    hub_hours: dict[str, np.ndarray]
    rte: np.ndarray
    run: SimRun
    rows: Usage
    allocation: Allocation

    @property
    def tenants(self) -> tuple[str, ...]:
        return self.beneficiaries[:-1]

    def beneficiary_code(self, name: str) -> int:
        """The code of a beneficiary; InputError naming the known ones for any other name."""
        return check_beneficiary(name, self.beneficiaries)

    def storage_balance(self) -> dict[str, dict[str, int]]:
        """Per hub, Wh: ``opening + cancelled = issued + loss + stored_end`` (exact)."""
        st, b = self.storage, self.bundles
        out = {}
        for h, hub in enumerate(self.hub_ids):
            mine = b["hub"].to_numpy() == h
            out[hub] = {
                "opening_wh": int(st.opening_wh[h]),
                "cancelled_wh": int(b["cancelled_wh"].to_numpy()[mine].sum()),
                "issued_wh": int(st.delivered_wh[h].sum()),
                "loss_wh": int(st.loss_wh[h].sum()),
                "stored_end_wh": int(st.stored_wh[h, -1]) if st.stored_wh.shape[1] else 0,
            }
        return out

    def entries(self) -> Iterator[dict[str, Any]]:
        """The ledger entries in order (see the module docstring and ``_hour_entry``)."""
        yield from _entries(self)


def account(
    run: SimRun,
    *,
    scenario_name: str,
    priority_tenants: frozenset[str] | set[str] = frozenset(),
    gec: bool = True,
    hubs: tuple[Hub, ...] | list[Hub] = (),
    as_of: datetime | None = None,
) -> Accounting:
    """Issue, store, match and settle the green power of ``run``.

    Parameters
    ----------
    run : SimRun
        A simulated run (its supply stack gives every MWh accounted here).
    scenario_name : str
        Names the issuing body, ``greendispatch:{scenario_name}``.
    priority_tenants : set of str
        Tenants (names in ``run.jobs.tenants``) that get green first; the others share the rest.
    gec : bool
        Issue and cancel monthly GECs for the contracted supply.
    hubs : sequence of Hub
        The scenario's hubs, for the devices' location and grid zone (unknown without them).
    as_of : datetime, optional
        Active certificates whose expiry (production end + 365 days) is at or before this are
        expired; default the end of the run.
    """
    tenants = tuple(run.jobs.tenants)
    if FACILITY in tenants:
        raise InputError(f"tenant name '{FACILITY}' is reserved for the hubs' own load")
    unknown = sorted(set(priority_tenants) - set(tenants))
    if unknown:
        raise InputError(
            f"priority tenants {unknown} are not in the job table (tenants: {', '.join(tenants)})"
        )
    s, sig, net = run.supply, run.signals, run.net
    axis = HourAxis.from_grid(sig.grid)
    sph = axis.slots_per_hour
    sites = HubSites.of(net.hub_ids, hubs)
    gen = issue_generation(s, axis)
    flows = store_and_discharge(
        gen.cancelled_wh[:2],
        to_hours(s.discharge_green_mwh, sph),
        s.battery.rte,
        opening_green_wh(s),
    )
    shape = (4, *gen.energy_wh.shape[1:])
    energy = np.zeros(shape, dtype=np.int64)
    energy[[WIND, SOLAR, CONTRACTED]] = gen.energy_wh
    energy[BATTERY] = flows.delivered_wh
    cancelled = np.zeros_like(energy)
    cancelled[[WIND, SOLAR]] = gen.cancelled_wh[:2]
    consumed = np.zeros_like(energy)
    consumed[BATTERY] = flows.consumed_wh

    rows = beneficiary_energy(run)
    source_slot = np.stack(
        [gen.slot_mwh[0], gen.slot_mwh[1], s.discharge_green_mwh, gen.slot_mwh[2]]
    )
    prio_codes = [tenants.index(t) for t in priority_tenants]
    alloc = allocate(
        rows, source_slot, energy - cancelled, s.load_mwh, np.isin(rows.code, prio_codes), sph
    )
    claimed = np.zeros_like(energy)
    for i in range(4):
        np.add.at(claimed[i], rows.hub, alloc.claims_wh[i])
    capacity = np.stack([net.wind_mw, net.solar_mw, s.battery.p_mw, net.contracted_mw])
    as_of = as_of or sig.grid.end
    bundles, lookup = bundle_table(
        energy, cancelled, claimed, consumed, capacity, axis, sites, as_of
    )
    claims = claims_frame(alloc, rows, lookup, bundles)
    usage = hourly_usage(
        rows, alloc, s.grid_mwh, s.load_mwh, sig.ci_g_per_kwh, sph, s.grid_charge_mwh
    )
    beneficiaries = (*tenants, FACILITY)
    registry, months = None, ()
    if gec:
        registry = GecRegistry(net.hub_ids)
        c = claims[claims["source"].to_numpy() == CONTRACTED]
        months = tuple(
            settle_months(
                registry,
                energy[CONTRACTED],
                c["hub"].to_numpy(),
                c["hour"].to_numpy(),
                c["beneficiary"].to_numpy(),
                c["wh"].to_numpy(),
                beneficiaries,
                axis,
            )
        )
    load_h = to_hours(s.load_mwh, sph)
    ci_w = hourly_intensity(sig.ci_g_per_kwh, sph, s.grid_mwh + s.grid_charge_mwh, s.load_mwh)
    hub_hours = {
        "load_wh": floor_wh(load_h),
        "grid_wh": floor_wh(to_hours(s.grid_mwh, sph)),
        "grid_charge_wh": floor_wh(to_hours(s.grid_charge_mwh, sph)),
        "ci_g_per_kwh": ci_w,
    }
    return Accounting(
        scenario=scenario_name,
        policy=run.policy,
        issuer=f"greendispatch:{scenario_name}",
        hub_ids=tuple(net.hub_ids),
        beneficiaries=beneficiaries,
        priority_tenants=frozenset(priority_tenants),
        axis=axis,
        sites=sites,
        bundles=bundles,
        claims=claims,
        usage=usage,
        storage=flows,
        gec=registry,
        months=months,
        hub_hours=hub_hours,
        rte=np.asarray(s.battery.rte, dtype=np.float64),
        run=run,
        rows=rows,
        allocation=alloc,
    )


def _bounds(keys: np.ndarray, n: int) -> np.ndarray:
    return np.searchsorted(keys, np.arange(n + 1))


def _entries(acct: Accounting) -> Iterator[dict[str, Any]]:
    """One dict per hub-hour (and per hub-month for GECs), built from column lists."""
    b, c, st, ax = acct.bundles, acct.claims, acct.storage, acct.axis
    n_h, n_hours = len(acct.hub_ids), ax.n_hours
    bkey = b["hour"].to_numpy().astype(np.int64) * n_h + b["hub"].to_numpy()
    bb = _bounds(bkey, n_h * n_hours)
    cb = _bounds(bkey[c["bundle_row"].to_numpy()], n_h * n_hours)
    # Draws in (hour, hub) order; the records they draw from as bundle ids and id ranges.
    rec = st.records
    rec_src, rec_hub, rec_hour = (rec[k].to_numpy() for k in ("source", "hub", "hour"))
    devices = device_names(acct.hub_ids)
    opening = rec_src == OPENING
    rec_bundle = np.where(
        opening,
        devices[BATTERY, rec_hub] + ":opening",
        devices[np.where(opening, 0, rec_src), rec_hub] + ":" + ax.key[np.maximum(rec_hour, 0)],
    )
    row_of = np.full((4, n_h, n_hours), -1, dtype=np.int64)
    row_of[b["source"].to_numpy(), b["hub"].to_numpy(), b["hour"].to_numpy()] = np.arange(len(b))
    rec_row = np.where(
        opening, -1, row_of[np.where(opening, 0, rec_src), rec_hub, np.maximum(rec_hour, 0)]
    )
    r_start = b["range_start"].to_numpy()
    d = st.draws
    dkey = d["hour"].to_numpy().astype(np.int64) * n_h + d["hub"].to_numpy()
    d_order = np.argsort(dkey, kind="stable")
    db = _bounds(dkey[d_order], n_h * n_hours)
    d_rec = d["record"].to_numpy()[d_order]
    d_wh = d["wh"].to_numpy()[d_order].tolist()
    d_bundle = rec_bundle[d_rec].tolist()
    d_start = np.where(
        rec_row[d_rec] >= 0, r_start[rec_row[d_rec]] + d["offset"].to_numpy()[d_order], -1
    ).tolist()

    col = {k: b[k].tolist() for k in b.columns}
    lat_lon = [acct.sites.location(h) for h in range(n_h)]
    c_bundle = b["bundle"].to_numpy()[c["bundle_row"].to_numpy()].tolist()
    c_start, c_end, c_wh = (c[k].tolist() for k in ("range_start", "range_end", "wh"))
    names = np.array(acct.beneficiaries, dtype=object)[c["beneficiary"].to_numpy()].tolist()
    hh = {k: v.tolist() for k, v in acct.hub_hours.items()}
    delivered, consumed = st.delivered_wh.tolist(), st.consumed_wh.tolist()
    stored = st.stored_wh.tolist()
    rte = acct.rte.tolist()
    month_end = np.r_[ax.months[1:] != ax.months[:-1], True]

    for t in range(n_hours):
        for h in range(n_h):
            k = t * n_h + h
            certs, cancelled = [], []
            for i in range(bb[k], bb[k + 1]):
                cert = {
                    "id": col["bundle"][i],
                    "range": [col["range_start"][i], col["range_end"][i]],
                    "device": col["device"][i],
                    "technology": col["technology"][i],
                    "capacity_mw": col["capacity_mw"][i],
                    "location": lat_lon[h],
                    "grid_zone": col["grid_zone"][i],
                    "production_start": col["production_start"][i],
                    "production_end": col["production_end"][i],
                    "energy_wh": col["energy_wh"][i],
                    "issuer": acct.issuer,
                    "issued_at": col["production_end"][i],
                    "expires": col["expires"][i],
                    "status": {
                        key: col[key][i]
                        for key in (
                            "claimed_wh",
                            "active_wh",
                            "cancelled_wh",
                            "expired_wh",
                            "withdrawn_wh",
                        )
                    },
                }
                if col["source"][i] == BATTERY:
                    cert["efficiency"] = rte[h]
                    cert["consumed_wh"] = col["consumed_wh"][i]
                    cert["loss_wh"] = col["loss_wh"][i]
                    cert["charge_records"] = [
                        {
                            "bundle": d_bundle[j],
                            "range": None if d_start[j] < 0 else [d_start[j], d_start[j] + d_wh[j]],
                            "wh": d_wh[j],
                        }
                        for j in range(db[k], db[k + 1])
                    ]
                if col["cancelled_wh"][i]:
                    a = col["range_start"][i]
                    cancelled.append(
                        {
                            "bundle": col["bundle"][i],
                            "range": [a, a + col["cancelled_wh"][i]],
                            "wh": col["cancelled_wh"][i],
                        }
                    )
                certs.append(cert)
            yield {
                "type": "hour",
                "hub": acct.hub_ids[h],
                "hour_start": ax.start[t],
                "hour_end": ax.end[t],
                "load_wh": hh["load_wh"][h][t],
                "certificates": certs,
                "storage": {
                    "cancelled": cancelled,
                    "grid_charge_wh": hh["grid_charge_wh"][h][t],
                    "discharged_green_wh": delivered[h][t],
                    "consumed_wh": consumed[h][t],
                    "loss_wh": consumed[h][t] - delivered[h][t],
                    "stored_wh": stored[h][t],
                },
                "claims": [
                    {
                        "bundle": c_bundle[j],
                        "range": [c_start[j], c_end[j]],
                        "wh": c_wh[j],
                        "beneficiary": names[j],
                    }
                    for j in range(cb[k], cb[k + 1])
                ],
                "grid_wh": hh["grid_wh"][h][t],
                "ci_g_per_kwh": hh["ci_g_per_kwh"][h][t],
            }
        if acct.gec is not None and month_end[t]:
            year, month = int(ax.year[t]), int(ax.month[t])
            for h in range(n_h):
                yield acct.gec.month_entry(h, year, month)
