from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from greendispatch.errors import ModelError
from greendispatch.signals.tariff import (
    DEFAULT_TOU,
    PERIODS,
    SOLAR_VALLEY_TOU,
    TouTable,
    check_tou_table,
    tou_price,
)
from greendispatch.signals.timegrid import TimeGrid

SIMPLE = TouTable(
    flat_price_per_mwh=500.0,
    periods=["valley"] * 8 + ["flat"] * 9 + ["peak"] * 5 + ["critical"] * 2,
    peak_ratio=1.6,
    valley_ratio=0.4,
    critical_ratio=2.0,
    critical_months=(7,),
)


def _day(year=2023, month=1, day=10, dt_h=1.0, start_hour=0):
    return TimeGrid(datetime(year, month, day, start_hour, tzinfo=UTC), round(24 / dt_h), dt_h)


def test_presets_are_valid_and_typical():
    for table in (DEFAULT_TOU, SOLAR_VALLEY_TOU):
        check_tou_table(table)
        assert table.currency == "CNY"
        assert 1.5 <= table.peak_ratio <= 1.7
        assert 0.3 <= table.valley_ratio <= 0.5
        assert len(table.periods) == 24 and set(table.periods) <= set(PERIODS)
    # valley 23-07 in both; midday valley 11-14 only in the solar preset
    for h in (23, 0, 3, 6):
        assert DEFAULT_TOU.periods[h] == SOLAR_VALLEY_TOU.periods[h] == "valley"
    for h in (11, 12, 13):
        assert SOLAR_VALLEY_TOU.periods[h] == "valley"
        assert DEFAULT_TOU.periods[h] == "flat"
    assert SOLAR_VALLEY_TOU.periods[14] == "flat" and SOLAR_VALLEY_TOU.periods[18] == "peak"
    assert DEFAULT_TOU.periods[9] == "peak" and DEFAULT_TOU.periods[19] == "critical"


def test_price_follows_table_by_local_hour():
    grid = _day()  # 2023-01-10 00:00 UTC = 08:00 in China
    price = tou_price(grid, SIMPLE, utc_offset_h=8.0)
    ratio = {"valley": 0.4, "flat": 1.0, "peak": 1.6, "critical": 1.6}  # January: no critical
    expected = [500.0 * ratio[SIMPLE.periods[(h + 8) % 24]] for h in range(24)]
    np.testing.assert_allclose(price, expected)


def test_utc_plus_8_at_a_known_hour():
    # 15:00 UTC is 23:00 in Beijing: valley in both presets; 01:00 UTC is 09:00: peak (default)
    grid = _day()
    default = tou_price(grid, DEFAULT_TOU)
    assert default[15] == pytest.approx(650.0 * 0.4)
    assert default[1] == pytest.approx(650.0 * 1.6)
    assert default[14] == pytest.approx(650.0)  # 22:00 local is flat
    solar = tou_price(grid, SOLAR_VALLEY_TOU)
    assert solar[4] == pytest.approx(420.0 * 0.5)  # 12:00 local, midday valley
    assert solar[10] == pytest.approx(420.0 * 1.5)  # 18:00 local, evening peak


def test_utc_offset_zero_reads_the_table_directly():
    price = tou_price(_day(), SIMPLE, utc_offset_h=0.0)
    assert price[0] == pytest.approx(200.0) and price[8] == pytest.approx(500.0)
    assert price[17] == pytest.approx(800.0)


def test_ratios_hold_between_periods():
    price = tou_price(TimeGrid.year(2023), DEFAULT_TOU)
    valley, flat, peak = 650.0 * 0.4, 650.0, 650.0 * 1.6
    expected = {round(v, 6) for v in (valley, flat, peak, peak * 1.2)}
    assert set(np.round(np.unique(price), 6)) == expected
    assert peak / valley == pytest.approx(4.0)


def test_critical_only_in_critical_months_in_local_time():
    # 2023-06-30 16:00 UTC is 2023-07-01 00:00 in Beijing
    grid = TimeGrid(datetime(2023, 6, 30, 0, tzinfo=UTC), 48)
    price = tou_price(grid, SIMPLE)
    local_hour = (np.arange(48) + 8) % 24
    is_crit_hour = np.isin(local_hour, (22, 23))
    june = np.arange(48) < 16
    assert np.all(price[is_crit_hour & june] == pytest.approx(800.0))  # peak outside July
    assert np.all(price[is_crit_hour & ~june] == pytest.approx(1000.0))  # critical in July


def test_quarter_hour_slots_take_the_hour_they_start_in():
    grid = _day(dt_h=0.25)
    price = tou_price(grid, SIMPLE, utc_offset_h=0.0)
    assert price.shape == (96,)
    np.testing.assert_allclose(price.reshape(24, 4), np.repeat(price[::4, None], 4, axis=1))
    np.testing.assert_allclose(price[::4], tou_price(_day(), SIMPLE, utc_offset_h=0.0))


def test_fractional_offset():
    # UTC+5:30: 02:30 UTC is 08:00 local
    grid = TimeGrid(datetime(2023, 1, 10, 0, tzinfo=UTC), 8, 0.5)
    price = tou_price(grid, SIMPLE, utc_offset_h=5.5)
    assert price[4] == pytest.approx(200.0)  # 02:00 UTC = 07:30 local: valley
    assert price[5] == pytest.approx(500.0)  # 02:30 UTC = 08:00 local: flat


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"periods": ["flat"] * 23}, "24"),
        ({"periods": ["flat"] * 23 + ["offpeak"]}, "unknown"),
        ({"flat_price_per_mwh": -1.0}, ">= 0"),
        ({"flat_price_per_mwh": np.nan}, "finite"),
        ({"valley_ratio": -0.1}, ">= 0"),
        ({"valley_ratio": 1.2}, "out of order"),
        ({"peak_ratio": 0.9}, "out of order"),
        ({"critical_ratio": 1.5}, "out of order"),
        ({"critical_ratio": None}, "critical"),
        ({"critical_months": ()}, "critical"),
        ({"critical_months": (13,)}, "1..12"),
        ({"currency": ""}, "currency"),
    ],
)
def test_bad_tables_raise(changes, message):
    with pytest.raises(ModelError, match=message):
        replace(SIMPLE, **changes)


def test_bad_offset_raises():
    with pytest.raises(ModelError):
        tou_price(_day(), SIMPLE, utc_offset_h=20.0)
