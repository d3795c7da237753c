"""Read hourly signal files (Electricity Maps CSV, price CSV, Open-Meteo JSON) onto a TimeGrid.

Each reader returns float64 arrays of length ``grid.n_slots`` (hourly values held over
sub-hourly slots) and a :class:`ReadReport`. A row is the value for the UTC hour starting at its
timestamp; rows at a fixed offset past the hour (India, +05:30) are linearly interpolated to the
hour starts, which for hourly means is the time-weighted mean of the two overlapping rows. Hours
without a value are filled (linear inside, nearest value at the edges); more than 25% missing in
any column is an error. The fast path is the pandas C parser plus vectorised checks; only when
something looks wrong is a file scanned line by line to report the first bad line.

This module parses the three formats; the report, row checks and alignment onto the grid that all
three share are in :mod:`greendispatch.signals.alignment`, and the conversion of local times to
UTC in :mod:`greendispatch.signals.localtime`. Their names remain importable from here.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from greendispatch.errors import DataFileError

# The report, row checks and alignment live in alignment, the conversion to UTC in localtime; the
# names marked F401 are imported only so that they stay importable from here.
from greendispatch.signals.alignment import (
    _HOUR_NS,  # noqa: F401
    _NAT,  # noqa: F401
    MAX_MISSING_SHARE,  # noqa: F401
    ReadReport,
    _align,
    _Col,
    _first_problem,
    _out_of_range_message,
)
from greendispatch.signals.localtime import (
    _MAX_OFFSET_S,  # noqa: F401
    _local_to_utc,
    _out_of_range,
    _to_ns,
)
from greendispatch.signals.timegrid import TimeGrid

NA_TEXT = ("", "NA", "NaN", "nan", "null")
"""Cell texts read as "no value" (a gap, not an error)."""
_ISO: dict = {"format": "ISO8601", "utc": True, "errors": "coerce"}


@dataclass(frozen=True, eq=False)
class GridSeries:
    """Grid carbon signals on the grid's slots.

    Attributes
    ----------
    ci_direct_g_per_kwh, ci_lca_g_per_kwh : ndarray
        Carbon intensity of consumed electricity, direct and life-cycle, gCO₂eq/kWh.
    low_carbon_share, renewable_share : ndarray
        Share of low-carbon and of renewable electricity, fraction 0..1.
    report : ReadReport
    """

    ci_direct_g_per_kwh: np.ndarray
    ci_lca_g_per_kwh: np.ndarray
    low_carbon_share: np.ndarray
    renewable_share: np.ndarray
    report: ReadReport


@dataclass(frozen=True, eq=False)
class PriceSeries:
    """Wholesale electricity price on the grid's slots, USD/MWh (may be negative)."""

    price_per_mwh: np.ndarray
    report: ReadReport


@dataclass(frozen=True, eq=False)
class WeatherSeries:
    """Weather at a site on the grid's slots.

    Attributes
    ----------
    temp_c, rh_pct, cloud_pct, wind_ms_10m : ndarray
        Air temperature at 2 m (°C), relative humidity at 2 m (%, 0..100), total cloud cover
        (%, 0..100), wind speed at 10 m (m/s).
    latitude, longitude, elevation_m : float
        Site position, degrees north and east; elevation in m (NaN if the file has none).
    timezone : str
        The file's ``timezone`` field (its local times are converted to UTC).
    report : ReadReport
    """

    temp_c: np.ndarray
    rh_pct: np.ndarray
    cloud_pct: np.ndarray
    wind_ms_10m: np.ndarray
    latitude: float
    longitude: float
    elevation_m: float
    timezone: str
    report: ReadReport


_EM_TIME = "Datetime (UTC)"
MAX_CI_G_PER_KWH = 5000.0
"""Largest grid carbon intensity a file may give, gCO₂eq/kWh: several times the dirtiest plant
(lignite, about 1,100) and grid (the 2023 files at most 790); a larger value is a unit or typing
error."""
MAX_ABS_PRICE_PER_MWH = 1_000_000.0
"""Largest wholesale price a file may give, either sign, USD/MWh: far beyond any market's price
cap (ERCOT's is 5,000 USD/MWh, the Australian NEM's 16,600 AUD/MWh in 2023-24; the 2023 files
hold -484..4,749); a larger value is a unit or typing error."""
_EM_COLS = (
    _Col("Carbon Intensity gCO₂eq/kWh (direct)", "ci_direct", 0.0, MAX_CI_G_PER_KWH, "gCO₂eq/kWh"),
    _Col("Carbon Intensity gCO₂eq/kWh (LCA)", "ci_lca", 0.0, MAX_CI_G_PER_KWH, "gCO₂eq/kWh"),
    _Col("Low Carbon Percentage", "low_carbon", 0.0, 100.0, "%"),
    _Col("Renewable Percentage", "renewable", 0.0, 100.0, "%"),
)
_PRICE_COLS = (
    _Col("Price (USD/MWh)", "price", -MAX_ABS_PRICE_PER_MWH, MAX_ABS_PRICE_PER_MWH, "USD/MWh"),
)

# Open-Meteo field names (old and new spellings), quantity, default unit, allowed range. Wind is
# bounded in m/s, after conversion: the strongest gust measured is 113 m/s and the 2023 files'
# strongest hourly mean 22 m/s, so a larger value is a unit or typing error.
_OM_FIELDS = (
    ("temp_c", ("temperature_2m",), "temperature", "°C", -90.0, 70.0),
    ("rh_pct", ("relative_humidity_2m", "relativehumidity_2m"), "percent", "%", 0.0, 100.0),
    ("cloud_pct", ("cloudcover", "cloud_cover"), "percent", "%", 0.0, 100.0),
    ("wind_ms_10m", ("windspeed_10m", "wind_speed_10m"), "speed", "km/h", 0.0, 150.0),
)
# Unit registry: quantity -> unit text -> (offset, scale) with si = (value + offset) * scale.
_UNITS: dict[str, dict[str, tuple[float, float]]] = {
    "temperature": {"°C": (0.0, 1.0), "°F": (-32.0, 5.0 / 9.0)},
    "percent": {"%": (0.0, 1.0)},
    "speed": {
        "km/h": (0.0, 1 / 3.6),
        "m/s": (0.0, 1.0),
        "mp/h": (0.0, 0.44704),
        "kn": (0.0, 0.514444),
    },
}


def read_electricitymaps_csv(path: str | Path, grid: TimeGrid) -> GridSeries:
    """Read an Electricity Maps hourly export (UTC) onto ``grid``.

    Parameters
    ----------
    path : str or Path
        CSV with ``Datetime (UTC)``, ``Carbon Intensity gCO₂eq/kWh (direct)``, ``... (LCA)``
        (gCO₂eq/kWh, 0..:data:`MAX_CI_G_PER_KWH`), ``Low Carbon Percentage`` and
        ``Renewable Percentage`` (%, 0..100).
    grid : TimeGrid
        Slots to fill.

    Returns
    -------
    GridSeries
        Intensities in gCO₂eq/kWh and shares as fractions 0..1, each of length ``grid.n_slots``.

    Raises
    ------
    DataFileError
        Missing, empty or malformed file (first bad line and column), or too little data in the
        grid's period. The price and weather readers raise the same way.
    """
    hourly, report = _read_csv(Path(path), grid, _EM_TIME, _EM_COLS)
    return GridSeries(
        _held(grid, hourly["ci_direct"]),
        _held(grid, hourly["ci_lca"]),
        _held(grid, hourly["low_carbon"] / 100.0),
        _held(grid, hourly["renewable"] / 100.0),
        report,
    )


def read_price_csv(path: str | Path, grid: TimeGrid) -> PriceSeries:
    """Read an hourly price CSV (``Datetime (UTC)``, ``Price (USD/MWh)``) onto ``grid``.

    The ``Datetime (Local)`` column is ignored. Negative prices are valid, down to
    -:data:`MAX_ABS_PRICE_PER_MWH`. Returns the price in USD/MWh per slot.
    """
    hourly, report = _read_csv(Path(path), grid, _EM_TIME, _PRICE_COLS)
    return PriceSeries(_held(grid, hourly["price"]), report)


def read_openmeteo_json(path: str | Path, grid: TimeGrid) -> WeatherSeries:
    """Read an Open-Meteo hourly JSON response onto ``grid``.

    ``hourly.time`` holds local times of the file's ``timezone``. Open-Meteo writes them at one
    fixed offset, ``utc_offset_seconds``, for the whole response (no daylight-saving jumps), and
    that offset is used. A series that does follow wall-clock daylight saving (a skipped
    spring-forward hour or a repeated fall-back hour, and no non-existent local time) is
    converted with the IANA zone instead. Units follow ``hourly_units`` (Open-Meteo's defaults
    if absent): temperature to °C, wind speed to m/s.

    Returns a :class:`WeatherSeries`: temperature °C, humidity and cloud %, wind at 10 m m/s.
    """
    path = Path(path)
    try:
        doc = json.loads(_read_bytes(path))
    except UnicodeDecodeError as exc:
        raise DataFileError(path, f"not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise DataFileError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    except RecursionError:  # nested deeper than Python's recursion limit
        raise DataFileError(path, "not valid JSON (nested too deeply)") from None
    except ValueError:  # the only other one: an integer with more digits than int() reads
        digits = sys.get_int_max_str_digits()
        raise DataFileError(
            path, f"not valid JSON (a number with more than {digits} digits)"
        ) from None
    hourly = doc.get("hourly") if isinstance(doc, dict) else None
    if not isinstance(hourly, dict):
        found = ", ".join(doc) if isinstance(doc, dict) else type(doc).__name__
        raise DataFileError(path, f"no 'hourly' object; found: {found}", column="hourly")
    units = doc.get("hourly_units") if isinstance(doc.get("hourly_units"), dict) else {}
    labels = _json_list(path, hourly, "time", (str,))
    cols, values, notes = [], {}, []
    for key, names, quantity, default, lo, hi in _OM_FIELDS:
        name = next((n for n in names if n in hourly), names[0])
        raw = _json_list(path, hourly, name, (int, float, type(None)))
        if len(raw) != len(labels):
            message = f"has {len(raw)} values, hourly.time has {len(labels)}"
            raise DataFileError(path, message, column=f"hourly.{name}")
        unit = units.get(name, default)
        if not isinstance(unit, str) or unit not in _UNITS[quantity]:
            message = f"unit {unit!r} not supported; use one of {', '.join(_UNITS[quantity])}"
            raise DataFileError(path, message, column=f"hourly_units.{name}")
        offset, scale = _UNITS[quantity][unit]
        values[key] = (_json_floats(path, raw, f"hourly.{name}") + offset) * scale
        cols.append(_Col(name, key, lo, hi, default if quantity != "speed" else "m/s"))
        if (offset, scale) != (0.0, 1.0):
            notes.append(f"{name} converted from {unit} to {cols[-1].unit}")
    if not labels:
        raise DataFileError(path, "hourly.time is empty: no data rows", column="hourly.time")
    try:
        local = pd.DatetimeIndex(pd.to_datetime(labels, format="ISO8601", errors="coerce"))
    except ValueError:  # labels with differing UTC offsets
        local = pd.DatetimeIndex(pd.to_datetime(labels, **_ISO))
    if local.isna().any():
        i = int(np.argmax(local.isna()))
        raise DataFileError(path, f"unparseable time {labels[i]!r}", column=f"hourly.time[{i}]")
    far = _out_of_range(local)
    if far.any():
        i = int(np.argmax(far))
        message = _out_of_range_message(repr(labels[i]))
        raise DataFileError(path, message, column=f"hourly.time[{i}]")
    utc, dst_note = _local_to_utc(path, local, doc.get("timezone"), doc.get("utc_offset_seconds"))
    problem = _first_problem(utc, values, cols, "time", labels)
    if problem is not None:
        row, source, message = problem
        raise DataFileError(path, message, column=f"hourly.{source}[{row}]")
    hourly_out, report = _align(path, grid, utc, values, cols, dst_note, tuple(notes))
    lat, lon = (_json_number(path, doc, k) for k in ("latitude", "longitude"))
    elevation = _json_number(path, doc, "elevation") if "elevation" in doc else float("nan")
    return WeatherSeries(
        *(_held(grid, hourly_out[key]) for key, *_ in _OM_FIELDS),
        latitude=lat,
        longitude=lon,
        elevation_m=elevation,
        timezone=str(doc.get("timezone", "")),
        report=report,
    )


# ---------------------------------------------------------------------------------- internals


def _held(grid: TimeGrid, hourly: np.ndarray) -> np.ndarray:
    out = grid.from_hourly(hourly)
    out.flags.writeable = False
    return out


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        what = (
            "is a directory, not a file"
            if path.is_dir()
            else "is not a regular file (a device or a pipe)"
            if path.exists()
            else "not found"
        )
        raise DataFileError(path, f"data file {path.name} {what} (looked at {path.resolve()})")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataFileError(path, f"data file {path.name} is empty")
    return raw


def _read_csv(
    path: Path, grid: TimeGrid, time_col: str, cols: tuple[_Col, ...]
) -> tuple[dict[str, np.ndarray], ReadReport]:
    raw = _read_bytes(path)
    first_line = raw.split(b"\n", 1)[0]
    if b"\x00" in first_line:
        raise _not_utf8(path, raw, None)
    try:
        first = first_line.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, raw, exc) from None
    try:  # the first row, also of a file whose lines end in a lone CR
        header = next(csv.reader(io.StringIO(first, newline="")), [])
    except csv.Error as exc:
        raise DataFileError(path, f"header not readable as CSV ({exc})", line=1) from None
    for name in (time_col, *(c.source for c in cols)):
        if name not in header:
            found = ", ".join(repr(h) for h in header)
            raise DataFileError(
                path, f"missing column {name!r}; columns found: {found}", line=1, column=name
            )
    # Fast path, trusted only if every line has the header's field count and nothing is flagged.
    times, values = None, {}
    n_lines = raw.count(b"\n") + (not raw.endswith(b"\n"))
    if b'"' not in raw and b"\n\n" not in raw and b"\n\r\n" not in raw:
        buf = np.frombuffer(raw, dtype=np.uint8)
        counts = np.diff(np.searchsorted(np.flatnonzero(buf == 44), np.flatnonzero(buf == 10)))
        if (raw.count(b",") == (len(header) - 1) * n_lines) and (counts == len(header) - 1).all():
            try:
                frame = pd.read_csv(
                    io.BytesIO(raw),
                    usecols=[time_col, *(c.source for c in cols)],
                    dtype={c.source: np.float64 for c in cols},
                    keep_default_na=False,
                    na_values=list(NA_TEXT),
                    encoding="utf-8-sig",
                )
                times = _to_ns(pd.to_datetime(frame[time_col], **_ISO))
                values = {c.key: frame[c.source].to_numpy(np.float64) for c in cols}
            except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
                times = None
    if times is None or _first_problem(times, values, cols, time_col) is not None:
        times, values = _scan_csv(path, raw, header, time_col, cols)
    if len(times) == 0:
        raise DataFileError(path, "has a header but no data rows", line=2)
    return _align(path, grid, times, values, cols)


def _not_utf8(path: Path, raw: bytes, exc: UnicodeDecodeError | None) -> DataFileError:
    """The error for a CSV that is not UTF-8 text: at its first bad byte's line, or line 1 for a
    header with NUL bytes (``exc`` None), saying so when a byte-order mark gives the encoding."""
    boms = [("UTF-32", codecs.BOM_UTF32_LE), ("UTF-32", codecs.BOM_UTF32_BE)]
    boms += [("UTF-16", codecs.BOM_UTF16_LE), ("UTF-16", codecs.BOM_UTF16_BE)]
    name = next((name for name, bom in boms if raw.startswith(bom)), None)
    if name is not None:
        reason, line = f"it starts with a {name} byte-order mark", 1
    elif exc is None:
        reason, line = "NUL bytes in the header, as in UTF-16 text", 1
    else:
        reason, line = exc.reason, raw[: exc.start].count(b"\n") + 1
    return DataFileError(path, f"not UTF-8 text ({reason}): save it as UTF-8", line=line)


def _scan_csv(
    path: Path, raw: bytes, header: list[str], time_col: str, cols: tuple[_Col, ...]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Parse line by line; raise at the first bad line, else return what the fast path would."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, raw, exc) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    where = [header.index(name) for name in (time_col, *(c.source for c in cols))]
    cells: list[list[str]] = [[] for _ in where]
    lines: list[int] = []  # the line each row starts on
    bad_fields, end = None, 0
    try:
        for row in reader:
            start, end = end + 1, reader.line_num
            if not row or start == 1:
                continue
            if len(row) != len(header):
                what = f"{len(row)} fields, the header has {len(header)}"
                if end > start:
                    what += f" (a quoted field runs from line {start} to {end}"
                    what += ": is a closing quote missing?)"
                bad_fields = (start, what)
                break
            lines.append(start)
            for store, j in zip(cells, where, strict=True):
                store.append(row[j])
    except csv.Error as exc:  # a field over the csv module's size limit
        bad_fields = (end + 1, f"not readable as CSV ({exc})")
    problems = [] if bad_fields is None else [(bad_fields[0], "", bad_fields[1])]
    times = _to_ns(pd.to_datetime(pd.Series(cells[0], dtype=object), **_ISO))
    values = {}
    for col, store in zip(cols, cells[1:], strict=True):
        text_cells = pd.Series(store, dtype=object).str.strip()
        values[col.key] = pd.to_numeric(text_cells, errors="coerce").to_numpy(np.float64)
        not_number = np.isnan(values[col.key]) & ~text_cells.isin(NA_TEXT).to_numpy()
        if not_number.any():
            i = int(np.argmax(not_number))
            problems.append((lines[i], col.source, f"{store[i]!r} is not a number"))
    found = _first_problem(times, values, cols, time_col, cells[0])
    if found is not None:
        problems.append((lines[found[0]], found[1], found[2]))
    if problems:
        line, column, message = min(problems, key=lambda p: p[0])
        raise DataFileError(path, message, line=line, column=column)
    return times, values


def _json_list(path: Path, hourly: dict, name: str, types: tuple[type, ...]) -> list:
    items = hourly.get(name)
    if not isinstance(items, list):
        found = ", ".join(hourly)
        what = "missing" if items is None else "not a list"
        message = f"field {what}; hourly fields found: {found}"
        raise DataFileError(path, message, column=f"hourly.{name}")
    if not set(map(type, items)) <= set(types):
        i = next(i for i, item in enumerate(items) if type(item) not in types)
        kind = "a number or null" if str not in types else "a text timestamp"
        raise DataFileError(path, f"{items[i]!r} is not {kind}", column=f"hourly.{name}[{i}]")
    return items


def _json_floats(path: Path, items: list, field: str) -> np.ndarray:
    """Numbers and nulls (NaN) as float64; an integer too large for a float is an error."""
    try:
        return np.array(items, dtype=np.float64)
    except OverflowError:
        i = next(i for i, item in enumerate(items) if _too_large(item))
        raise DataFileError(path, _too_large_message(items[i]), column=f"{field}[{i}]") from None


def _json_number(path: Path, doc: dict, name: str) -> float:
    value = doc.get(name)
    if type(value) not in (int, float):
        raise DataFileError(path, f"expected a number, found {value!r}", column=name)
    if _too_large(value):
        raise DataFileError(path, _too_large_message(value), column=name)
    return float(value)


def _too_large(item: object) -> bool:
    """Whether ``item`` is an integer beyond the largest float (about 1.8e308)."""
    if type(item) is not int:
        return False
    try:
        float(item)
    except OverflowError:
        return True
    return False


def _too_large_message(value: int) -> str:
    digits = len(str(abs(value)))
    return f"an integer of {digits} digits, too large: expected a number of at most about 1.8e308"
