"""Rules every signal reader shares once its rows are parsed: the :class:`ReadReport` of what it
did with a file, the row checks (numbers in their allowed range, timestamps parseable and on one
hourly cadence) and the alignment of hourly rows onto a TimeGrid: sort, drop duplicate
timestamps, interpolate off-the-hour rows to the UTC hour starts, fill gaps, and refuse a column
with more than :data:`MAX_MISSING_SHARE` of the grid's hours missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from greendispatch.errors import DataFileError
from greendispatch.signals.timegrid import TimeGrid

MAX_MISSING_SHARE = 0.25
"""Largest share of the grid's hours that may lack a value in any column."""

_HOUR_NS = 3_600_000_000_000
_NAT = np.iinfo(np.int64).min
_FAR = _NAT + 1
"""A timestamp outside the years :data:`_FIRST_YEAR` to :data:`_LAST_YEAR`, in int64 ns arrays."""
_FIRST_YEAR, _LAST_YEAR = 1678, 2261
"""The years a timestamp may fall in: int64 nanoseconds since 1970, as pandas holds times, reach
from 1677-09-21 to 2262-04-11 only, and the margin keeps any UTC offset inside that range."""
_INF = float("inf")


@dataclass(frozen=True)
class ReadReport:
    """What a reader did with one file.

    Attributes
    ----------
    path : str
    rows_read : int
        Data rows in the file (CSV rows after the header, JSON ``hourly.time`` entries).
    rows_in_grid : int
        Rows, after dropping duplicates, whose UTC timestamp lies in the grid's hours.
    gaps_filled : int
        Grid hours with no row or an empty cell in at least one column, filled.
    duplicates_dropped : int
        Rows repeating an earlier row's UTC timestamp; the first is kept.
    dst_notes : str
        How local times were turned into UTC ("" for files in UTC).
    notes : tuple of str
        Unit conversions, alignment of off-the-hour rows, gaps per column.
    """

    path: str
    rows_read: int
    rows_in_grid: int
    gaps_filled: int = 0
    duplicates_dropped: int = 0
    dst_notes: str = ""
    notes: tuple[str, ...] = ()

    def messages(self) -> list[str]:
        """One line per fact worth telling a person, starting with a summary."""
        name = Path(self.path).name
        out = [f"{name}: {self.rows_read:,} rows read, {self.rows_in_grid:,} inside the grid"]
        if self.duplicates_dropped:
            out.append(
                f"{name}: {self.duplicates_dropped} duplicate timestamps dropped (kept first)"
            )
        if self.gaps_filled:
            out.append(
                f"{name}: {self.gaps_filled} grid hours without a value filled "
                "(linear inside, nearest value at the edges)"
            )
        out += [f"{name}: {text}" for text in (self.dst_notes, *self.notes) if text]
        return out


@dataclass(frozen=True)
class _Col:
    """A required value column: its name in the file, output key, allowed range and unit."""

    source: str
    key: str
    lo: float = -_INF
    hi: float = _INF
    unit: str = ""


def _first_problem(
    times: np.ndarray,
    values: dict[str, np.ndarray],
    cols: tuple[_Col, ...] | list[_Col],
    time_col: str = "time",
    time_text: list[str] | None = None,
) -> tuple[int, str, str] | None:
    """The earliest row that breaks a rule: (row index, column, message), or None."""
    found: list[tuple[int, str, str]] = []
    if len(times) == 0:
        return None
    bad_time, far = times == _NAT, times == _FAR
    if bad_time.any() or far.any():
        i = int(np.argmax(bad_time | far))
        shown = repr(time_text[i]) if time_text is not None else None
        if far[i]:
            found.append((i, time_col, _out_of_range_message(shown)))
        else:
            found.append((i, time_col, f"unparseable timestamp {shown or 'a timestamp'}"))
    else:
        past = times % _HOUR_NS // 60_000_000_000
        if (past != past[0]).any():
            i = int(np.argmax(past != past[0]))
            message = f"timestamp {past[i]} min past the hour, the first row {past[0]}"
            found.append((i, time_col, message + ": rows must share one hourly cadence"))
    for col in cols:
        v = values[col.key]
        bad = np.isinf(v) | (v < col.lo) | (v > col.hi)
        if bad.any():
            i = int(np.argmax(bad))
            lo, hi = f"{col.lo:,.15g}", f"{col.hi:,.15g}"
            allowed = f">= {lo}" if col.hi == _INF else f"within {lo}..{hi}"
            allowed = "finite" if col.lo == -_INF else allowed
            message = f"{v[i]:.15g} {col.unit} out of range: must be {allowed}"
            if np.isinf(v[i]):
                message = f"{v[i]:g} {col.unit}: must be a finite number"
            found.append((i, col.source, message))
    return min(found, key=lambda p: p[0]) if found else None


def _out_of_range_message(shown: str | None) -> str:
    """What is wrong with a timestamp outside the years the readers accept (``shown``: its text)."""
    shown = f"{shown}: " if shown else ""
    return f"timestamp out of range ({shown}must be in the years {_FIRST_YEAR} to {_LAST_YEAR})"


def _align(
    path: Path,
    grid: TimeGrid,
    times: np.ndarray,
    values: dict[str, np.ndarray],
    cols: tuple[_Col, ...] | list[_Col],
    dst_notes: str = "",
    notes: tuple[str, ...] = (),
) -> tuple[dict[str, np.ndarray], ReadReport]:
    """Sort, drop duplicate timestamps, interpolate onto the grid's hour starts, fill gaps."""
    order = np.argsort(times, kind="stable")
    t = times[order]
    keep = np.r_[True, t[1:] != t[:-1]]
    x = (t[keep] - int(pd.Timestamp(grid.start).as_unit("ns").value)) / _HOUR_NS
    n = grid.n_hours
    inside = (x >= 0) & (x < n)
    if not inside.any():
        first, last = (pd.Timestamp(t[i], tz="UTC") for i in (0, -1))
        fmt = "%Y-%m-%d %H:%M"
        period = f"{grid.start:{fmt}} to {grid.end:{fmt}} UTC"
        span = f"{first:{fmt}} to {last:{fmt}} UTC"
        raise DataFileError(path, f"no rows inside the grid period {period} (file covers {span})")
    hour_of_row = np.floor(x).astype(np.int64)
    on_hour = inside & (x == hour_of_row)
    out, gap_any, per_col = {}, np.zeros(n, dtype=bool), []
    for col in cols:
        v = values[col.key][order][keep]
        ok = ~np.isnan(v)
        has = np.zeros(n, dtype=bool)
        has[hour_of_row[inside & ok]] = True
        missing = n - int(has.sum())
        if missing > MAX_MISSING_SHARE * n:
            message = (
                f"{missing} of the grid's {n} hours have no value (over {MAX_MISSING_SHARE:.0%})"
            )
            raise DataFileError(path, message, column=col.source)
        hourly = np.interp(np.arange(n, dtype=np.float64), x[ok], v[ok])
        exact = on_hour & ok
        hourly[hour_of_row[exact]] = v[exact]
        out[col.key] = hourly
        gap_any |= ~has
        if missing:
            per_col.append(f"{col.source}: {missing}")
    if (~on_hour[inside]).any():
        notes += ("rows are off the hour: values interpolated to the UTC hour starts",)
    if per_col:
        notes += ("hours filled per column: " + ", ".join(per_col),)
    counts = (len(times), int(inside.sum()), int(gap_any.sum()), int((~keep).sum()))
    return out, ReadReport(str(path), *counts, dst_notes, notes)
