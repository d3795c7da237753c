"""Where synthetic jobs come from and where they may run: the scenario's demand regions as
weighted origins with their local time and hubs by distance (:func:`demand_origins`), and for
jobs under data residency the nearest hubs having each pool kind (:func:`_allowed_sets`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from greendispatch.domain import Scenario, great_circle_km
from greendispatch.workload.jobs import ANY, POOL_KINDS


@dataclass(frozen=True)
class Origins:
    """Where jobs come from: the scenario's demand regions (ids, normalised weights) and each
    one's local-time offset (h), taken from the nearest hub's grid. A scenario without regions
    gives one anonymous origin (code 0, ``ids == ()``) at UTC+0 or the first hub's offset."""

    ids: tuple[str, ...]
    weights: np.ndarray
    utc_offset_h: np.ndarray
    nearest_hubs: tuple[tuple[str, ...], ...]  # per origin, hub ids by distance


def demand_origins(scenario: Scenario) -> Origins:
    regions = scenario.regions
    if not regions:
        off = scenario.hubs[0].grid.utc_offset_h if scenario.hubs else 0.0
        by_id = tuple(h.id for h in scenario.hubs)
        return Origins((), np.ones(1), np.array([off]), (by_id,))
    w = np.array([max(r.weight, 0.0) for r in regions], dtype=float)
    w = w / w.sum() if w.sum() > 0 else np.full(len(regions), 1.0 / len(regions))
    offsets, nearest = [], []
    for r in regions:
        km = [great_circle_km(r.lat, r.lon, h.lat, h.lon) for h in scenario.hubs]
        order = np.argsort(km, kind="stable")
        nearest.append(tuple(scenario.hubs[i].id for i in order))
        offsets.append(scenario.hubs[order[0]].grid.utc_offset_h if len(order) else 0.0)
    return Origins(tuple(r.id for r in regions), w, np.array(offsets), tuple(nearest))


def _allowed_sets(
    scenario: Scenario, org: Origins, n_hubs: int
) -> tuple[tuple[tuple[str, ...], ...], np.ndarray]:
    """Allowed-hub sets: per (origin, pool kind) the ``n_hubs`` nearest hubs having that pool
    kind. Returns the distinct sets and an (origins x pool kinds) table of codes into them."""
    has = {h.id: {p.kind for p in h.pools if p.devices > 0} for h in scenario.hubs}
    sets: list[tuple[str, ...]] = []
    table = np.full((len(org.nearest_hubs), len(POOL_KINDS)), ANY, dtype=np.int16)
    for r, near in enumerate(org.nearest_hubs):
        for p, pk in enumerate(POOL_KINDS):
            chosen = tuple(h for h in near if pk in has[h])[:n_hubs]
            if chosen:
                if chosen not in sets:
                    sets.append(chosen)
                table[r, p] = sets.index(chosen)
    return tuple(sets), table
