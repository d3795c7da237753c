"""Time-of-use (TOU) electricity tariffs of the Chinese kind: peak / flat / valley (and critical).

Chinese provinces price grid electricity for industry by period of the local day: a flat price,
peak hours at a multiple of it, valley hours at a fraction of it, and in some provinces a
critical-peak (尖峰) price in a few hours of the summer months. Hourly TOU schedules are set by
each province and change often; the presets here are *modelled* typical patterns, not any
province's current official tariff.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from greendispatch.errors import ModelError
from greendispatch.signals.timegrid import TimeGrid

PERIODS = ("peak", "flat", "valley", "critical")
"""Allowed period labels."""


@dataclass(frozen=True)
class TouTable:
    """A time-of-use tariff: a flat price and a period label for each local hour.

    Prices are ``flat_price_per_mwh`` times a ratio: 1 for ``flat``, ``peak_ratio`` for ``peak``,
    ``valley_ratio`` for ``valley``. Hours labelled ``critical`` cost ``critical_ratio`` in the
    ``critical_months`` and ``peak_ratio`` in the other months.

    Parameters
    ----------
    flat_price_per_mwh : float
        Flat-period energy price, currency per MWh, >= 0.
    periods : tuple of str
        24 labels, one per local hour 0..23 (hour ``h`` covers ``h:00`` to ``h+1:00``), each one of
        ``peak``, ``flat``, ``valley``, ``critical``. A list is accepted and stored as a tuple.
    peak_ratio : float
        Peak price / flat price, >= 1 (typically 1.5-1.7).
    valley_ratio : float
        Valley price / flat price, 0..1 (typically 0.3-0.5).
    currency : str
        ISO currency code of the prices, ``"CNY"`` by default.
    critical_ratio : float or None
        Critical-peak price / flat price, >= ``peak_ratio``; required if any hour is ``critical``.
    critical_months : tuple of int
        Local calendar months (1..12) in which ``critical`` hours cost ``critical_ratio``.
    """

    flat_price_per_mwh: float
    periods: tuple[str, ...]
    peak_ratio: float
    valley_ratio: float
    currency: str = "CNY"
    critical_ratio: float | None = None
    critical_months: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "periods", tuple(self.periods))
        object.__setattr__(self, "critical_months", tuple(self.critical_months))
        check_tou_table(self)


def check_tou_table(table: TouTable) -> None:
    """Raise :class:`ModelError` unless ``table`` is a consistent TOU tariff.

    Checks: 24 period labels from :data:`PERIODS`; finite prices and ratios; flat price >= 0;
    ``0 <= valley_ratio <= 1 <= peak_ratio <= critical_ratio``; a critical ratio and months
    (1..12) whenever an hour is labelled ``critical``; a non-empty currency code.
    """
    if len(table.periods) != 24:
        raise ModelError(f"TOU table needs 24 hourly period labels, got {len(table.periods)}")
    unknown = sorted({p for p in table.periods if p not in PERIODS})
    if unknown:
        raise ModelError(f"TOU table has unknown period labels {unknown}; allowed: {PERIODS}")
    numbers = {
        "flat_price_per_mwh": table.flat_price_per_mwh,
        "peak_ratio": table.peak_ratio,
        "valley_ratio": table.valley_ratio,
    }
    if table.critical_ratio is not None:
        numbers["critical_ratio"] = table.critical_ratio
    for name, value in numbers.items():
        if not np.isfinite(value):
            raise ModelError(f"TOU table {name} must be finite, got {value}")
        if value < 0:
            raise ModelError(f"TOU table {name} must be >= 0, got {value}")
    if not table.valley_ratio <= 1.0 <= table.peak_ratio:
        raise ModelError(
            "TOU table ratios out of order: need valley_ratio <= 1 <= peak_ratio, got "
            f"valley {table.valley_ratio}, peak {table.peak_ratio}"
        )
    if table.critical_ratio is not None and table.critical_ratio < table.peak_ratio:
        raise ModelError(
            "TOU table ratios out of order: need peak_ratio <= critical_ratio, got "
            f"peak {table.peak_ratio}, critical {table.critical_ratio}"
        )
    if "critical" in table.periods and (table.critical_ratio is None or not table.critical_months):
        raise ModelError("TOU table labels critical hours but has no critical_ratio and months")
    bad_months = [m for m in table.critical_months if not (isinstance(m, int) and 1 <= m <= 12)]
    if bad_months:
        raise ModelError(f"TOU table critical_months must be integers 1..12, got {bad_months}")
    if not table.currency:
        raise ModelError("TOU table currency must be a non-empty code")


def _hourly_ratios(table: TouTable, *, critical_season: bool) -> np.ndarray:
    """Price ratio (to flat) of each local hour 0..23, in or out of the critical season."""
    critical = table.critical_ratio if critical_season else table.peak_ratio
    by_label = {
        "peak": table.peak_ratio,
        "flat": 1.0,
        "valley": table.valley_ratio,
        "critical": table.peak_ratio if critical is None else critical,
    }
    return np.array([by_label[p] for p in table.periods], dtype=np.float64)


def tou_price(grid: TimeGrid, table: TouTable, utc_offset_h: float = 8.0) -> np.ndarray:
    """Energy price of each slot under a TOU tariff, currency per MWh (``table.currency``).

    Parameters
    ----------
    grid : TimeGrid
        The UTC slots to price.
    table : TouTable
        The tariff; its hours and months are local.
    utc_offset_h : float
        Local time minus UTC, hours (8 for China Standard Time, which has no daylight saving).

    Returns
    -------
    np.ndarray
        Price per MWh at each slot, shape (n_slots,). A slot takes the period of the local hour
        in which it starts.
    """
    check_tou_table(table)
    if not np.isfinite(utc_offset_h) or abs(utc_offset_h) > 14:
        raise ModelError(f"utc_offset_h must be within +-14 h, got {utc_offset_h}")
    start = np.datetime64(grid.start.replace(tzinfo=None), "s")
    offset_s = np.rint((grid.hours_utc() + utc_offset_h) * 3600.0).astype(np.int64)
    local = start + offset_s.astype("timedelta64[s]")
    hour = (local - local.astype("datetime64[D]")).astype("timedelta64[h]").astype(np.int64)
    price = table.flat_price_per_mwh * _hourly_ratios(table, critical_season=False)[hour]
    if table.critical_months:
        month = local.astype("datetime64[M]").astype(np.int64) % 12 + 1
        in_season = np.isin(month, table.critical_months)
        season_price = table.flat_price_per_mwh * _hourly_ratios(table, critical_season=True)[hour]
        price = np.where(in_season, season_price, price)
    return price


def _labels(spans: dict[str, list[tuple[int, int]]]) -> tuple[str, ...]:
    """24 labels from ``{label: [(start_h, end_h), ...]}``; unlisted hours are flat."""
    labels = ["flat"] * 24
    for label, ranges in spans.items():
        for start_h, end_h in ranges:
            for h in range(start_h, end_h):
                labels[h % 24] = label
    return tuple(labels)


DEFAULT_TOU = TouTable(
    flat_price_per_mwh=650.0,
    periods=_labels(
        {
            "valley": [(23, 31)],
            "peak": [(8, 11), (17, 19), (21, 22)],
            "critical": [(19, 21)],
        }
    ),
    peak_ratio=1.6,
    valley_ratio=0.4,
    critical_ratio=1.6 * 1.2,
    critical_months=(7, 8),
)
"""Typical eastern-Chinese industrial TOU tariff (modelled, not an official schedule).

Local time (UTC+8): valley 23:00-07:00 at 0.4x; peak 08:00-11:00 and 17:00-22:00 at 1.6x, of
which 19:00-21:00 is critical peak at 1.92x in July and August; flat 650 CNY/MWh in the other
hours (07-08, 11-17, 22-23). Peak/valley = 4 and critical = peak + 20 % are the floors that the
2021 national TOU guidance (NDRC 2021 No. 1093) sets for provinces with a large peak-valley gap.
"""

SOLAR_VALLEY_TOU = TouTable(
    flat_price_per_mwh=420.0,
    periods=_labels(
        {
            "valley": [(23, 31), (11, 14)],
            "peak": [(17, 23)],
        }
    ),
    peak_ratio=1.5,
    valley_ratio=0.5,
)
"""TOU tariff with a midday solar valley, as in high-solar provinces (modelled).

A pattern of the kind that high-solar provinces (e.g. Inner Mongolia, Gansu) have introduced as
solar output pushed midday net load down. Local time (UTC+8): valley 23:00-07:00 and 11:00-14:00
at 0.5x; peak 17:00-23:00 at 1.5x, when solar is gone; flat 420 CNY/MWh in the other hours
(07-11, 14-17). No critical peak.
"""
