"""Modelled weather: ambient temperature, cloud cover, and the calendar and AR(1) helpers
that these and the wind model share.

All functions are pure: they take a :class:`~greendispatch.signals.timegrid.TimeGrid`, numbers
and a seeded :class:`numpy.random.Generator`, and return float64 arrays of one value per slot.
Times are taken at each slot's mid-point.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from greendispatch.errors import ModelError
from greendispatch.signals.timegrid import TimeGrid

DAYS_PER_YEAR = 365.25

#: Day of year (fractional, 0 = 1 January 00:00 UTC) of the warmest day, by hemisphere.
T_PEAK_DOY_NORTH = 205.0  # 25 July
T_PEAK_DOY_SOUTH = 14.0  # 15 January
#: Local mean solar hour of the daily temperature maximum.
T_PEAK_SOLAR_HOUR = 15.0

#: Spread of the probit-normal cloud distribution: values near 0 and 100 % are common.
CLOUD_SPREAD = 1.5

# exp(600) ~ 4e260: largest growth factor the blocked AR(1) scan lets a block reach.
_MAX_LOG_GROWTH = 600.0
# Above this decay per slot (phi < 2e-12) an AR(1) process is white noise to float precision.
_WHITE_DECAY = 27.0


def slot_day_of_year(grid: TimeGrid) -> np.ndarray:
    """Fractional day of year at each slot mid-point, 0 at 1 January 00:00 UTC (float64, days)."""
    mid = grid.index() + pd.Timedelta(hours=0.5 * grid.dt_h)
    hour = mid.hour.to_numpy() + mid.minute.to_numpy() / 60.0
    return (mid.day_of_year.to_numpy() - 1) + hour / 24.0


def slot_solar_hour(grid: TimeGrid, lon_deg: float) -> np.ndarray:
    """Local mean solar time at each slot mid-point (hours, 0..24).

    Parameters
    ----------
    grid : TimeGrid
    lon_deg : float
        Longitude in degrees east (-180..180); 15 degrees = 1 hour.
    """
    mid_h = grid.hours_utc() + 0.5 * grid.dt_h + grid.start.hour + grid.start.minute / 60.0
    return np.mod(mid_h + lon_deg / 15.0, 24.0)


def ar1_noise(
    n_slots: int, dt_h: float, persistence_h: float, rng: np.random.Generator
) -> np.ndarray:
    """Stationary Gaussian AR(1) series with unit variance.

    ``z[t] = phi * z[t-1] + sqrt(1 - phi**2) * e[t]`` with ``phi = exp(-dt_h / persistence_h)``
    and ``z[0] = e[0]``, so every value is N(0, 1) and the autocorrelation at lag ``L`` hours is
    ``exp(-L / persistence_h)``. The recursion is evaluated in closed form over blocks (a scaled
    cumulative sum), not by a Python loop over slots.

    Parameters
    ----------
    n_slots : int
        Length of the series.
    dt_h : float
        Slot length in hours.
    persistence_h : float
        e-folding time of the autocorrelation in hours (>= 0; 0 gives white noise).
    rng : numpy.random.Generator
        Seeded generator; exactly ``n_slots`` standard normals are drawn from it.

    Returns
    -------
    numpy.ndarray
        float64 array of length ``n_slots`` (dimensionless).
    """
    if not persistence_h >= 0.0:
        raise ModelError(f"persistence_h must be >= 0 hours, got {persistence_h}")
    e = rng.standard_normal(n_slots)
    decay = math.inf if persistence_h == 0.0 else dt_h / persistence_h  # -ln(phi)
    if decay > _WHITE_DECAY:
        return e
    phi = math.exp(-decay)
    x = math.sqrt(-math.expm1(-2.0 * decay)) * e
    x[0] = e[0]
    block = max(1, min(n_slots, int(_MAX_LOG_GROWTH / decay)))
    steps = np.arange(block) * decay
    grow, shrink = np.exp(steps), np.exp(-steps)
    z = np.empty(n_slots)
    prev = 0.0
    for s in range(0, n_slots, block):
        m = min(block, n_slots - s)
        # z[s+j] = phi**j * (phi * z[s-1] + sum_{i<=j} phi**-i * x[s+i])
        z[s : s + m] = shrink[:m] * (phi * prev + np.cumsum(x[s : s + m] * grow[:m]))
        prev = z[s + m - 1]
    return z


def modelled_temperature(
    grid: TimeGrid,
    rng: np.random.Generator,
    *,
    lat_deg: float,
    lon_deg: float,
    t_mean_c: float,
    seasonal_amp_c: float,
    diurnal_amp_c: float,
    noise_c: float = 2.0,
    persistence_h: float = 36.0,
) -> np.ndarray:
    """Ambient air temperature: annual mean + seasonal and daily cosines + AR(1) weather noise.

    The seasonal maximum falls on 25 July in the northern hemisphere (``lat_deg >= 0``) and on
    15 January in the southern; the daily maximum at 15:00 local mean solar time (from
    ``lon_deg``). The noise is centred on the grid, so over a whole year the mean equals
    ``t_mean_c`` to within a few hundredths of a degree.

    Parameters
    ----------
    grid : TimeGrid
    rng : numpy.random.Generator
        Seeded generator for the weather noise.
    lat_deg : float
        Latitude in degrees north (-90..90); only its sign is used (seasonal phase).
    lon_deg : float
        Longitude in degrees east (-180..180), for local solar time.
    t_mean_c : float
        Annual mean temperature in degrees C.
    seasonal_amp_c : float
        Amplitude (half the peak-to-trough range) of the seasonal cycle in K (>= 0).
    diurnal_amp_c : float
        Amplitude (half the daily range) of the daily cycle in K (>= 0).
    noise_c : float
        Standard deviation of the weather noise in K (>= 0).
    persistence_h : float
        e-folding time of the noise autocorrelation in hours (>= 0).

    Returns
    -------
    numpy.ndarray
        Temperature in degrees C per slot (float64).
    """
    if not -90.0 <= lat_deg <= 90.0:
        raise ModelError(f"lat_deg must be in -90..90, got {lat_deg}")
    for name, value in (
        ("seasonal_amp_c", seasonal_amp_c),
        ("diurnal_amp_c", diurnal_amp_c),
        ("noise_c", noise_c),
    ):
        if not value >= 0.0:
            raise ModelError(f"{name} must be >= 0 K, got {value}")
    peak_doy = T_PEAK_DOY_NORTH if lat_deg >= 0.0 else T_PEAK_DOY_SOUTH
    doy = slot_day_of_year(grid)
    solar_h = slot_solar_hour(grid, lon_deg)
    noise = ar1_noise(grid.n_slots, grid.dt_h, persistence_h, rng)
    if grid.n_slots > 1:
        noise -= noise.mean()
    return (
        t_mean_c
        + seasonal_amp_c * np.cos(2.0 * np.pi * (doy - peak_doy) / DAYS_PER_YEAR)
        + diurnal_amp_c * np.cos(2.0 * np.pi * (solar_h - T_PEAK_SOLAR_HOUR) / 24.0)
        + noise_c * noise
    )


def modelled_cloud_pct(
    grid: TimeGrid,
    rng: np.random.Generator,
    *,
    mean_cloud_pct: float = 50.0,
    persistence_h: float = 12.0,
    seasonal_amp_pct: float = 10.0,
    peak_day_of_year: float = 15.0,
    spread: float = CLOUD_SPREAD,
) -> np.ndarray:
    """Seeded, autocorrelated total cloud cover in % (0..100).

    ``cloud = 100 * Phi(a(t) + spread * z)`` with ``z`` a unit Gaussian AR(1) series and
    ``a(t) = Phi^-1(m(t)/100) * sqrt(1 + spread**2)``, which makes the expected cloud cover
    exactly ``m(t) = mean_cloud_pct + seasonal_amp_pct * cos(2 pi (doy - peak_day_of_year) /
    365.25)``. A large ``spread`` gives the U-shaped distribution of observed cloud cover.

    Parameters
    ----------
    grid : TimeGrid
    rng : numpy.random.Generator
        Seeded generator.
    mean_cloud_pct : float
        Annual mean cloud cover in % (0 < m < 100).
    persistence_h : float
        e-folding time of the weather autocorrelation in hours.
    seasonal_amp_pct : float
        Amplitude of the seasonal cycle of the mean, in percentage points (>= 0).
    peak_day_of_year : float
        Day of year (0 = 1 January) of the cloudiest season; the default (mid-January) suits
        northern mid-latitudes, use ~197 for monsoon climates or the southern hemisphere.
    spread : float
        Standard deviation of the Gaussian before the probit transform (> 0).
    """
    if not 0.0 < mean_cloud_pct < 100.0:
        raise ModelError(f"mean_cloud_pct must be strictly between 0 and 100, got {mean_cloud_pct}")
    if not (seasonal_amp_pct >= 0.0 and spread > 0.0):
        raise ModelError(f"seasonal_amp_pct must be >= 0 and spread > 0, got {seasonal_amp_pct}")
    doy = slot_day_of_year(grid)
    season = np.cos(2.0 * np.pi * (doy - peak_day_of_year) / DAYS_PER_YEAR)
    mean_t = np.clip(mean_cloud_pct + seasonal_amp_pct * season, 1.0, 99.0) / 100.0
    z = ar1_noise(grid.n_slots, grid.dt_h, persistence_h, rng)
    return 100.0 * ndtr(ndtri(mean_t) * math.sqrt(1.0 + spread**2) + spread * z)
