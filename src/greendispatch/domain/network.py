"""Links between demand regions and hubs: given in the scenario or modelled from distance."""

from __future__ import annotations

from itertools import combinations

from greendispatch.domain.model import Link, Network, Scenario, great_circle_km


def modelled_latency_ms(distance_km: float, network: Network) -> float:
    """One-way latency (ms) over fibre: km x route factor x us/km / 1000."""
    return distance_km * network.route_factor * network.us_per_km / 1000.0


def link_table(scenario: Scenario) -> list[Link]:
    """Every region-to-hub and hub-to-hub link: the scenario's own links first, then modelled
    links for the pairs it does not give."""
    given = {frozenset((lk.a, lk.b)): lk for lk in scenario.links}
    points = {h.id: (h.lat, h.lon) for h in scenario.hubs}
    points.update({r.id: (r.lat, r.lon) for r in scenario.regions})
    pairs = [(r.id, h.id) for r in scenario.regions for h in scenario.hubs]
    pairs += list(combinations([h.id for h in scenario.hubs], 2))
    out: list[Link] = []
    for a, b in pairs:
        key = frozenset((a, b))
        if key in given:
            out.append(given[key])
            continue
        km = great_circle_km(*points[a], *points[b])
        out.append(
            Link(
                a,
                b,
                round(modelled_latency_ms(km, scenario.network), 3),
                scenario.network.default_bandwidth_gbps,
                modelled=True,
            )
        )
    return out


def latency_matrix_ms(scenario: Scenario) -> dict[tuple[str, str], float]:
    """Latency for both directions of every link in :func:`link_table`."""
    out: dict[tuple[str, str], float] = {}
    for lk in link_table(scenario):
        out[(lk.a, lk.b)] = out[(lk.b, lk.a)] = lk.latency_ms
    return out
