import json
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from greendispatch.errors import ModelError
from greendispatch.signals.carbon import (
    PROVINCIAL_FACTORS_CITATION,
    RENEWABLE_SHARE_MAX,
    ProvincialFactor,
    load_provincial_factors,
    modelled_intensity,
    modelled_renewable_share,
)

# --- official table --------------------------------------------------------------------------


def test_thirty_provinces_load():
    factors = load_provincial_factors()
    assert len(factors) == 30
    assert all(isinstance(f, ProvincialFactor) for f in factors.values())
    assert all(code == f.code and code.startswith("CN-") for code, f in factors.items())
    assert all(100.0 < f.g_per_kwh < 800.0 for f in factors.values())


@pytest.mark.parametrize(
    ("code", "name", "name_zh", "g_per_kwh"),
    [
        ("CN-NM", "Inner Mongolia", "内蒙古", 647.9),
        ("CN-SC", "Sichuan", "四川", 156.4),
        ("CN-BJ", "Beijing", "北京", 555.4),
        ("CN-YN", "Yunnan", "云南", 133.3),
        ("CN-XJ", "Xinjiang", "新疆", 602.1),
    ],
)
def test_known_factors(code, name, name_zh, g_per_kwh):
    assert load_provincial_factors()[code] == ProvincialFactor(code, name, name_zh, g_per_kwh)


def test_every_province_has_distinct_names():
    factors = load_provincial_factors().values()
    assert len({f.name for f in factors}) == 30
    assert len({f.name_zh for f in factors}) == 30
    assert all(f.name_zh and not f.name_zh.isascii() for f in factors)


def test_returned_dict_is_a_fresh_copy():
    first = load_provincial_factors()
    first.pop("CN-NM")
    assert "CN-NM" in load_provincial_factors()


def test_packaged_file_keeps_its_citation():
    path = resources.files("greendispatch.signals").joinpath("data/cn-provincial-factors-2023.json")
    meta = json.loads(path.read_text("utf-8"))["metadata"]
    for key in ("source", "announcement", "published", "convention"):
        assert meta[key]
    assert meta["announcement"] == "2025 No. 47"
    assert meta["published"] == "2025-12-31"
    assert meta["unit"] == "gCO2/kWh"
    assert "Announcement 2025 No. 47" in PROVINCIAL_FACTORS_CITATION
    assert meta["source"].split(",")[0] in PROVINCIAL_FACTORS_CITATION


# --- renewable share -------------------------------------------------------------------------


def test_renewable_share_adds_weighted_output():
    share = modelled_renewable_share(
        base_share=0.1,
        wind_pu=np.array([0.0, 0.5, 1.0]),
        solar_pu=np.array([0.0, 1.0, 0.0]),
        wind_weight=0.4,
        solar_weight=0.2,
    )
    np.testing.assert_allclose(share, [0.1, 0.5, 0.5])


def test_renewable_share_is_clipped_at_095():
    share = modelled_renewable_share(
        base_share=0.5, wind_pu=np.ones(4), solar_pu=np.ones(4), wind_weight=1.0, solar_weight=1.0
    )
    assert np.all(share == RENEWABLE_SHARE_MAX) and RENEWABLE_SHARE_MAX == 0.95


def test_renewable_share_broadcasts_over_hubs():
    wind = np.full((2, 5), 0.5)
    share = modelled_renewable_share(
        base_share=np.array([[0.0], [0.2]]),
        wind_pu=wind,
        solar_pu=np.zeros(5),
        wind_weight=np.array([[0.2], [0.6]]),
        solar_weight=0.0,
    )
    np.testing.assert_allclose(share, [[0.1] * 5, [0.5] * 5])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"wind_pu": np.array([1.2])},
        {"solar_pu": np.array([-0.1])},
        {"wind_pu": np.array([np.nan])},
        {"base_share": 1.5},
        {"wind_weight": -0.1},
        {"solar_weight": np.inf},
    ],
)
def test_renewable_share_rejects_bad_inputs(kwargs):
    good = {
        "base_share": 0.1,
        "wind_pu": np.array([0.5]),
        "solar_pu": np.array([0.5]),
        "wind_weight": 0.3,
        "solar_weight": 0.2,
    }
    with pytest.raises(ModelError):
        modelled_renewable_share(**(good | kwargs))


# --- modelled intensity ----------------------------------------------------------------------

shares = hnp.arrays(
    np.float64,
    st.integers(1, 400),
    elements=st.floats(0.0, RENEWABLE_SHARE_MAX, allow_nan=False),
)


@settings(max_examples=200, deadline=None)
@given(share=shares, factor=st.floats(1.0, 1500.0))
def test_intensity_mean_equals_factor(share, factor):
    ci = modelled_intensity(factor, share)
    assert ci.shape == share.shape
    assert np.all(ci >= 0.0)
    assert abs(ci.mean() - factor) <= 1e-9 * factor


@settings(max_examples=100, deadline=None)
@given(
    share=hnp.arrays(np.float64, (3, 50), elements=st.floats(0.0, 1.0)).filter(
        lambda a: np.all(a.mean(axis=-1) < 1.0)
    )
)
def test_intensity_mean_per_hub_with_any_share_up_to_one(share):
    factors = np.array([647.9, 156.4, 555.4])
    ci = modelled_intensity(factors, share)
    assert np.all(ci >= 0.0)
    np.testing.assert_allclose(ci.mean(axis=-1), factors, rtol=1e-9, atol=0)


def test_intensity_is_lower_when_renewable_share_is_higher():
    share = np.array([0.1, 0.3, 0.5, 0.7, 0.2])
    ci = modelled_intensity(647.9, share)
    order = np.argsort(share)
    assert np.all(np.diff(ci[order]) < 0)
    # proportional to the non-renewable share
    np.testing.assert_allclose(ci / ci[0], (1 - share) / (1 - share[0]))


def test_intensity_with_constant_share_is_the_factor():
    np.testing.assert_allclose(modelled_intensity(156.4, np.full(8760, 0.4)), 156.4)


def test_intensity_from_modelled_share_for_inner_mongolia_year():
    rng = np.random.default_rng(7)
    hours = np.arange(8760)
    solar = np.clip(np.sin((hours % 24 - 6) / 12 * np.pi), 0, 1)
    wind = rng.uniform(0, 1, 8760)
    factor = load_provincial_factors()["CN-NM"].g_per_kwh
    share = modelled_renewable_share(
        base_share=0.05, wind_pu=wind, solar_pu=solar, wind_weight=0.35, solar_weight=0.15
    )
    ci = modelled_intensity(factor, share)
    assert abs(ci.mean() / factor - 1) < 1e-9
    # sunny middays are cleaner than nights on average
    assert ci[hours % 24 == 12].mean() < ci[hours % 24 == 0].mean()


@pytest.mark.parametrize(
    ("factor", "share"),
    [
        (-1.0, np.array([0.2])),
        (np.nan, np.array([0.2])),
        (500.0, np.array([1.1])),
        (500.0, np.array([-0.1])),
        (500.0, np.array([])),
        (500.0, np.ones(3)),
    ],
)
def test_intensity_rejects_bad_inputs(factor, share):
    with pytest.raises(ModelError):
        modelled_intensity(factor, share)


def test_hubs_on_one_provincial_grid_share_its_intensity(tmp_path):
    """Two hubs in Inner Mongolia (CN-NM) draw on one provincial grid: one hourly intensity,
    shaped by the first one's weather; a hub in Shanghai keeps its own."""
    import copy

    from greendispatch.scenario.loader import load_scenario
    from greendispatch.signals.build import build_signals
    from tests.helpers import small_scenario, write_yaml

    doc = small_scenario()
    doc["time"]["days"] = 7
    second = copy.deepcopy(doc["hubs"][0])
    second.update(id="ulanqab", name="Ulanqab", lat=41.0, lon=113.1)
    doc["hubs"].append(second)
    sig = build_signals(load_scenario(write_yaml(tmp_path / "s.yaml", doc)))
    west, east, ulanqab = (sig.hub_ids.index(h) for h in ("west", "east", "ulanqab"))
    assert np.array_equal(sig.ci_g_per_kwh[west], sig.ci_g_per_kwh[ulanqab])
    assert np.array_equal(sig.renewable_share[west], sig.renewable_share[ulanqab])
    assert not np.array_equal(sig.wind_pu[west], sig.wind_pu[ulanqab])  # own weather, own wind
    assert not np.allclose(sig.ci_g_per_kwh[west], sig.ci_g_per_kwh[east])
    assert "shared with hub west" in sig.meta[ulanqab].sources["ci_g_per_kwh"]
    # A second hub in the province with its own wind: the grid's series is still the first's.
    doc["hubs"][2]["assets"] = {"wind_mw": 80, "turbine_type": "E-126/4200"}
    doc["hubs"][2]["lat"] = 43.6
    sig2 = build_signals(load_scenario(write_yaml(tmp_path / "s2.yaml", doc)))
    assert np.array_equal(sig2.ci_g_per_kwh[ulanqab], sig.ci_g_per_kwh[west])


def test_hubs_in_one_province_with_different_mixes_are_refused(tmp_path):
    """One provincial grid has one mix: a second CN-NM hub with other weights is an error that
    names both hubs and the values, not a second, unrelated grid."""
    import copy

    from greendispatch.errors import ScenarioError
    from greendispatch.scenario.loader import load_scenario
    from greendispatch.signals.build import build_signals
    from tests.helpers import small_scenario, write_yaml

    doc = small_scenario()
    doc["hubs"][0]["grid"] = {"zone": "CN-NM", "wind_weight": 0.42, "solar_weight": 0.18}
    second = copy.deepcopy(doc["hubs"][0])
    second.update(id="ulanqab", name="Ulanqab", lat=41.0, lon=113.1)
    second["grid"] = {"zone": "CN-NM", "wind_weight": 0.30, "solar_weight": 0.18}
    doc["hubs"].append(second)
    path = write_yaml(tmp_path / "s.yaml", doc)
    with pytest.raises(ScenarioError) as err:
        build_signals(load_scenario(path))
    text = str(err.value)
    assert f"{path}:" in text and "hubs[2].grid:" in text
    assert "hub 'ulanqab' and hub 'west' are both on the modelled CN-NM grid" in text
    assert "0.3, 0.18 here" in text and "0.42, 0.18 at 'west'" in text
