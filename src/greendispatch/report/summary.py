"""Scenario summary: per hub PFLOPS by kind, racks, IT MW, energy assets, grid and signals."""

from __future__ import annotations

from typing import Any

import numpy as np

from greendispatch.domain import PoolKind, Scenario
from greendispatch.domain.network import link_table
from greendispatch.signals.build import Signals


def _r(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


def scenario_summary(scenario: Scenario, signals: Signals | None = None) -> dict[str, Any]:
    """A JSON-ready summary. Signal means are included when ``signals`` is given."""
    hubs: list[dict[str, Any]] = []
    for i, h in enumerate(scenario.hubs):
        by_kind = h.pflops_by_kind()
        pflops = {k.value: _r(by_kind.get(k, 0.0)) for k in PoolKind}
        pflops["total"] = _r(h.pflops)
        row: dict[str, Any] = {
            "id": h.id,
            "name": h.name,
            "name_zh": h.name_zh,
            "lat": h.lat,
            "lon": h.lon,
            "coordinates": "approximate",
            "region": h.region,
            "pflops": pflops,
            "racks": h.racks,
            "rack_kw": h.rack_kw,
            "it_mw": _r(h.it_mw),
            "pue_target": h.pue_target,
            "wind_mw": h.assets.wind_mw,
            "solar_mw": h.assets.solar_mw,
            "battery_mwh": h.assets.battery_mwh,
            "battery_mw": h.assets.battery_mw,
            "contracted_green_mw": h.assets.contracted_green_mw,
            "grid_zone": h.grid.zone,
            "pools": [
                {
                    "kind": p.kind.value,
                    "device_model": p.device_model,
                    "devices": p.devices,
                    "pflops": _r(p.pflops),
                    "it_mw": _r(p.it_mw),
                }
                for p in h.pools
            ],
            "planned": [
                {
                    "name": pc.name,
                    "name_zh": pc.name_zh,
                    "kind": pc.kind.value,
                    "cabinets": pc.cabinets,
                    "cabinet_kw": [pc.cabinet_kw_min, pc.cabinet_kw_max],
                    "it_mw": [_r(x) for x in pc.it_mw_range],
                    "pflops": pc.pflops,
                    "online": pc.online,
                }
                for pc in h.planned
            ],
        }
        if signals is not None:
            pue = signals.pue[i]
            row |= {
                "mean_ci_g_per_kwh": _r(np.mean(signals.ci_g_per_kwh[i])),
                "mean_price_per_mwh": _r(np.mean(signals.price_per_mwh[i])),
                "currency": signals.meta[i].currency,
                "annual_pue": _r(np.mean(pue)),
                "solar_cf": _r(np.mean(signals.solar_pu[i])),
                "wind_cf": _r(np.mean(signals.wind_pu[i])),
                "renewable_share": _r(np.mean(signals.renewable_share[i])),
                "sources": signals.meta[i].sources,
                "modelled": list(signals.meta[i].modelled),
            }
        hubs.append(row)

    target = scenario.network.inter_hub_target_ms
    hub_ids = {h.id for h in scenario.hubs}
    links = []
    for lk in link_table(scenario):
        inter_hub = lk.a in hub_ids and lk.b in hub_ids
        links.append(
            {
                "a": lk.a,
                "b": lk.b,
                "latency_ms": lk.latency_ms,
                "bandwidth_gbps": lk.bandwidth_gbps,
                "modelled": lk.modelled,
                "inter_hub": inter_hub,
                "meets_target": lk.latency_ms <= target,
            }
        )
    inter = [lk for lk in links if lk["inter_hub"]]
    totals = {k.value: _r(sum(h["pflops"][k.value] for h in hubs)) for k in PoolKind}
    totals["total"] = _r(sum(h["pflops"]["total"] for h in hubs))
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "title_zh": scenario.title_zh,
        "description": scenario.description,
        "time": {
            "start": scenario.time.start,
            "days": scenario.time.days,
            "dt_h": scenario.time.dt_h,
        },
        "carbon_basis": "location-based, direct (operational) grid intensity",
        "hubs": hubs,
        "totals": {
            "pflops": totals,
            "racks": sum(h.racks for h in scenario.hubs),
            "it_mw": _r(sum(h.it_mw for h in scenario.hubs)),
        },
        "regions": [
            {"id": r.id, "name": r.name, "name_zh": r.name_zh, "weight": r.weight}
            for r in scenario.regions
        ],
        "links": links,
        "latency": {
            "model": "one-way: great-circle km x route_factor x us_per_km",
            "route_factor": scenario.network.route_factor,
            "us_per_km": scenario.network.us_per_km,
            "inter_hub_target_ms": target,
            "inter_hub_pairs": len(inter),
            "inter_hub_pairs_meeting_target": sum(lk["meets_target"] for lk in inter),
        },
    }
