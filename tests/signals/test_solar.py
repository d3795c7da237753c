"""Solar PV model: day/night, plausible capacity factors, clouds, calibration, seeding."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greendispatch.errors import ModelError
from greendispatch.signals.solar import (
    calibrate_cloud_to_cf,
    clear_sky,
    modelled_cloud_pct,
    pv_pu_from_sky,
    solar_pu,
)
from greendispatch.signals.timegrid import TimeGrid

HOHHOT = (40.8, 111.7)  # local solar noon ~04:30 UTC, midnight ~16:30 UTC


@pytest.fixture(scope="module")
def year() -> TimeGrid:
    return TimeGrid.year(2023)


@pytest.fixture(scope="module")
def june_day() -> TimeGrid:
    return TimeGrid(datetime(2023, 6, 21, tzinfo=UTC), 24)


def test_zero_at_night_and_positive_at_noon_in_june(june_day: TimeGrid) -> None:
    pu = solar_pu(june_day, *HOHHOT, 30.0)
    assert pu[4] > 0.6  # 04:00-05:00 UTC holds local solar noon
    assert np.all(pu[14:20] == 0.0)  # 14:00-20:00 UTC is local night
    assert pu.max() <= 1.0


def test_clear_sky_capacity_factor_at_hohhot_is_plausible(year: TimeGrid) -> None:
    cf = solar_pu(year, *HOHHOT, 30.0).mean()
    assert 0.2 < cf < 0.3


def test_tilt_towards_the_equator_wins_in_each_hemisphere(year: TimeGrid) -> None:
    north = solar_pu(year, *HOHHOT, 30.0, azimuth_deg=180.0).mean()
    assert north > solar_pu(year, *HOHHOT, 30.0, azimuth_deg=0.0).mean()
    south = solar_pu(year, -33.9, 18.4, 30.0, azimuth_deg=0.0).mean()
    assert south > solar_pu(year, -33.9, 18.4, 30.0, azimuth_deg=180.0).mean()


def test_cloud_reduces_output(year: TimeGrid) -> None:
    cfs = [solar_pu(year, *HOHHOT, 30.0, cloud_pct=c).mean() for c in (0.0, 50.0, 80.0, 100.0)]
    assert all(a > b for a, b in itertools.pairwise(cfs))
    clear = solar_pu(year, *HOHHOT, 30.0).mean()
    # fully overcast keeps 25 % of GHI (Kasten-Czeplak), mostly diffuse
    assert 0.1 * clear < cfs[-1] < 0.4 * clear


def test_hot_cells_produce_less(june_day: TimeGrid) -> None:
    cold = solar_pu(june_day, *HOHHOT, 30.0, temp_c=0.0)
    hot = solar_pu(june_day, *HOHHOT, 30.0, temp_c=np.full(24, 40.0))
    assert hot[4] < cold[4]
    assert hot.sum() < cold.sum()


def test_quarter_hour_grid_agrees_with_hourly(year: TimeGrid) -> None:
    quarter = TimeGrid.year(2023, dt_h=0.25)
    hourly_cf = solar_pu(year, *HOHHOT, 30.0).mean()
    assert solar_pu(quarter, *HOHHOT, 30.0).mean() == pytest.approx(hourly_cf, rel=0.01)


def test_precomputed_sky_gives_the_same_answer(june_day: TimeGrid) -> None:
    cloud = np.linspace(0.0, 100.0, 24)
    sky = clear_sky(june_day, *HOHHOT)
    direct = solar_pu(june_day, *HOHHOT, 30.0, cloud_pct=cloud)
    np.testing.assert_array_equal(pv_pu_from_sky(sky, 30.0, cloud_pct=cloud), direct)


@settings(max_examples=30, deadline=None)
@given(
    lat=st.floats(-66.0, 66.0),
    lon=st.floats(-180.0, 180.0),
    tilt=st.floats(0.0, 90.0),
    azimuth=st.floats(0.0, 360.0),
    cloud=st.floats(0.0, 100.0),
    temp=st.floats(-40.0, 50.0),
)
def test_output_is_per_unit(lat, lon, tilt, azimuth, cloud, temp) -> None:
    grid = TimeGrid(datetime(2023, 3, 20, tzinfo=UTC), 48)
    pu = solar_pu(grid, lat, lon, tilt, azimuth, cloud_pct=cloud, temp_c=temp)
    assert pu.shape == (48,)
    assert np.all((pu >= 0.0) & (pu <= 1.0))
    assert pu.max() > 0.0  # every site sees the sun on the equinox


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cloud_pct": np.zeros(23)},
        {"cloud_pct": 101.0},
        {"cloud_pct": np.nan},
        {"temp_c": np.zeros(5)},
        {"loss_fraction": 1.0},
        {"tilt_deg": 95.0},
        {"linke_turbidity": 0.0},
    ],
)
def test_impossible_parameters_raise(june_day: TimeGrid, kwargs: dict) -> None:
    args = {"tilt_deg": 30.0} | kwargs
    with pytest.raises(ModelError):
        solar_pu(june_day, *HOHHOT, **args)


def test_invalid_site_raises(june_day: TimeGrid) -> None:
    with pytest.raises(ModelError):
        solar_pu(june_day, 95.0, 0.0, 30.0)


def test_modelled_cloud_is_seeded_bounded_and_persistent(year: TimeGrid) -> None:
    a = modelled_cloud_pct(year, np.random.default_rng(7))
    np.testing.assert_array_equal(a, modelled_cloud_pct(year, np.random.default_rng(7)))
    assert not np.array_equal(a, modelled_cloud_pct(year, np.random.default_rng(8)))
    assert a.shape == (year.n_slots,)
    assert np.all((a >= 0.0) & (a <= 100.0))
    assert abs(a.mean() - 50.0) < 6.0
    assert np.corrcoef(a[:-1], a[1:])[0, 1] > 0.8


def test_modelled_cloud_follows_its_seasonal_cycle(year: TimeGrid) -> None:
    cloud = modelled_cloud_pct(year, np.random.default_rng(1), seasonal_amp_pct=25.0)
    month = year.index().month
    assert cloud[month == 1].mean() > cloud[month == 7].mean() + 20.0


def test_modelled_cloud_rejects_impossible_mean(year: TimeGrid) -> None:
    with pytest.raises(ModelError):
        modelled_cloud_pct(year, np.random.default_rng(0), mean_cloud_pct=100.0)


@pytest.mark.parametrize("target", [0.12, 0.16, 0.19])
def test_calibration_hits_the_target(year: TimeGrid, target: float) -> None:
    cloud = calibrate_cloud_to_cf(year, *HOHHOT, 30.0, target, np.random.default_rng(3))
    assert np.all((cloud >= 0.0) & (cloud <= 100.0))
    cf = solar_pu(year, *HOHHOT, 30.0, cloud_pct=cloud).mean()
    assert cf == pytest.approx(target, rel=0.005)


def test_calibration_is_seeded(year: TimeGrid) -> None:
    a = calibrate_cloud_to_cf(year, *HOHHOT, 30.0, 0.17, np.random.default_rng(3))
    b = calibrate_cloud_to_cf(year, *HOHHOT, 30.0, 0.17, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("target", [0.0, -0.1, 0.35, 0.01])
def test_calibration_rejects_unreachable_targets(year: TimeGrid, target: float) -> None:
    with pytest.raises(ModelError):
        calibrate_cloud_to_cf(year, *HOHHOT, 30.0, target, np.random.default_rng(3))
