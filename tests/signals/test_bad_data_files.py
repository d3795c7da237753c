"""Bad data files named by a scenario: `scenario validate` gives one `file:LINE: field: message`
line, exit code 2, no traceback and no warning, whatever the file holds."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli, write_yaml

CARBON = "Carbon Intensity gCO₂eq/kWh (direct)"
POOL = {
    "kind": "ai",
    "device_model": "H100",
    "devices": 500,
    "pflops_per_device": 0.99,
    "kw_per_device": 1.3,
}


def _scenario(grid: dict[str, Any]) -> dict[str, Any]:
    hub = {"id": "fra", "name": "Frankfurt", "lat": 50.0879, "lon": 8.6538, "pools": [POOL]}
    return {
        "name": "de",
        "time": {"start": "2023-01-01T00:00:00Z", "days": 7},
        "hubs": [{**hub, "grid": grid}],
    }


def _csv_line(source: Path, n: int, edit: Callable[[list[str]], None]) -> str:
    """The text of ``source`` with the cells of its line ``n`` (1-based) edited."""
    lines = source.read_text(encoding="utf-8").splitlines()
    cells = lines[n - 1].split(",")
    edit(cells)
    lines[n - 1] = ",".join(cells)
    return "\n".join(lines) + "\n"


def _set_cell(i: int, value: str) -> Callable[[list[str]], None]:
    def edit(cells: list[str]) -> None:
        cells[i] = value

    return edit


def _validate(
    tmp_path: Path,
    grid: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """Validate a one-hub scenario with ``grid``; require exit 2 and a single error line,
    with no traceback and no warning, and return that line."""
    path = write_yaml(tmp_path / "s.yaml", _scenario(grid))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy or pandas warning fails the test
        code, out, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert code == 2, (out, err)
    assert "Traceback" not in err and "Warning" not in err, err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def real_data(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real data folder as GREENDISPATCH_DATA; files written next to the scenario are found
    there only when the data folder has no file of that name."""
    monkeypatch.setenv("GREENDISPATCH_DATA", str(data_dir))
    return data_dir


CARBON_GRID = {"zone": "DE-LU", "carbon": "file", "carbon_file": "g.csv"}
PRICE_GRID = {
    "zone": "DE-LU",
    "carbon": "file",
    "carbon_file": "grid-2023/DE-LU.csv",
    "price": "file",
    "price_file": "p.csv",
    "currency": "USD",
}
WEATHER_GRID = {"zone": "CN-NM", "weather_file": "w.json"}


@pytest.mark.parametrize(
    ("stamp", "shown"),
    [("2300-01-01 04:00:00", "2300-01-01 04:00:00"), ("1600-01-01", "1600-01-01")],
)
def test_carbon_timestamp_out_of_range(
    stamp: str, shown: str, tmp_path: Path, real_data: Path, capsys, monkeypatch
) -> None:
    text = _csv_line(real_data / "grid-2023" / "DE-LU.csv", 6, _set_cell(0, stamp))
    (tmp_path / "g.csv").write_text(text, encoding="utf-8")
    line = _validate(tmp_path, CARBON_GRID, capsys, monkeypatch)
    assert line.startswith(f"error: {tmp_path / 'g.csv'}:6: Datetime (UTC): ")
    assert f"timestamp out of range ('{shown}': must be in the years 1678 to 2261)" in line


def test_price_timestamp_out_of_range(tmp_path: Path, real_data: Path, capsys, monkeypatch):
    stamp = "0001-01-01 01:00:00+00:00"
    text = _csv_line(real_data / "prices-2023" / "DE-LU.csv", 6, _set_cell(0, stamp))
    (tmp_path / "p.csv").write_text(text, encoding="utf-8")
    line = _validate(tmp_path, PRICE_GRID, capsys, monkeypatch)
    assert line.startswith(f"error: {tmp_path / 'p.csv'}:6: Datetime (UTC): ")
    assert f"timestamp out of range ('{stamp}'" in line


@pytest.mark.parametrize("stamp", ["0001-01-01T05:00", "9999-12-31T23:00", "2262-01-01T00:00"])
def test_weather_time_out_of_range(
    stamp: str, tmp_path: Path, real_data: Path, capsys, monkeypatch
) -> None:
    doc = json.loads((real_data / "weather-2023" / "DE-LU.json").read_bytes())
    doc["hourly"]["time"][5] = stamp
    (tmp_path / "w.json").write_text(json.dumps(doc), encoding="utf-8")
    line = _validate(tmp_path, WEATHER_GRID, capsys, monkeypatch)
    assert line.startswith(f"error: {tmp_path / 'w.json'}: hourly.time[5]: ")
    assert f"timestamp out of range ('{stamp}': must be in the years 1678 to 2261)" in line


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 5000, "nested too deeply"),
        ('{"hourly": ' + "9" * 5000 + "}", "a number with more than 4300 digits"),
        ('{"hourly": {"time": [' + "[" * 100_000 + "]}}", "nested too deeply"),
    ],
    ids=["deep", "long-number", "deep-inside"],
)
def test_weather_json_that_python_cannot_load(
    text: str, reason: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("GREENDISPATCH_DATA", raising=False)
    (tmp_path / "w.json").write_text(text, encoding="utf-8")
    line = _validate(tmp_path, WEATHER_GRID, capsys, monkeypatch)
    assert line == f"error: {tmp_path / 'w.json'}: not valid JSON ({reason})"


def _weather_with(tmp_path: Path, real_data: Path, where: tuple[Any, ...], value: Any) -> None:
    """A copy of the real DE-LU weather file as ``w.json``, the value at ``where`` replaced."""
    doc = json.loads((real_data / "weather-2023" / "DE-LU.json").read_bytes())
    node = doc
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    (tmp_path / "w.json").write_text(json.dumps(doc), encoding="utf-8")


@pytest.mark.parametrize(
    ("where", "value", "field"),
    [
        (("hourly", "temperature_2m", 7), 10**400, "hourly.temperature_2m[7]"),
        (("latitude",), -(10**400), "latitude"),
        (("elevation",), 10**309, "elevation"),
    ],
    ids=["value", "latitude", "elevation"],
)
def test_weather_integer_too_large_for_a_float(
    where: tuple[Any, ...],
    value: int,
    field: str,
    tmp_path: Path,
    real_data: Path,
    capsys,
    monkeypatch,
) -> None:
    _weather_with(tmp_path, real_data, where, value)
    line = _validate(tmp_path, WEATHER_GRID, capsys, monkeypatch)
    assert line.startswith(f"error: {tmp_path / 'w.json'}: {field}: an integer of ")
    assert "digits, too large: expected a number of at most about 1.8e308" in line


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        (4, "1e300", f"{CARBON}: 1e+300 gCO₂eq/kWh out of range: must be within 0..5,000"),
        (5, "5000.5", "(LCA): 5000.5 gCO₂eq/kWh out of range: must be within 0..5,000"),
    ],
)
def test_carbon_intensity_above_5000(
    column: int, value: str, words: str, tmp_path: Path, real_data: Path, capsys, monkeypatch
) -> None:
    text = _csv_line(real_data / "grid-2023" / "DE-LU.csv", 6, _set_cell(column, value))
    (tmp_path / "g.csv").write_text(text, encoding="utf-8")
    line = _validate(tmp_path, CARBON_GRID, capsys, monkeypatch)
    assert line.startswith(f"error: {tmp_path / 'g.csv'}:6: ")
    assert words in line


@pytest.mark.parametrize("value", ["1e300", "-1e300", "1000000.01"])
def test_price_beyond_a_million_per_mwh(
    value: str, tmp_path: Path, real_data: Path, capsys, monkeypatch
) -> None:
    text = _csv_line(real_data / "prices-2023" / "DE-LU.csv", 6, _set_cell(2, value))
    (tmp_path / "p.csv").write_text(text, encoding="utf-8")
    line = _validate(tmp_path, PRICE_GRID, capsys, monkeypatch)
    assert line.startswith(f"error: {tmp_path / 'p.csv'}:6: Price (USD/MWh): ")
    shown = {"1e300": "1e+300", "-1e300": "-1e+300"}.get(value, value)
    assert f": {shown} USD/MWh out of range: must be within -1,000,000..1,000,000" in line


@pytest.mark.parametrize(
    ("encoding", "reason"),
    [
        ("utf-16", "(it starts with a UTF-16 byte-order mark): save it as UTF-8"),
        ("utf-16-le", "(NUL bytes in the header, as in UTF-16 text): save it as UTF-8"),
        ("utf-32", "(it starts with a UTF-32 byte-order mark): save it as UTF-8"),
        ("latin-1", "(invalid start byte): save it as UTF-8"),
    ],
)
def test_grid_csv_that_is_not_utf8(
    encoding: str, reason: str, tmp_path: Path, real_data: Path, capsys, monkeypatch
) -> None:
    text = (real_data / "grid-2023" / "DE-LU.csv").read_text(encoding="utf-8")
    if encoding == "latin-1":
        text = text.replace("₂", "2").replace("Datetime", "Datum ü", 1)
    (tmp_path / "g.csv").write_bytes(text.encode(encoding))
    line = _validate(tmp_path, CARBON_GRID, capsys, monkeypatch)
    assert line.startswith(f"error: {tmp_path / 'g.csv'}:1: not UTF-8 text (")
    assert reason in line
    assert "\\x00" not in line and "�" not in line


@pytest.mark.parametrize(
    ("where", "value", "field", "words"),
    [
        (("hourly_units", "windspeed_10m"), ["km/h"], "hourly_units.windspeed_10m",
         "unit ['km/h'] not supported; use one of km/h, m/s, mp/h, kn"),
        (("hourly", "windspeed_10m", 9), 1e300, "hourly.windspeed_10m[9]",
         "2.77777777777778e+299 m/s out of range: must be within 0..150"),
        (("hourly", "windspeed_10m", 9), 541, "hourly.windspeed_10m[9]",
         "150.277777777778 m/s out of range: must be within 0..150"),
    ],
    ids=["unit-not-text", "wind-1e300", "wind-541-km/h"],
)  # fmt: skip
def test_weather_units_and_wind(
    where: tuple[Any, ...],
    value: Any,
    field: str,
    words: str,
    tmp_path: Path,
    real_data: Path,
    capsys,
    monkeypatch,
) -> None:
    _weather_with(tmp_path, real_data, where, value)
    line = _validate(tmp_path, WEATHER_GRID, capsys, monkeypatch)
    assert line == f"error: {tmp_path / 'w.json'}: {field}: {words}"
