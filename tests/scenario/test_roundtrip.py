"""Random valid scenarios survive export to YAML and reload unchanged."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greendispatch.domain import (
    Climate,
    DemandRegion,
    EnergyAssets,
    Grid,
    Hub,
    Link,
    Network,
    PlannedCentre,
    Pool,
    PoolKind,
    PueModel,
    Scenario,
    SignalSource,
    TimeSpec,
)
from greendispatch.scenario.dump import dump_scenario
from greendispatch.scenario.loader import load_scenario, parse_scenario

ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
# Printable text (control characters such as U+0085 are line breaks to YAML).
text = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30)
names = text.filter(lambda s: s.strip() == s and s != "")
zh = st.sampled_from(["", "和林格尔", "张家口集群", "贵安"])


def fl(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


pools = st.builds(
    Pool,
    kind=st.sampled_from(list(PoolKind)),
    device_model=names,
    devices=st.integers(1, 10**8),
    pflops_per_device=fl(1e-6, 10),
    kw_per_device=fl(1e-3, 20),
    idle_power_share=fl(0, 1),
)
pue = st.tuples(fl(1.0, 1.5), fl(0, 1.0), fl(-20, 20), fl(1, 30)).map(
    lambda t: PueModel(t[0], t[0] + t[1], t[2], t[2] + t[3])
)
battery = st.one_of(st.just((0.0, 0.0)), st.tuples(fl(0.1, 1e4), fl(0.1, 1e3)))
assets = st.tuples(fl(0, 1e4), fl(0, 1e4), battery, fl(0.5, 1), fl(0, 500)).map(
    lambda t: EnergyAssets(
        wind_mw=t[0],
        solar_mw=t[1],
        battery_mwh=t[2][0],
        battery_mw=t[2][1],
        battery_rte=t[3],
        contracted_green_mw=t[4],
    )
)
grids = st.one_of(
    st.builds(
        Grid,
        zone=st.sampled_from(["CN-NM", "CN-SH", "CN-SC"]),
        tou=st.sampled_from(["default", "solar-valley"]),
        flat_price_per_mwh=fl(0, 2000),
        renewable_base_share=fl(0, 1),
    ),
    st.builds(
        Grid,
        zone=st.sampled_from(["DE-LU", "GB"]),
        carbon=st.just(SignalSource.FILE),
        carbon_file=st.just("grid-2023/DE-LU.csv"),
        weather_file=st.sampled_from([None, "weather-2023/DE-LU.json"]),
    ),
)
climates = st.builds(Climate, t_mean_c=fl(-10, 30), wind_mean_ms=fl(1, 12), solar_cf=fl(0.05, 0.3))
planned = st.builds(
    PlannedCentre,
    name=names,
    name_zh=zh,
    kind=st.sampled_from(list(PoolKind)),
    cabinets=st.integers(1, 10000),
    cabinet_kw_min=st.just(24.0),
    cabinet_kw_max=st.just(30.0),
    pflops=fl(1, 1e5),
    online=st.sampled_from(["", "2024-06"]),
)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    hub_ids = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    currency = draw(st.sampled_from(["CNY", "USD"]))  # one per scenario: the loader refuses a mix
    region_ids = draw(st.lists(ids.filter(lambda s: s not in hub_ids), max_size=3, unique=True))
    hubs = tuple(
        Hub(
            id=h,
            name=draw(names),
            name_zh=draw(zh),
            lat=draw(fl(-90, 90)),
            lon=draw(fl(-180, 180)),
            grid=dataclasses.replace(draw(grids), currency=currency),
            pools=tuple(draw(st.lists(pools, min_size=1, max_size=3))),
            racks=draw(st.integers(0, 10**6)),
            rack_kw=draw(fl(1, 60)),
            assets=draw(assets),
            pue=draw(pue),
            climate=draw(climates),
            pue_target=draw(fl(1, 2)),
            region=draw(st.sampled_from(["west", "east"])),
            planned=tuple(draw(st.lists(planned, max_size=1))),
        )
        for h in hub_ids
    )
    regions = tuple(
        DemandRegion(
            r, draw(names), draw(zh), draw(fl(-90, 90)), draw(fl(-180, 180)), draw(fl(0.01, 5))
        )
        for r in region_ids
    )
    ends = hub_ids + region_ids
    links = ()
    if len(ends) >= 2:
        a, b = draw(st.permutations(ends))[:2]
        links = (Link(a, b, draw(fl(0.1, 100)), draw(fl(1, 1000))),)
    return Scenario(
        name=draw(ids),
        title=draw(names),
        title_zh=draw(zh),
        hubs=hubs,
        regions=regions,
        links=links,
        network=Network(route_factor=draw(fl(1, 3))),
        time=TimeSpec(days=draw(st.integers(1, 400)), dt_h=draw(st.sampled_from([1.0, 0.25]))),
        seed=draw(st.integers(0, 2**31)),
        description=draw(text),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_export_and_reload_is_identity(scenario: Scenario) -> None:
    text = dump_scenario(scenario)
    assert parse_scenario(text, "<roundtrip>").scenario == scenario


def test_builtins_round_trip() -> None:
    for name in ("china-hubs", "global-16"):
        s = load_scenario(name).scenario
        assert parse_scenario(dump_scenario(s), "<rt>").scenario == s
