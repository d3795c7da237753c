"""Green-power statements of a tenant or a job: pure data, dicts ready for JSON.

A statement splits the energy of every hub-hour row into what certificates cover and the rest,
so that ``energy = green (wind + solar + battery + contracted) + battery_uncertified + grid``:

- ``green_mwh``: the certificate Wh claimed, by source;
- ``battery_uncertified_mwh``: battery output that carries no green certificate (the battery's
  opening charge, energy it drew from the grid), the beneficiary's share of the energy its
  certificates do not cover, in the ratio of the hub-hour's uncertified battery output to its
  grid import;
- ``grid_mwh``: the rest, grid electricity its certificates do not cover.

Carbon two ways, per row and in total (a total is the sum of its rows):

- location-based: the beneficiary's pro rata share of the grid import that served the hub's load
  in each slot (``grid_import_share_mwh``) x that slot's grid average intensity (the simulator's
  job carbon);
- market-based: ``grid_mwh`` x the hour's grid average intensity. China publishes no residual
  mix, so the grid average stands in for it (this somewhat understates market-based carbon).

The ``facility`` (the hubs' own load) also drew the grid energy its batteries charged (with
``--grid-charge``): both its bases add that energy x each slot's intensity, in the hour it was
drawn, and its rows gain ``grid_charge_mwh``; the battery output it later gives carries no
carbon where it is used. So, without priority tenants, both bases' totals over every
beneficiary add up to the run's ``carbon_t``.

Without priority tenants every beneficiary's certificates cover its pro rata share of the green,
so ``grid_mwh`` equals ``grid_import_share_mwh`` to the Wh; priority tenants' certificates cover
more, and the others' less.

A tenant's statement lists the bundles and id ranges it claimed per hub-hour and the GECs
cancelled for it. A job's figures are its share of its tenant's claims in each hub-hour, pro rata
to its green-weighted energy and floored to Wh; its id sub-ranges follow job id order inside the
tenant's range. Its GECs are the whole MWh of its contracted-green Wh in the same order over the
tenant's month at that hub (:func:`_job_gecs`). A job's statement is computed on demand (it scans
only the tenant's jobs at that hub overlapping the job and its months).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from greendispatch.errors import InputError
from greendispatch.ledger.accounting import Accounting
from greendispatch.ledger.certificates import (
    CONTRACTED,
    EPS_WH,
    SOURCES,
    WH_PER_MWH,
    to_hours,
    year_month,
)
from greendispatch.ledger.matching import FACILITY
from greendispatch.sim.results import idle_parts, work_shares

_BASIS = {
    "location_based": "your pro rata share of the electricity the hub imported from the grid to "
    "serve its load{charging}, hour by hour, x that hour's grid average intensity (direct, "
    "operational)",
    "market_based": "grid electricity your green certificates do not cover (energy less green "
    "certificates less battery output that carries no certificate){charging} x the hour's grid "
    "average intensity; China publishes no residual mix, so the grid average is used",
}
_BASIS_ZH = {
    "location_based": "按用电量比例分摊的枢纽逐小时电网购电量{charging}"
    "× 当小时电网平均碳排放强度（直接排放）",
    "market_based": "绿电证书未覆盖的电网电量（用电量减去绿电证书、减去无证书的储能放电）{charging}"
    "× 当小时电网平均碳排放强度；中国未发布剩余电力组合因子，故以电网平均值代替",
}
# The facility drew the grid energy its batteries charged: both bases count it, in the hour it
# was drawn (the battery output it later gives carries no carbon where it is used).
_CHARGING = (
    ", plus the electricity the hub's batteries charged from the grid (the facility drew it; "
    "the battery output it later gives carries no carbon where it is used)"
)
_CHARGING_ZH = "，加上储能从电网充电的电量（由枢纽自身从电网购入；储能日后放电时不再计碳）"


def basis(beneficiary: str, grid_charged: bool = True) -> tuple[dict[str, str], dict[str, str]]:
    """The two carbon bases of a statement, in English and Chinese: the facility's include grid
    charging (said only when the run charged batteries from the grid)."""
    charges = beneficiary == FACILITY and grid_charged
    en, zh = (_CHARGING, _CHARGING_ZH) if charges else ("", "")
    return (
        {k: v.format(charging=en) for k, v in _BASIS.items()},
        {k: v.format(charging=zh) for k, v in _BASIS_ZH.items()},
    )


_CHUNK = 2_000_000  # matrix cells per block when weighing a job's neighbours


def _green(wh: dict[str, Any]) -> dict[str, float]:
    out = {name: wh[name] / WH_PER_MWH for name in SOURCES}
    out["total"] = sum(wh[name] for name in SOURCES) / WH_PER_MWH
    return out


def _battery_share(acct: Accounting) -> np.ndarray:
    """(H, n_hours): of the energy no certificate covers, the part the battery gave without one
    (its output minus its green output) against the grid import serving load."""
    s, sph = acct.run.supply, acct.axis.slots_per_hour
    battery = to_hours(np.maximum(s.discharge_mwh - s.discharge_green_mwh, 0.0), sph)
    rest = battery + to_hours(s.grid_mwh, sph)
    return np.divide(battery, rest, out=np.zeros_like(rest), where=rest > 0.0)


def _statement(
    acct: Accounting,
    kind: str,
    beneficiary: str,
    period: tuple[str, str],
    hub: np.ndarray,
    hour: np.ndarray,
    energy: np.ndarray,
    wh: np.ndarray,
    grid_share: np.ndarray,
    location_t: np.ndarray,
    ci: np.ndarray,
    certificates: list[dict[str, Any]],
    gec: list[dict[str, Any]],
    charge: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Assemble a statement from per-hour arrays; ``wh`` is (4, n) Wh claimed by source,
    ``grid_share`` the pro rata grid import (MWh) and ``location_t`` its carbon per hour.
    ``charge``: the facility's grid charging per hour (MWh, t), already in ``location_t``; it is
    added to the market-based carbon and each row gains ``grid_charge_mwh``."""
    green = wh.sum(axis=0) / WH_PER_MWH
    uncovered = np.maximum(energy - green, 0.0)
    battery = uncovered * _battery_share(acct)[hub, hour]
    grid = uncovered - battery
    market_t = grid * ci * 1e-3
    if charge is not None:
        market_t = market_t + charge[1]
    hub_ids, starts = acct.hub_ids, acct.axis.start
    hours = [
        {
            "hub": hub_ids[h],
            "hour_start": starts[t],
            "energy_mwh": e,
            "green_mwh": dict(zip(SOURCES, (x / WH_PER_MWH for x in w), strict=True)),
            "battery_uncertified_mwh": b,
            "grid_mwh": g,
            "grid_import_share_mwh": gs,
            "ci_g_per_kwh": c,
            "location_based_t": lt,
            "market_based_t": mt,
        }
        for h, t, e, w, b, g, gs, c, lt, mt in zip(
            hub.tolist(),
            hour.tolist(),
            energy.tolist(),
            wh.T.tolist(),
            battery.tolist(),
            grid.tolist(),
            grid_share.tolist(),
            ci.tolist(),
            location_t.tolist(),
            market_t.tolist(),
            strict=True,
        )
    ]
    if charge is not None:
        for row, x in zip(hours, charge[0].tolist(), strict=True):
            row["grid_charge_mwh"] = x
    totals_wh = {name: int(wh[i].sum()) for i, name in enumerate(SOURCES)}

    def total(key: str) -> float:
        return math.fsum(row[key] for row in hours)

    basis_en, basis_zh = basis(beneficiary, charge is not None and bool(np.any(charge[0] > 0)))

    return {
        "kind": kind,
        "scenario": acct.scenario,
        "policy": acct.policy,
        "issuer": acct.issuer,
        "beneficiary": beneficiary,
        "period": {"start": period[0], "end": period[1]},
        "basis": basis_en,
        "basis_zh": basis_zh,
        "totals": {
            "energy_mwh": total("energy_mwh"),
            "green_mwh": _green(totals_wh),
            "green_wh": totals_wh,
            "battery_uncertified_mwh": total("battery_uncertified_mwh"),
            "grid_mwh": total("grid_mwh"),
            "grid_import_share_mwh": total("grid_import_share_mwh"),
            "grid_charge_mwh": 0.0 if charge is None else math.fsum(charge[0].tolist()),
            "location_based_t": total("location_based_t"),
            "market_based_t": total("market_based_t"),
        },
        "hours": hours,
        "certificates": certificates,
        "gec": gec,
    }


def tenant_statement(acct: Accounting, tenant: str) -> dict[str, Any]:
    """The statement of one tenant (or of ``facility``, the hubs' own load)."""
    code = acct.beneficiary_code(tenant)
    u = acct.usage
    sel = np.flatnonzero(u["beneficiary"].to_numpy() == code)
    wh = np.stack([u[f"{name}_wh"].to_numpy()[sel] for name in SOURCES])
    c = acct.claims
    mine = np.flatnonzero(c["beneficiary"].to_numpy() == code)
    order = mine[
        np.lexsort(
            (c["source"].to_numpy()[mine], c["hub"].to_numpy()[mine], c["hour"].to_numpy()[mine])
        )
    ]
    bundle = acct.bundles["bundle"].to_numpy()[c["bundle_row"].to_numpy()[order]]
    certificates = [
        {"hub": acct.hub_ids[h], "hour_start": acct.axis.start[t], "bundle": b, "range": [a, e],
         "wh": w}
        for h, t, b, a, e, w in zip(
            c["hub"].to_numpy()[order].tolist(), c["hour"].to_numpy()[order].tolist(),
            bundle.tolist(), c["range_start"].to_numpy()[order].tolist(),
            c["range_end"].to_numpy()[order].tolist(), c["wh"].to_numpy()[order].tolist(),
            strict=True,
        )
    ]  # fmt: skip
    gec = acct.gec.cancellations(tenant) if acct.gec is not None else []
    for g in gec:
        del g["beneficiary"]
    grid = acct.run.signals.grid
    period = (grid.start.strftime("%Y-%m-%dT%H:%M:%SZ"), grid.end.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _statement(
        acct, "tenant", tenant, period,
        u["hub"].to_numpy()[sel], u["hour"].to_numpy()[sel], u["energy_mwh"].to_numpy()[sel], wh,
        u["phys_grid_mwh"].to_numpy()[sel], u["location_t"].to_numpy()[sel],
        u["ci_g_per_kwh"].to_numpy()[sel], certificates, gec,
        (u["grid_charge_mwh"].to_numpy()[sel], u["grid_charge_t"].to_numpy()[sel])
        if tenant == FACILITY else None,
    )  # fmt: skip


def _neighbour_weights(acct: Accounting, j: int, hours: np.ndarray, cs: np.ndarray) -> np.ndarray:
    """Green-weighted energy, per hour of ``hours``, of the jobs of ``j``'s tenant at its hub that
    come before it in job id order. ``cs``: cumulative (PUE x green per MWh) over the hub's slots
    with a leading 0."""
    run = acct.run
    jobs, p = run.jobs, run.placements
    sph, n_t, dt = acct.axis.slots_per_hour, run.it_mw.shape[1], run.signals.grid.dt_h
    h = p.hub[j]
    lo_slot, hi_slot = int(hours[0]) * sph, min(int(hours[-1] + 1) * sph, n_t)
    same = (jobs.tenant == jobs.tenant[j]) & (p.hub == h)
    earlier = (jobs.job_id < jobs.job_id[j]) | ((jobs.job_id == jobs.job_id[j]) & (
        np.arange(len(jobs)) < j))  # fmt: skip
    end = acct.rows.end_slot
    cand = np.flatnonzero(same & earlier & (p.start < hi_slot) & (end > lo_slot))
    mw = acct.rows.mw_per_job
    out = np.zeros(len(hours))
    split = np.array([k in p.split_slots for k in cand], dtype=bool)
    cont = cand[~split]
    h_lo = hours * sph
    h_hi = np.minimum(h_lo + sph, n_t)
    step = max(1, _CHUNK // max(1, len(hours)))
    for i in range(0, len(cont), step):
        k = cont[i : i + step]
        a = np.maximum(p.start[k][:, None], h_lo[None, :])
        b = np.minimum(end[k][:, None], h_hi[None, :])
        w = np.where(b > a, cs[np.maximum(b, a)] - cs[a], 0.0)
        out += (mw[k] * dt) @ w
    index = {int(t): i for i, t in enumerate(hours)}
    for k in cand[split]:
        slots = run.placements.slots(int(k))
        w = (cs[slots + 1] - cs[slots]) * mw[k] * dt
        for t, x in zip((slots // sph).tolist(), w.tolist(), strict=True):
            if t in index:
                out[index[t]] += x
    # Less the parts of slots their devices stand idle after their work ends.
    tail = idle_parts(jobs, p, dt)
    sel = np.flatnonzero(np.isin(tail.job, cand) & (tail.slot >= lo_slot) & (tail.slot < hi_slot))
    for k, t, idle in zip(tail.job[sel], tail.slot[sel], tail.idle[sel], strict=True):
        i = index.get(int(t) // sph)
        if i is not None:
            out[i] -= (cs[t + 1] - cs[t]) * mw[k] * dt * idle
    return out


def _floored(wh: np.ndarray, weight: np.ndarray, total: np.ndarray) -> np.ndarray:
    """``wh`` x ``weight`` / ``total`` (at most ``wh``), floored to whole Wh."""
    frac = np.divide(weight, total, out=np.zeros(len(wh)), where=total > 0)
    return np.floor(wh * np.minimum(frac, 1.0) + EPS_WH).astype(np.int64)


def _job_gecs(
    acct: Accounting, j: int, row: int, cs: np.ndarray, weight: np.ndarray, own: dict[int, int]
) -> list[dict[str, Any]]:
    """The GECs of job ``j``: per month (``own``: month index -> the job's
    contracted-green Wh there), the whole MWh of the tenant's cancelled GECs at the hub that fall
    inside the job's Wh when its tenant's contracted-green claims of the month are laid end to
    end in job id order. The tenant's jobs never share a GEC, and none gets more MWh than its
    contracted green (the parts of a MWh at either end go to no job)."""
    if acct.gec is None:
        return []
    c = acct.claims
    sel = np.flatnonzero((c["row"].to_numpy() == row) & (c["source"].to_numpy() == CONTRACTED))
    c_hour, cw = c["hour"].to_numpy()[sel], c["wh"].to_numpy()[sel]  # in hour order
    month_of = acct.axis.months[c_hour]
    tenant, h = acct.beneficiaries[acct.rows.code[row]], int(acct.rows.hub[row])
    out = []
    for ym, mine in sorted(own.items()):
        if mine < WH_PER_MWH:
            continue
        hours = c_hour[month_of == ym]
        before = _neighbour_weights(acct, j, hours, cs)
        skip = int(_floored(cw[month_of == ym], before, weight[hours]).sum())
        first, last = -(-skip // WH_PER_MWH), (skip + mine) // WH_PER_MWH
        out += acct.gec.held(tenant, h, *year_month(ym), first, last - first)
    for g in out:
        del g["hub"]
    return [{"hub": acct.hub_ids[h], **g} for g in out]


def job_statement(acct: Accounting, job_id: int) -> dict[str, Any]:
    """The statement of one job: its share of its tenant's claims, hour by hour, and its GECs."""
    run = acct.run
    jobs, p, sig = run.jobs, run.placements, run.signals
    found = np.flatnonzero(jobs.job_id == job_id)
    if len(found) == 0:
        raise InputError(f"job {job_id} is not in this run")
    j = int(found[0])
    tenant = jobs.tenants[jobs.tenant[j]]
    slots = run.placements.slots(j)
    sph, dt = acct.axis.slots_per_hour, sig.grid.dt_h
    if len(slots) == 0:
        none, z = np.zeros(0, dtype=np.int64), np.zeros(0)
        wh0 = np.zeros((4, 0), dtype=np.int64)
        st = _statement(acct, "job", tenant, ("", ""), none, none, z, wh0, z, z, z, [], [])
        return st | {
            "job_id": int(job_id),
            "gec_of_tenant": [],
            "notes": ["the job was not placed: no energy"],
            "notes_zh": ["任务未被调度：没有用电"],
        }
    h = int(p.hub[j])
    row = int(acct.rows.row_of[jobs.tenant[j], h])
    r = acct.allocation.green_per_mwh[acct.allocation.group[row], h]
    s = run.supply
    e_slot = acct.rows.mw_per_job[j] * sig.pue[h, slots] * dt * work_shares(jobs, p, dt, j)
    share = np.divide(s.grid_mwh[h, slots], s.load_mwh[h, slots],
                      out=np.zeros(len(slots)), where=s.load_mwh[h, slots] > 0)  # fmt: skip
    ci = sig.ci_g_per_kwh[h, slots]
    hours, inv = np.unique(slots // sph, return_inverse=True)
    energy = np.bincount(inv, e_slot)
    own = np.bincount(inv, e_slot * r[slots])
    grid_share = np.bincount(inv, e_slot * share)
    location_t = np.bincount(inv, e_slot * share * ci) * 1e-3
    # The hour's intensity weighted by the job's grid energy (its energy where it took none):
    # x the grid energy it is the slots' carbon, with sub-hourly slots too.
    ci_w = np.bincount(inv, e_slot * ci) / np.where(energy > 0, energy, 1.0)
    np.divide(location_t * 1e3, grid_share, out=ci_w, where=grid_share > 0)
    cs = np.r_[0.0, np.cumsum(sig.pue[h] * r)]
    before = _neighbour_weights(acct, j, hours, cs)
    weight = to_hours(acct.rows.energy_mwh[row] * r, sph)  # the tenant's, per hour
    total = weight[hours]
    c = acct.claims
    mine = np.flatnonzero(c["row"].to_numpy() == row)
    c_hour, c_src = c["hour"].to_numpy()[mine], c["source"].to_numpy()[mine]
    pos = np.searchsorted(hours, c_hour).clip(0, len(hours) - 1)
    hit = hours[pos] == c_hour
    mine, pos, c_src = mine[hit], pos[hit], c_src[hit]
    cw = c["wh"].to_numpy()[mine]
    got = _floored(cw, own[pos], total[pos])
    skip = _floored(cw, before[pos], total[pos])
    got = np.minimum(got, cw - np.minimum(skip, cw))
    a = c["range_start"].to_numpy()[mine] + skip
    wh = np.zeros((4, len(hours)), dtype=np.int64)
    np.add.at(wh, (c_src, pos), got)
    bundle = acct.bundles["bundle"].to_numpy()[c["bundle_row"].to_numpy()[mine]]
    keep = np.flatnonzero(got > 0)
    certificates = [
        {"hub": acct.hub_ids[h], "hour_start": acct.axis.start[hours[i]], "bundle": bundle[k],
         "range": [int(a[k]), int(a[k] + got[k])], "wh": int(got[k])}
        for k, i in zip(keep.tolist(), pos[keep].tolist(), strict=True)
    ]  # fmt: skip
    month_of = acct.axis.months[hours]
    contracted = wh[CONTRACTED]
    own_gec = {int(m): int(contracted[month_of == m].sum()) for m in np.unique(month_of)}
    gec_of_tenant = []
    if acct.gec is not None:
        gec_of_tenant = [
            {k: v for k, v in g.items() if k != "beneficiary"}
            for g in acct.gec.cancellations(tenant, hub=h, months=own_gec)
        ]
    period = (acct.axis.start[hours[0]], acct.axis.end[hours[-1]])
    st = _statement(acct, "job", tenant, period, np.full(len(hours), h), hours, energy, wh,
                    grid_share, location_t, ci_w, certificates,
                    _job_gecs(acct, j, row, cs, weight, own_gec))  # fmt: skip
    return st | {
        "job_id": int(job_id),
        "gec_of_tenant": gec_of_tenant,
        "notes": [
            "GECs are whole MWh, cancelled for a tenant per hub and month. This job's GECs are "
            "the whole MWh of its own contracted green, taken in job id order from its tenant's; "
            "the tenant's GECs at this hub in the same months are listed apart, for reference "
            "only: they are not the job's."
        ],
        "notes_zh": [
            "绿证（GEC）以整 MWh 计，按租户、枢纽和月份核销。"
            "本任务的绿证是其自身绿电合同电量中的整 MWh，按任务编号顺序从其租户的绿证中划出；"
            "租户在本枢纽同月的全部绿证另行列出，仅供参考，不属于本任务。"
        ],
    }
