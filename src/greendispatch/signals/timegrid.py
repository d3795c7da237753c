"""The scenario's time grid: UTC slots of ``dt_h`` hours indexed from the scenario start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from greendispatch.errors import ModelError

ALLOWED_DT_H = (1.0, 0.5, 0.25)


@dataclass(frozen=True)
class TimeGrid:
    """Equally spaced UTC slots.

    Parameters
    ----------
    start : datetime
        Start of slot 0, timezone-aware UTC.
    n_slots : int
        Number of slots.
    dt_h : float
        Slot length in hours (1, 0.5 or 0.25).
    """

    start: datetime
    n_slots: int
    dt_h: float = 1.0

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() != timedelta(0):
            raise ModelError(f"TimeGrid.start must be timezone-aware UTC, got {self.start!r}")
        if self.dt_h not in ALLOWED_DT_H:
            raise ModelError(f"TimeGrid.dt_h must be one of {ALLOWED_DT_H}, got {self.dt_h}")
        if self.n_slots <= 0:
            raise ModelError(f"TimeGrid.n_slots must be > 0, got {self.n_slots}")

    @classmethod
    def year(cls, year: int = 2023, dt_h: float = 1.0) -> TimeGrid:
        """A whole calendar year in UTC (8,760 hourly slots for 2023)."""
        start = datetime(year, 1, 1, tzinfo=UTC)
        hours = (datetime(year + 1, 1, 1, tzinfo=UTC) - start).total_seconds() / 3600
        return cls(start, round(hours / dt_h), dt_h)

    @property
    def slots_per_hour(self) -> int:
        return round(1.0 / self.dt_h)

    @property
    def n_hours(self) -> int:
        """Number of whole hours covered (hourly data is read for these)."""
        return -(-self.n_slots // self.slots_per_hour)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.n_slots * self.dt_h)

    def index(self) -> pd.DatetimeIndex:
        """UTC timestamps of slot starts."""
        return pd.date_range(self.start, periods=self.n_slots, freq=pd.Timedelta(hours=self.dt_h))

    def hour_index(self) -> pd.DatetimeIndex:
        """UTC timestamps of the hours the grid covers."""
        return pd.date_range(self.start, periods=self.n_hours, freq="h")

    def hours_utc(self) -> np.ndarray:
        """Hours since the start, at each slot start (float64)."""
        return np.arange(self.n_slots, dtype=np.float64) * self.dt_h

    def from_hourly(self, hourly: np.ndarray) -> np.ndarray:
        """Expand an hourly series (length ``n_hours``) onto the slots by holding each value.

        Holding (not interpolating) keeps the mean of the series unchanged.
        """
        hourly = np.asarray(hourly, dtype=np.float64)
        if hourly.shape[-1] != self.n_hours:
            raise ModelError(
                f"hourly series has {hourly.shape[-1]} values, grid needs {self.n_hours}"
            )
        if self.slots_per_hour == 1:
            return hourly
        return np.repeat(hourly, self.slots_per_hour, axis=-1)[..., : self.n_slots]
