"""The built-in scenarios carry the seed's figures and the real data, aligned in UTC."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from greendispatch.scenario.loader import builtin_names, load_scenario, parse_scenario
from greendispatch.signals.build import Signals, build_signals
from tests.helpers import run_cli

EM_DIRECT = "Carbon Intensity gCO₂eq/kWh (direct)"


@pytest.fixture(scope="module")
def global16(data_dir: Path) -> Signals:
    return build_signals(load_scenario("global-16"), data_dir)


def test_builtins_listed() -> None:
    assert {"china-hubs", "global-16"} <= set(builtin_names())


def test_china_hubs_json_carries_the_seed_figures(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(["scenario", "show", "china-hubs", "--json"], capsys, monkeypatch)
    assert code == 0, err
    s = json.loads(out)
    hubs = {h["id"]: h for h in s["hubs"]}
    assert len(hubs) == 10
    hor = hubs["horinger"]
    assert hor["name_zh"].startswith("和林格尔")
    assert hor["pflops"]["total"] == 10321
    assert (hor["pflops"]["general"], hor["pflops"]["hpc"], hor["pflops"]["ai"]) == (
        1040,
        197,
        9084,
    )
    assert hor["racks"] == 220000
    assert hor["wind_mw"] + hor["solar_mw"] == 360
    assert (hor["battery_mw"], hor["battery_mwh"]) == (64.8, 259.2)
    (centre,) = hor["planned"]
    assert (centre["cabinets"], centre["cabinet_kw"], centre["pflops"]) == (664, [24, 30], 20000)
    # The modelled Inner Mongolia intensity keeps the official 2023 factor as its annual mean.
    assert hor["mean_ci_g_per_kwh"] == pytest.approx(647.9, rel=1e-3)
    assert "ci_g_per_kwh" in hor["modelled"]
    assert hor["sources"]["ci_g_per_kwh"].startswith("modelled")
    # PUE targets: western hubs <= 1.2, eastern <= 1.25, met by the modelled annual PUE.
    for h in s["hubs"]:
        assert h["pue_target"] == (1.2 if h["region"] == "west" else 1.25)
        assert h["annual_pue"] <= h["pue_target"], h["id"]
    lat = s["latency"]
    assert lat["inter_hub_pairs"] == 45
    assert 0 < lat["inter_hub_pairs_meeting_target"] <= 45


def test_china_hubs_provincial_means_match_official_factors() -> None:
    from greendispatch.signals.carbon import load_provincial_factors

    loaded = load_scenario("china-hubs")
    sig = build_signals(loaded)
    factors = load_provincial_factors()
    for i, hub in enumerate(loaded.scenario.hubs):
        assert np.mean(sig.ci_g_per_kwh[i]) == pytest.approx(
            factors[hub.grid.zone].g_per_kwh, rel=1e-9
        )
        assert sig.ci_g_per_kwh.shape == (10, 8760)
        assert np.all(sig.ci_g_per_kwh >= 0)
        assert np.all((sig.solar_pu >= 0) & (sig.solar_pu <= 1))
        assert np.all((sig.wind_pu >= 0) & (sig.wind_pu <= 1))


def test_global16_means_equal_csv_means_exactly(global16: Signals, data_dir: Path) -> None:
    assert len(global16.hub_ids) == 16
    for i, hub_id in enumerate(global16.hub_ids):
        zone = load_scenario("global-16").scenario.hubs[i].grid.zone
        raw = pd.read_csv(data_dir / "grid-2023" / f"{zone}.csv")[EM_DIRECT].to_numpy(np.float64)
        assert np.mean(global16.ci_g_per_kwh[i]) == np.mean(raw), hub_id


def test_global16_is_aligned_in_utc_across_de_dst_change(global16: Signals, data_dir: Path) -> None:
    """Across 2023-03-26 (CET->CEST) every slot holds the CSV row of the same UTC hour."""
    i = global16.hub_index("de-lu")
    df = pd.read_csv(data_dir / "grid-2023" / "DE-LU.csv")
    times = pd.to_datetime(df["Datetime (UTC)"], utc=True)
    grid_index = global16.grid.index()
    for hour in range(-3, 4):
        ts = pd.Timestamp(datetime(2023, 3, 26, 1, tzinfo=UTC)) + pd.Timedelta(hours=hour)
        slot = grid_index.get_loc(ts)
        row = int(np.flatnonzero(times == ts)[0])
        assert global16.ci_g_per_kwh[i, slot] == df[EM_DIRECT].iloc[row]
    # Prices too: the price file's UTC column, not its local one.
    prices = pd.read_csv(data_dir / "prices-2023" / "DE-LU.csv")
    ptimes = pd.to_datetime(prices["Datetime (UTC)"], utc=True)
    ts = pd.Timestamp(datetime(2023, 10, 29, 1, tzinfo=UTC))
    row = int(np.flatnonzero(ptimes == ts)[0])
    assert global16.price_per_mwh[i, grid_index.get_loc(ts)] == prices["Price (USD/MWh)"].iloc[row]


def test_global16_without_data_dir_says_where_it_looked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GREENDISPATCH_DATA", raising=False)
    code, _, err = run_cli(["scenario", "show", "global-16"], capsys, monkeypatch)
    assert code == 2
    assert "grid-2023/AU-NSW.csv" in err and "--data-dir" in err and "GREENDISPATCH_DATA" in err
    code, _, err = run_cli(
        ["scenario", "show", "global-16", "--data-dir", "/nonexistent/data"], capsys, monkeypatch
    )
    assert code == 2
    assert "/nonexistent/data/grid-2023/AU-NSW.csv" in err


def test_quarter_hour_grid_holds_hourly_values(data_dir: Path) -> None:
    text = (
        load_text("global-16").replace("dt_h: 1.0", "dt_h: 0.25").replace("days: 365", "days: 10")
    )
    loaded = parse_scenario(text, "<q>")
    sig = build_signals(loaded, data_dir)
    assert sig.ci_g_per_kwh.shape == (16, 960)
    hourly = sig.ci_g_per_kwh.reshape(16, 240, 4)
    assert np.all(hourly == hourly[:, :, :1])


def test_short_scenario_sees_the_first_days_of_the_year() -> None:
    text = load_text("china-hubs")
    full = build_signals(parse_scenario(text, "<y>"))
    short = build_signals(parse_scenario(text.replace("days: 365", "days: 3"), "<d>"))
    for name in ("temp_c", "wind_pu", "solar_pu", "price_per_mwh", "ci_g_per_kwh"):
        assert np.allclose(short.array(name), full.array(name)[:, :72], rtol=1e-7, atol=1e-9), name


def test_same_seed_same_signals_other_seed_other_weather() -> None:
    text = load_text("china-hubs")
    a = build_signals(parse_scenario(text, "<a>"))
    b = build_signals(parse_scenario(text, "<b>"))
    c = build_signals(parse_scenario(text.replace("seed: 2023", "seed: 7"), "<c>"))
    assert np.array_equal(a.wind_pu, b.wind_pu) and np.array_equal(a.ci_g_per_kwh, b.ci_g_per_kwh)
    assert not np.array_equal(a.wind_pu, c.wind_pu)
    # The annual means stay the official factors whatever the weather.
    assert np.allclose(a.ci_g_per_kwh.mean(axis=1), c.ci_g_per_kwh.mean(axis=1), rtol=1e-9)


def load_text(name: str) -> str:
    from greendispatch.scenario.loader import builtin_text

    return builtin_text(name)
