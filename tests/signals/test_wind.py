"""Wind model: bundled power curves, hub-height correction, modelled wind speed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from greendispatch.errors import ModelError
from greendispatch.signals.timegrid import TimeGrid
from greendispatch.signals.wind import (
    DEFAULT_TURBINE,
    available_turbine_types,
    modelled_wind_speed,
    turbine_power_curve,
    wind_pu,
)


@pytest.fixture(scope="module")
def year() -> TimeGrid:
    return TimeGrid.year(2023)


def test_default_turbine_is_bundled_and_its_curve_is_per_unit() -> None:
    types = available_turbine_types()
    assert DEFAULT_TURBINE in types
    assert len(types) > 20
    speeds, power = turbine_power_curve(DEFAULT_TURBINE)
    assert np.all(np.diff(speeds) > 0.0)
    assert np.all((power >= 0.0) & (power <= 1.0))
    assert power.max() == pytest.approx(1.0)


def test_curve_is_cached_and_read_only() -> None:
    _, power = turbine_power_curve(DEFAULT_TURBINE)
    assert turbine_power_curve(DEFAULT_TURBINE)[1] is power
    with pytest.raises(ValueError):
        power[0] = 0.5


def test_unknown_turbine_lists_close_names() -> None:
    with pytest.raises(ModelError, match="V126/3300"):
        turbine_power_curve("V126-3300")


def test_zero_below_cut_in_and_above_cut_out_and_full_at_rated() -> None:
    speeds, power = turbine_power_curve(DEFAULT_TURBINE)
    cut_in = speeds[np.argmax(power > 0.0)]
    cut_out = speeds[-1]
    v = np.array([0.0, cut_in - 0.5, 13.0, 15.0, cut_out + 0.5, 40.0])
    pu = wind_pu(v, 100.0, 100.0, availability=1.0)
    np.testing.assert_allclose(pu, [0.0, 0.0, 1.0, 1.0, 0.0, 0.0], atol=1e-9)


def test_availability_scales_output() -> None:
    assert wind_pu([15.0], 100.0, 100.0, availability=0.9)[0] == pytest.approx(0.9)


def test_hub_height_correction_raises_the_speed() -> None:
    v = np.array([5.0, 7.0, 9.0])  # on the rising part of the curve
    low = wind_pu(v, 50.0, 50.0)
    high = wind_pu(v, 50.0, 150.0)
    assert np.all(high > low)
    # Hellman 1/7: (150/50)**(1/7) = 1.17 -> same as feeding 1.17 x the speed at 50 m
    np.testing.assert_allclose(high, wind_pu(v * 3.0 ** (1 / 7), 50.0, 50.0))


@given(st.lists(st.floats(0.0, 60.0), min_size=1, max_size=50), st.floats(0.0, 1.0))
def test_output_between_zero_and_availability(speeds: list[float], availability: float) -> None:
    pu = wind_pu(speeds, 10.0, 120.0, availability=availability)
    assert np.all((pu >= 0.0) & (pu <= availability + 1e-12))


@pytest.mark.parametrize(
    "kwargs",
    [{"ref_height_m": 0.0}, {"availability": 1.2}, {"wind_speed_ms": [-1.0]}],
)
def test_impossible_parameters_raise(kwargs: dict) -> None:
    args = {"wind_speed_ms": [5.0], "ref_height_m": 10.0, "hub_height_m": 100.0} | kwargs
    with pytest.raises(ModelError):
        wind_pu(**args)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_modelled_mean_and_autocorrelation(year: TimeGrid, seed: int) -> None:
    v = modelled_wind_speed(year, np.random.default_rng(seed), mean_ms=7.5)
    assert v.mean() == pytest.approx(7.5, rel=0.01)
    assert np.all(v >= 0.0)
    assert np.corrcoef(v[:-1], v[1:])[0, 1] > 0.5


def test_modelled_wind_is_seeded(year: TimeGrid) -> None:
    a = modelled_wind_speed(year, np.random.default_rng(11))
    np.testing.assert_array_equal(a, modelled_wind_speed(year, np.random.default_rng(11)))
    assert not np.array_equal(a, modelled_wind_speed(year, np.random.default_rng(12)))


def test_unmodulated_marginal_is_weibull(year: TimeGrid) -> None:
    v = modelled_wind_speed(
        year, np.random.default_rng(5), weibull_k=2.0, diurnal_amp=0.0, seasonal_amp=0.0
    )
    # Weibull k=2: coefficient of variation sqrt(G(2)/G(1.5)**2 - 1) = 0.523
    cv = math.sqrt(math.gamma(2.0) / math.gamma(1.5) ** 2 - 1.0)
    assert v.std() / v.mean() == pytest.approx(cv, rel=0.1)


def test_winter_and_spring_are_windier_in_the_north(year: TimeGrid) -> None:
    month = year.index().month
    north = modelled_wind_speed(year, np.random.default_rng(4), lat_deg=45.0)
    assert north[month <= 3].mean() > north[(month >= 7) & (month <= 9)].mean()
    south = modelled_wind_speed(year, np.random.default_rng(4), lat_deg=-35.0)
    assert south[month <= 3].mean() < south[(month >= 7) & (month <= 9)].mean()


@pytest.mark.parametrize(
    "kwargs", [{"mean_ms": 0.0}, {"weibull_k": -1.0}, {"diurnal_amp": 0.6, "seasonal_amp": 0.5}]
)
def test_modelled_wind_rejects_impossible_parameters(year: TimeGrid, kwargs: dict) -> None:
    with pytest.raises(ModelError):
        modelled_wind_speed(year, np.random.default_rng(0), **kwargs)
