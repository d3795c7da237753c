"""Temperature model and the shared AR(1) / calendar helpers."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greendispatch.errors import ModelError
from greendispatch.signals.climate import (
    ar1_noise,
    modelled_temperature,
    slot_day_of_year,
    slot_solar_hour,
)
from greendispatch.signals.timegrid import TimeGrid

HOHHOT = {"lat_deg": 40.8, "lon_deg": 111.7}
CAPE_TOWN = {"lat_deg": -33.9, "lon_deg": 18.4}
CLIMATE = {"t_mean_c": 7.0, "seasonal_amp_c": 14.0, "diurnal_amp_c": 6.0}


@pytest.fixture(scope="module")
def year() -> TimeGrid:
    return TimeGrid.year(2023)


def _reference_ar1(e: np.ndarray, phi: float) -> np.ndarray:
    z = np.empty_like(e)
    z[0] = e[0]
    c = math.sqrt(1.0 - phi * phi)
    for t in range(1, len(e)):
        z[t] = phi * z[t - 1] + c * e[t]
    return z


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3000),
    dt_h=st.sampled_from([1.0, 0.5, 0.25]),
    persistence_h=st.floats(0.05, 500.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_blocked_ar1_matches_the_recursion(n, dt_h, persistence_h, seed) -> None:
    z = ar1_noise(n, dt_h, persistence_h, np.random.default_rng(seed))
    e = np.random.default_rng(seed).standard_normal(n)
    ref = _reference_ar1(e, math.exp(-dt_h / persistence_h))
    np.testing.assert_allclose(z, ref, rtol=1e-9, atol=1e-9)


def test_ar1_statistics() -> None:
    z = ar1_noise(200_000, 1.0, 10.0, np.random.default_rng(0))
    assert z.std() == pytest.approx(1.0, abs=0.05)
    assert np.corrcoef(z[:-1], z[1:])[0, 1] == pytest.approx(math.exp(-0.1), abs=0.01)
    white = ar1_noise(1000, 1.0, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(white, np.random.default_rng(0).standard_normal(1000))


def test_ar1_rejects_negative_persistence() -> None:
    with pytest.raises(ModelError):
        ar1_noise(10, 1.0, -1.0, np.random.default_rng(0))


def test_calendar_helpers_use_slot_mid_points() -> None:
    grid = TimeGrid(datetime(2023, 1, 2, tzinfo=UTC), 2)
    np.testing.assert_allclose(slot_day_of_year(grid), [1.0 + 0.5 / 24, 1.0 + 1.5 / 24])
    np.testing.assert_allclose(slot_solar_hour(grid, 0.0), [0.5, 1.5])
    np.testing.assert_allclose(slot_solar_hour(grid, -30.0), [22.5, 23.5])


@pytest.mark.parametrize("site", [HOHHOT, CAPE_TOWN])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_annual_mean(year: TimeGrid, site: dict, seed: int) -> None:
    t = modelled_temperature(year, np.random.default_rng(seed), **site, **CLIMATE)
    assert abs(t.mean() - CLIMATE["t_mean_c"]) < 0.1


def _monthly_means(grid: TimeGrid, t: np.ndarray) -> np.ndarray:
    month = grid.index().month
    return np.array([t[month == m].mean() for m in range(1, 13)])


def test_seasonal_phase_by_hemisphere(year: TimeGrid) -> None:
    north = _monthly_means(
        year, modelled_temperature(year, np.random.default_rng(0), **HOHHOT, **CLIMATE)
    )
    assert north.argmax() + 1 == 7 and north.argmin() + 1 == 1
    south = _monthly_means(
        year, modelled_temperature(year, np.random.default_rng(0), **CAPE_TOWN, **CLIMATE)
    )
    assert south.argmax() + 1 == 1 and south.argmin() + 1 == 7


def test_daily_peak_mid_afternoon_local_solar_time() -> None:
    grid = TimeGrid(datetime(2023, 4, 1, tzinfo=UTC), 96, 0.25)
    t = modelled_temperature(
        grid,
        np.random.default_rng(0),
        **HOHHOT,
        t_mean_c=10.0,
        seasonal_amp_c=0.0,
        diurnal_amp_c=5.0,
        noise_c=0.0,
    )
    peak_solar_h = slot_solar_hour(grid, HOHHOT["lon_deg"])[t.argmax()]
    assert abs(peak_solar_h - 15.0) <= 0.25
    assert t.max() - t.min() == pytest.approx(10.0, abs=0.05)


def test_temperature_is_seeded(year: TimeGrid) -> None:
    a = modelled_temperature(year, np.random.default_rng(5), **HOHHOT, **CLIMATE)
    np.testing.assert_array_equal(
        a, modelled_temperature(year, np.random.default_rng(5), **HOHHOT, **CLIMATE)
    )
    assert not np.array_equal(
        a, modelled_temperature(year, np.random.default_rng(6), **HOHHOT, **CLIMATE)
    )


@pytest.mark.parametrize("bad", [{"seasonal_amp_c": -1.0}, {"noise_c": -0.5}, {"lat_deg": 91.0}])
def test_impossible_parameters_raise(year: TimeGrid, bad: dict) -> None:
    with pytest.raises(ModelError):
        modelled_temperature(year, np.random.default_rng(0), **(HOHHOT | CLIMATE | bad))
