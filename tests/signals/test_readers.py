"""Readers of grid-carbon CSV, price CSV and Open-Meteo JSON: real files and hand-made ones."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greendispatch.errors import DataFileError
from greendispatch.signals.readers import (
    read_electricitymaps_csv,
    read_openmeteo_json,
    read_price_csv,
)
from greendispatch.signals.timegrid import TimeGrid

ZONES = [
    "AU-NSW",
    "AU-VIC",
    "BR-SP",
    "CA-ON",
    "CL-SIC",
    "DE-LU",
    "GB",
    "IN-WE",
    "JP-TK",
    "KR",
    "SG",
    "US-CAL-CISO",
    "US-MIDA-PJM",
    "US-NY-NYIS",
    "US-TEX-ERCO",
    "ZA",
]
PRICE_ZONES = [z for z in ZONES if z != "GB"]
YEAR = TimeGrid.year(2023)
T0 = datetime(2023, 1, 1, tzinfo=UTC)
SMALL = TimeGrid(T0, 6)  # 2023-01-01 00:00..05:00 UTC

EM_HEADER = (
    "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh (direct),"
    "Carbon Intensity gCO₂eq/kWh (LCA),Low Carbon Percentage,Renewable Percentage,"
    "Data Source,Data Estimated,Data Estimation Method"
)


def em_row(hour: int, direct: object = 100.0, pct: object = 50.0) -> str:
    """One Electricity Maps row for 2023-01-01 ``hour``:00 UTC (hours past 23 roll over)."""
    stamp = (T0 + timedelta(hours=hour)).strftime("%Y-%m-%d %H:%M:%S")
    return f"{stamp},Germany,Germany,DE,{direct},{direct},{pct},{pct},entsoe.eu,false,"


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def om_doc(labels: list[str], temps: list, tz: str = "GMT", offset: int = 0, **units) -> dict:
    n = len(labels)
    return {
        "latitude": 50.1,
        "longitude": 8.7,
        "elevation": 111.0,
        "utc_offset_seconds": offset,
        "timezone": tz,
        "hourly_units": {"time": "iso8601", "windspeed_10m": "km/h", **units},
        "hourly": {
            "time": labels,
            "temperature_2m": temps,
            "relative_humidity_2m": [50.0] * n,
            "cloudcover": [20.0] * n,
            "windspeed_10m": [36.0] * n,
        },
    }


def write_json(tmp_path: Path, doc: dict, name: str = "w.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def raw_column(path: Path, column: str) -> np.ndarray:
    with path.open(newline="", encoding="utf-8") as f:
        return np.array([float(row[column]) for row in csv.DictReader(f)])


def raise_info(call, *args) -> DataFileError:
    with pytest.raises(DataFileError) as info:
        call(*args)
    return info.value


# ------------------------------------------------------------------------------ real files


@pytest.mark.parametrize("zone", ZONES)
def test_real_grid_file_reads_a_whole_year_with_the_file_mean(data_dir: Path, zone: str):
    path = data_dir / "grid-2023" / f"{zone}.csv"
    series = read_electricitymaps_csv(path, YEAR)
    assert series.ci_direct_g_per_kwh.shape == (8760,)
    assert np.mean(series.ci_direct_g_per_kwh) == pytest.approx(
        np.mean(raw_column(path, "Carbon Intensity gCO₂eq/kWh (direct)")), rel=1e-12
    )
    assert 0.0 <= series.renewable_share.min() <= series.renewable_share.max() <= 1.0
    report = series.report
    assert (report.rows_read, report.rows_in_grid, report.gaps_filled) == (8760, 8760, 0)


@pytest.mark.parametrize("zone", PRICE_ZONES)
def test_real_price_file_reads_a_whole_year(data_dir: Path, zone: str):
    path = data_dir / "prices-2023" / f"{zone}.csv"
    price = read_price_csv(path, YEAR).price_per_mwh
    raw = raw_column(path, "Price (USD/MWh)")
    assert price.shape == (8760,)
    if zone == "IN-WE":  # rows at hh:30 UTC: each UTC hour is the mean of its two half-hours
        np.testing.assert_allclose(price[1:], (raw[:-1] + raw[1:]) / 2, rtol=1e-12)
        assert price[0] == raw[0]
    else:
        np.testing.assert_array_equal(price, raw)


def test_negative_prices_are_kept(data_dir: Path):
    price = read_price_csv(data_dir / "prices-2023" / "DE-LU.csv", YEAR).price_per_mwh
    assert price.min() < 0


@pytest.mark.parametrize("zone", ZONES)
def test_real_weather_file_reads_a_whole_year_in_utc(data_dir: Path, zone: str):
    path = data_dir / "weather-2023" / f"{zone}.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    weather = read_openmeteo_json(path, YEAR)
    assert weather.temp_c.shape == weather.wind_ms_10m.shape == (8760,)
    assert weather.timezone == doc["timezone"]
    assert weather.latitude == doc["latitude"]
    # The file's local labels sit at one fixed offset: UTC hour h is label h + offset.
    shift = doc["utc_offset_seconds"] / 3600
    if shift == int(shift):
        k = np.arange(8760) + int(shift)
        ok = (k >= 0) & (k < 8760)
        raw_temp = np.array(doc["hourly"]["temperature_2m"], dtype=float)
        raw_wind = np.array(doc["hourly"]["windspeed_10m"], dtype=float)
        np.testing.assert_array_equal(weather.temp_c[ok], raw_temp[k[ok]])
        np.testing.assert_allclose(weather.wind_ms_10m[ok], raw_wind[k[ok]] / 3.6, rtol=1e-12)
        assert weather.report.gaps_filled == abs(int(shift))


def test_de_lu_weather_has_no_dst_jump_around_the_2023_changes(data_dir: Path):
    path = data_dir / "weather-2023" / "DE-LU.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    labels = doc["hourly"]["time"]
    raw = doc["hourly"]["temperature_2m"]
    weather = read_openmeteo_json(path, YEAR)
    temp = weather.temp_c
    hour = {t: i for i, t in enumerate(YEAR.hour_index())}
    for first_utc in ("2023-03-25T22:00Z", "2023-10-28T22:00Z"):
        start = datetime.fromisoformat(first_utc)
        for step in range(8):  # eight consecutive UTC hours across the night of the change
            utc = start + timedelta(hours=step)
            local = (utc + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")  # fixed UTC+01:00
            assert temp[hour[utc]] == raw[labels.index(local)], utc
    report = weather.report
    assert "fixed offset UTC+01:00" in report.dst_notes
    assert "2 ambiguous/non-existent local hours" in report.dst_notes


def test_quarter_hour_grid_holds_the_hourly_values(data_dir: Path):
    grid = TimeGrid.year(2023, dt_h=0.25)
    hourly = read_electricitymaps_csv(data_dir / "grid-2023" / "DE-LU.csv", YEAR)
    quarter = read_electricitymaps_csv(data_dir / "grid-2023" / "DE-LU.csv", grid)
    assert quarter.ci_lca_g_per_kwh.shape == (35040,)
    np.testing.assert_array_equal(
        quarter.ci_lca_g_per_kwh.reshape(-1, 4), np.repeat(hourly.ci_lca_g_per_kwh[:, None], 4, 1)
    )
    weather = read_openmeteo_json(data_dir / "weather-2023" / "DE-LU.json", grid)
    assert weather.temp_c.shape == (35040,)
    assert np.mean(quarter.ci_lca_g_per_kwh) == pytest.approx(np.mean(hourly.ci_lca_g_per_kwh))


def test_arrays_are_read_only(data_dir: Path):
    series = read_electricitymaps_csv(data_dir / "grid-2023" / "GB.csv", YEAR)
    with pytest.raises(ValueError, match="read-only"):
        series.ci_direct_g_per_kwh[0] = 0.0


# ----------------------------------------------------------------- gaps, duplicates, units


def test_gaps_are_interpolated_inside_and_held_at_the_edges(tmp_path: Path):
    # 12 hours; no row at 00:00 or 11:00, an empty cell at 05:00: 3 of 12 missing is allowed.
    rows = [em_row(h, 10.0 * h if h != 5 else "") for h in range(1, 11)]
    series = read_electricitymaps_csv(
        write(tmp_path, "g.csv", [EM_HEADER, *rows]), TimeGrid(T0, 12)
    )
    expected = [10, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 100]
    np.testing.assert_array_equal(series.ci_direct_g_per_kwh, expected)
    assert series.report.gaps_filled == 3
    assert any("3 grid hours" in m for m in series.report.messages())


def test_duplicate_timestamps_keep_the_first_row(tmp_path: Path):
    rows = [em_row(h, 10.0 * h) for h in range(6)] + [em_row(2, 999.0), em_row(4, 999.0)]
    series = read_electricitymaps_csv(write(tmp_path, "g.csv", [EM_HEADER, *rows]), SMALL)
    np.testing.assert_array_equal(series.ci_direct_g_per_kwh, [0, 10, 20, 30, 40, 50])
    assert series.report.duplicates_dropped == 2
    assert series.report.rows_read == 8
    assert any("2 duplicate timestamps" in m for m in series.report.messages())


def test_rows_outside_the_grid_are_counted_but_not_in_grid(tmp_path: Path):
    rows = [em_row(h, 10.0 + h) for h in range(-2, 9)]
    report = read_electricitymaps_csv(write(tmp_path, "g.csv", [EM_HEADER, *rows]), SMALL).report
    assert (report.rows_read, report.rows_in_grid, report.gaps_filled) == (11, 6, 0)


def test_quoted_csv_and_blank_lines_take_the_slow_path_with_the_same_result(tmp_path: Path):
    rows = [em_row(h, 10.0 * h) for h in range(6)]
    quoted = [EM_HEADER] + [r.replace(",Germany,", ',"Germany, DE",') for r in rows]
    a = read_electricitymaps_csv(write(tmp_path, "a.csv", quoted), SMALL)
    b = read_electricitymaps_csv(
        write(tmp_path, "b.csv", [EM_HEADER, rows[0], "", *rows[1:]]), SMALL
    )
    np.testing.assert_array_equal(a.ci_direct_g_per_kwh, [0, 10, 20, 30, 40, 50])
    np.testing.assert_array_equal(b.ci_direct_g_per_kwh, a.ci_direct_g_per_kwh)


def test_lines_ending_in_a_lone_cr_read_as_lines_do(tmp_path: Path):
    rows = [em_row(h, 10.0 * h) for h in range(6)]
    path = tmp_path / "cr.csv"
    path.write_bytes("\r".join([EM_HEADER, *rows]).encode("utf-8"))
    series = read_electricitymaps_csv(path, SMALL)
    np.testing.assert_array_equal(series.ci_direct_g_per_kwh, [0, 10, 20, 30, 40, 50])


def test_csv_the_csv_module_cannot_read_names_the_line(tmp_path: Path):
    rows = [em_row(h) for h in range(6)]
    huge = '"' + "G" * 200_000 + '"'
    path = write(tmp_path, "h.csv", [EM_HEADER.replace("Country", huge), *rows])
    err = raise_info(read_electricitymaps_csv, path, SMALL)
    assert_names(err, path, 1, "")
    assert "header not readable as CSV (field larger than field limit (131072))" in str(err)
    path = write(tmp_path, "r.csv", [EM_HEADER, *rows[:4], rows[4].replace("Germany", huge, 1)])
    err = raise_info(read_electricitymaps_csv, path, SMALL)
    assert_names(err, path, 6, "")
    assert "not readable as CSV (field larger than field limit (131072))" in str(err)
    path = write(
        tmp_path,
        "q.csv",
        [EM_HEADER, *rows[:2], rows[2].replace("Germany", '"Germany', 1), *rows[3:]],
    )
    err = raise_info(read_electricitymaps_csv, path, SMALL)
    assert_names(err, path, 4, "")  # where the quote opens, not line 7 where the row ends
    assert "a quoted field runs from line 4 to 7: is a closing quote missing?" in str(err)


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(0, 23), max_size=6))
def test_present_hours_are_kept_exactly_and_missing_ones_counted(tmp_path_factory, missing):
    grid = TimeGrid(T0, 24)
    rows = [em_row(h, 100.0 + h * 1.5) for h in range(24) if h not in missing]
    path = write(tmp_path_factory.mktemp("p"), "g.csv", [EM_HEADER, *rows])
    series = read_electricitymaps_csv(path, grid)
    hours = np.array(sorted(set(range(24)) - missing))
    np.testing.assert_array_equal(series.ci_direct_g_per_kwh[hours], 100.0 + hours * 1.5)
    assert series.report.gaps_filled == len(missing)
    # A linear series is recovered inside; outside the data the edge value is held.
    expected = 100.0 + np.clip(np.arange(24), hours.min(), hours.max()) * 1.5
    np.testing.assert_allclose(series.ci_direct_g_per_kwh, expected, rtol=1e-12)


def test_wind_in_m_per_s_is_not_converted_and_fahrenheit_is(tmp_path: Path):
    labels = [f"2023-01-01T{h:02d}:00" for h in range(6)]
    doc = om_doc(labels, [50.0] * 6, windspeed_10m="m/s", temperature_2m="°F")
    weather = read_openmeteo_json(write_json(tmp_path, doc), SMALL)
    np.testing.assert_allclose(weather.wind_ms_10m, 36.0)
    np.testing.assert_allclose(weather.temp_c, 10.0)
    doc = om_doc(labels, [50.0] * 6)  # km/h
    np.testing.assert_allclose(
        read_openmeteo_json(write_json(tmp_path, doc), SMALL).wind_ms_10m, 10.0
    )


def test_wall_clock_dst_series_is_converted_with_the_zone(tmp_path: Path):
    """A series that follows Berlin wall-clock time: 02:00 skipped in March, repeated in October."""
    grid = TimeGrid(datetime(2023, 3, 25, 20, tzinfo=UTC), 8)
    spring = [datetime(2023, 3, 25, 20, tzinfo=UTC) + timedelta(hours=h) for h in range(8)]
    autumn = [datetime(2023, 10, 28, 21, tzinfo=UTC) + timedelta(hours=h) for h in range(8)]
    utc = spring + autumn
    berlin = ZoneInfo("Europe/Berlin")
    labels = [t.astimezone(berlin).strftime("%Y-%m-%dT%H:%M") for t in utc]
    assert "2023-03-26T02:00" not in labels and labels.count("2023-10-29T02:00") == 2
    temps = [float(i) for i in range(len(utc))]
    weather = read_openmeteo_json(
        write_json(tmp_path, om_doc(labels, temps, "Europe/Berlin", 3600)), grid
    )
    np.testing.assert_array_equal(weather.temp_c, temps[:8])
    grid_oct = TimeGrid(autumn[0], 8)
    path = write_json(tmp_path, om_doc(labels, temps, "Europe/Berlin", 3600), "b.json")
    october = read_openmeteo_json(path, grid_oct)
    np.testing.assert_array_equal(october.temp_c, temps[8:])
    assert "wall-clock" in october.report.dst_notes
    assert october.report.duplicates_dropped == 0


def test_gmt_and_fixed_half_hour_offsets(tmp_path: Path):
    labels = [f"2023-01-01T{h:02d}:00" for h in range(8)]
    temps = [float(h) for h in range(8)]
    gmt = read_openmeteo_json(write_json(tmp_path, om_doc(labels, temps)), SMALL)
    np.testing.assert_array_equal(gmt.temp_c, temps[:6])
    india = om_doc(labels, temps, "Asia/Kolkata", 19800)  # label h = UTC h - 5:30
    grid = TimeGrid(datetime(2022, 12, 31, 19, tzinfo=UTC), 6)
    weather = read_openmeteo_json(write_json(tmp_path, india, "in.json"), grid)
    np.testing.assert_allclose(weather.temp_c, [0.5, 1.5, 2.5, 3.5, 4.5, 5.5])
    assert "UTC+05:30" in weather.report.dst_notes


# ------------------------------------------------------------------------------ errors


def assert_names(err: DataFileError, path: Path, line: int | None, column: str):
    text = str(err)
    assert path.name in text
    assert err.line == line
    if line is not None:
        assert f"{path.name}:{line}:" in text
    assert err.column == column
    assert column in text
    assert err.exit_code == 2


def test_missing_file_names_the_absolute_path(tmp_path: Path):
    path = tmp_path / "nowhere" / "DE-LU.csv"
    err = raise_info(read_electricitymaps_csv, path, SMALL)
    assert "DE-LU.csv" in str(err)
    assert str(path.resolve()) in str(err)
    assert "not found" in str(err)


def test_empty_file(tmp_path: Path):
    path = write(tmp_path, "empty.csv", [""])
    assert "is empty" in str(raise_info(read_price_csv, path, SMALL))


def test_header_only_file(tmp_path: Path):
    path = write(tmp_path, "h.csv", [EM_HEADER])
    assert "no data rows" in str(raise_info(read_electricitymaps_csv, path, SMALL))


def test_missing_column_lists_the_columns_found(tmp_path: Path):
    path = write(tmp_path, "p.csv", ["Datetime (UTC),Datetime (Local),Price (EUR/MWh)"])
    err = raise_info(read_price_csv, path, SMALL)
    assert_names(err, path, 1, "Price (USD/MWh)")
    assert "'Price (EUR/MWh)'" in str(err)


@pytest.mark.parametrize(
    ("bad_row", "column", "words"),
    [
        (em_row(3, "abc"), "Carbon Intensity gCO₂eq/kWh (direct)", "'abc' is not a number"),
        (em_row(3) + ",extra", "", "12 fields, the header has 11"),
        (em_row(3).rsplit(",", 4)[0], "", "7 fields"),
        ("2023-13-45 99:00:00" + em_row(3)[19:], "Datetime (UTC)", "unparseable timestamp"),
        (
            em_row(3, -5.0),
            "Carbon Intensity gCO₂eq/kWh (direct)",
            "-5 gCO₂eq/kWh out of range: must be within 0..5,000",
        ),
        (em_row(3, 100.0, 100.5), "Low Carbon Percentage", "within 0..100"),
        (em_row(3, "inf"), "Carbon Intensity gCO₂eq/kWh (direct)", "must be a finite number"),
    ],
)
def test_malformed_row_is_reported_at_its_line(tmp_path: Path, bad_row, column, words):
    rows = [em_row(0), em_row(1), em_row(2), bad_row, em_row(4), em_row(5)]
    path = write(tmp_path, "DE.csv", [EM_HEADER, *rows])
    err = raise_info(read_electricitymaps_csv, path, SMALL)
    assert_names(err, path, 5, column)  # header is line 1, so the 4th row is line 5
    assert words in str(err)


def test_first_bad_line_wins_and_blank_lines_count(tmp_path: Path):
    lines = [EM_HEADER, em_row(0), "", em_row(1, -1.0), em_row(2, "oops"), em_row(3)]
    path = write(tmp_path, "DE.csv", lines)
    err = raise_info(read_electricitymaps_csv, path, SMALL)
    assert_names(err, path, 4, "Carbon Intensity gCO₂eq/kWh (direct)")  # not 'oops' on line 5


def test_price_text_and_off_cadence_timestamp(tmp_path: Path):
    head = "Datetime (UTC),Datetime (Local),Price (USD/MWh)"
    prices = [-3.5, -1.0, 0.0, 12.25, 80.0, -484.4]
    ok = [
        f"2023-01-01 0{h}:00:00+00:00,2023-01-01 0{h + 1}:00:00+01:00,{p}"
        for h, p in enumerate(prices)
    ]
    series = read_price_csv(write(tmp_path, "p.csv", [head, *ok]), SMALL)
    np.testing.assert_array_equal(series.price_per_mwh, prices)
    bad = [*ok[:4], "2023-01-01 04:15:00+00:00,x,1.0"]
    err = raise_info(read_price_csv, write(tmp_path, "q.csv", [head, *bad]), SMALL)
    assert_names(err, tmp_path / "q.csv", 6, "Datetime (UTC)")
    assert "15 min past the hour" in str(err)


def test_empty_cells_are_gaps_not_errors_until_a_quarter_is_missing(tmp_path: Path):
    rows = [em_row(0), em_row(1, 50.0, ""), em_row(2), em_row(3), em_row(4), em_row(5)]
    report = read_electricitymaps_csv(write(tmp_path, "a.csv", [EM_HEADER, *rows]), SMALL).report
    assert report.gaps_filled == 1
    rows[3] = em_row(3, 50.0, "")
    path = write(tmp_path, "b.csv", [EM_HEADER, *rows])
    err = raise_info(read_electricitymaps_csv, path, SMALL)
    assert_names(err, path, None, "Low Carbon Percentage")
    assert "2 of the grid's 6 hours have no value" in str(err)


def test_no_rows_inside_the_grid(tmp_path: Path):
    path = write(tmp_path, "old.csv", [EM_HEADER, em_row(-48), em_row(-47)])
    err = raise_info(read_electricitymaps_csv, path, SMALL)
    assert "no rows inside the grid period 2023-01-01 00:00 to 2023-01-01 06:00 UTC" in str(err)
    assert "2022-12-30 00:00" in str(err)


def test_json_errors_name_the_field(tmp_path: Path):
    labels = [f"2023-01-01T{h:02d}:00" for h in range(6)]
    path = tmp_path / "broken.json"
    path.write_text('{\n  "hourly": {\n    "time": [,]\n  }\n}\n', encoding="utf-8")
    assert_names(raise_info(read_openmeteo_json, path, SMALL), path, 3, "")
    doc = om_doc(labels, [1.0, 2.0, "warm", 4.0, 5.0, 6.0])
    err = raise_info(read_openmeteo_json, write_json(tmp_path, doc, "t.json"), SMALL)
    assert_names(err, tmp_path / "t.json", None, "hourly.temperature_2m[2]")
    doc = om_doc(labels, [1.0] * 6)
    doc["hourly"]["relative_humidity_2m"][4] = 101.0
    err = raise_info(read_openmeteo_json, write_json(tmp_path, doc, "rh.json"), SMALL)
    assert_names(err, tmp_path / "rh.json", None, "hourly.relative_humidity_2m[4]")
    del doc["hourly"]["cloudcover"]
    err = raise_info(read_openmeteo_json, write_json(tmp_path, doc, "c.json"), SMALL)
    assert_names(err, tmp_path / "c.json", None, "hourly.cloudcover")
    assert "windspeed_10m" in str(err)  # lists the fields found
    doc = om_doc(labels, [1.0] * 5)
    err = raise_info(read_openmeteo_json, write_json(tmp_path, doc, "n.json"), SMALL)
    assert_names(err, tmp_path / "n.json", None, "hourly.temperature_2m")
    doc = om_doc(labels, [1.0] * 6, windspeed_10m="furlong/fortnight")
    err = raise_info(read_openmeteo_json, write_json(tmp_path, doc, "u.json"), SMALL)
    assert_names(err, tmp_path / "u.json", None, "hourly_units.windspeed_10m")
    doc = om_doc([*labels[:5], "yesterday"], [1.0] * 6)
    err = raise_info(read_openmeteo_json, write_json(tmp_path, doc, "d.json"), SMALL)
    assert_names(err, tmp_path / "d.json", None, "hourly.time[5]")
    doc = om_doc(labels, [1.0] * 6)
    doc["utc_offset_seconds"] = "abc"  # not ignored in favour of the timezone
    err = raise_info(read_openmeteo_json, write_json(tmp_path, doc, "o.json"), SMALL)
    assert_names(err, tmp_path / "o.json", None, "utc_offset_seconds")
    assert "must be a number of seconds east of UTC, within ±64800 (got 'abc')" in str(err)
    for bad in (10**20, 2**63, 1e300, 20 * 3600):  # no overflow deep in pandas either
        doc["utc_offset_seconds"] = bad
        err = raise_info(read_openmeteo_json, write_json(tmp_path, doc, "o.json"), SMALL)
        assert_names(err, tmp_path / "o.json", None, "utc_offset_seconds")


def test_json_nulls_are_gaps(tmp_path: Path):
    labels = [f"2023-01-01T{h:02d}:00" for h in range(6)]
    doc = om_doc(labels, [1.0, None, 3.0, 4.0, 5.0, 6.0])
    weather = read_openmeteo_json(write_json(tmp_path, doc), SMALL)
    np.testing.assert_array_equal(weather.temp_c, [1, 2, 3, 4, 5, 6])
    assert weather.report.gaps_filled == 1
