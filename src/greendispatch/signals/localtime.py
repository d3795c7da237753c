"""Turn parsed timestamps into UTC nanoseconds for the signal readers: UTC or offset-carrying
timestamps as they are, and naive local times (Open-Meteo's ``hourly.time``) either at the file's
fixed ``utc_offset_seconds`` or, when the series itself follows daylight saving, as wall-clock time
in its IANA ``timezone``, with a note saying which was done.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from greendispatch.errors import DataFileError
from greendispatch.signals.alignment import _FAR, _FIRST_YEAR, _HOUR_NS, _LAST_YEAR

_MAX_OFFSET_S = 18 * 3600  # the widest UTC offset ISO 8601 and zoneinfo allow


def _out_of_range(times: pd.DatetimeIndex) -> np.ndarray:
    """Which timestamps lie outside the years the readers accept (their own clock's year)."""
    year = np.asarray(times.year, dtype=np.float64)  # NaN for NaT, which is not out of range
    return (year < _FIRST_YEAR) | (year > _LAST_YEAR)


def _to_ns(times: pd.DatetimeIndex | pd.Series) -> np.ndarray:
    """UTC timestamps (tz-aware or naive UTC) as int64 ns since the epoch: NaT as int64 min
    (:data:`_NAT`), a time outside the years 1678 to 2261 UTC as :data:`_FAR`."""
    idx = pd.DatetimeIndex(times)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    far = _out_of_range(idx)
    if not far.any():
        return idx.as_unit("ns").to_numpy().view(np.int64)
    ns = idx.where(~far).as_unit("ns").to_numpy().view(np.int64).copy()
    ns[far] = _FAR
    return ns


def _local_to_utc(
    path: Path, local: pd.DatetimeIndex, tz_name: object, offset_s: object
) -> tuple[np.ndarray, str]:
    """Convert naive local labels to UTC ns: fixed offset, or wall clock if the series shows DST."""
    if local.tz is not None:
        return _to_ns(local), "timestamps carry their own UTC offset"
    zone = None
    if isinstance(tz_name, str) and tz_name:
        try:
            zone = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
    has_offset = isinstance(offset_s, int | float) and not isinstance(offset_s, bool)
    if offset_s is not None and not (has_offset and -_MAX_OFFSET_S <= offset_s <= _MAX_OFFSET_S):  # type: ignore[operator]
        message = (
            f"must be a number of seconds east of UTC, within ±{_MAX_OFFSET_S} (got {offset_s!r})"
        )
        raise DataFileError(path, message, column="utc_offset_seconds")
    if zone is None and not has_offset:
        message = "needs 'utc_offset_seconds' or an IANA 'timezone' to place local times in UTC"
        raise DataFileError(path, message, column="utc_offset_seconds")
    if zone is None:
        n_odd, wall = 0, False
    else:
        either = local.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").isna()
        nonexistent = local.tz_localize(
            zone, ambiguous=np.zeros(len(local), bool), nonexistent="NaT"
        ).isna()
        ambiguous = either & ~nonexistent
        step = np.diff(local.as_unit("ns").to_numpy().view(np.int64))
        before_gap = local[:-1][step == 2 * _HOUR_NS] + pd.Timedelta(hours=1)
        skipped = before_gap.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").isna().any()
        repeated = (ambiguous & local.duplicated(keep=False)).any()
        n_odd = int(either.sum())
        # Without a stated offset the only reading left is wall-clock time in the zone.
        wall = not has_offset or (not nonexistent.any() and (repeated or skipped))
    if wall:
        try:
            aware = local.tz_localize(zone, ambiguous="infer", nonexistent="shift_forward")
        except (ValueError, TypeError):  # an ambiguous hour that appears once: take summer time
            aware = local.tz_localize(
                zone, ambiguous=np.ones(len(local), bool), nonexistent="shift_forward"
            )
        return _to_ns(aware), (
            f"local times follow {tz_name} wall-clock time with daylight saving; {n_odd} "
            "ambiguous/non-existent local hours resolved (repeated hours in file order)"
        )
    seconds = float(offset_s)  # type: ignore[arg-type]
    sign, rest = ("+" if seconds >= 0 else "-"), divmod(abs(int(seconds)) // 60, 60)
    utc = _to_ns(local - pd.Timedelta(seconds=seconds))
    note = f"local times read at the fixed offset UTC{sign}{rest[0]:02d}:{rest[1]:02d}"
    if n_odd:
        note += (
            f"; {tz_name} daylight saving is not applied (the series has no DST jumps); "
            f"{n_odd} ambiguous/non-existent local hours resolved by that offset"
        )
    return utc, note
