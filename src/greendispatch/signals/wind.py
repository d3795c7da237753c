"""Wind power per unit of nameplate, from modelled or measured wind speed.

Turbine power curves come from the OpenEnergy Database snapshot that ships inside the installed
``windpowerlib`` package (``windpowerlib/oedb/*.csv``); they are read from disk, never fetched.
"""

from __future__ import annotations

import difflib
import functools
import math
from importlib import resources

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import ndtr
from windpowerlib.power_output import power_curve
from windpowerlib.wind_speed import hellman

from greendispatch.errors import ModelError
from greendispatch.signals.climate import (
    DAYS_PER_YEAR,
    ar1_noise,
    slot_day_of_year,
    slot_solar_hour,
)
from greendispatch.signals.timegrid import TimeGrid

#: Vestas V126-3.3 MW: 3.3 MW, 126 m rotor; oedb curve: cut-in 3 m/s, rated 12 m/s, cut-out
#: 22.5 m/s (hub heights 117/137 m).
DEFAULT_TURBINE = "V126/3300"

#: Day of year of the windiest time in the northern hemisphere (mid-February: winter/spring).
WIND_PEAK_DOY_NORTH = 45.0
#: Below this reference height the daily wind maximum is in the afternoon (mixing), above it at
#: night (nocturnal low-level jet at hub heights).
SURFACE_LAYER_TOP_M = 60.0


@functools.lru_cache(maxsize=1)
def _oedb_tables() -> tuple[pd.DataFrame, pd.Series]:
    """Power curves (W, rows = turbine type, columns = wind speed m/s) and nominal power (W)."""
    oedb = resources.files("windpowerlib") / "oedb"
    with (oedb / "power_curves.csv").open("r", encoding="utf-8") as fh:
        curves = pd.read_csv(fh, index_col=0)
    with (oedb / "turbine_data.csv").open("r", encoding="utf-8") as fh:
        data = pd.read_csv(fh, index_col=0)
    curves.columns = curves.columns.astype(float)
    nominal = pd.to_numeric(data["nominal_power"], errors="coerce")
    nominal = nominal[~nominal.index.duplicated()]
    return curves[~curves.index.duplicated()], nominal


def available_turbine_types() -> list[str]:
    """Turbine types with a power curve in windpowerlib's bundled oedb file, sorted."""
    return sorted(_oedb_tables()[0].index)


@functools.lru_cache(maxsize=64)
def turbine_power_curve(turbine_type: str) -> tuple[np.ndarray, np.ndarray]:
    """Power curve of one turbine type from windpowerlib's bundled oedb data.

    Parameters
    ----------
    turbine_type : str
        oedb name, e.g. ``"V126/3300"`` (see :func:`available_turbine_types`).

    Returns
    -------
    wind_speed_ms : numpy.ndarray
        Increasing wind speeds at hub height in m/s (read-only).
    power_pu : numpy.ndarray
        Electrical power per unit of nominal power (0..1) at those speeds (read-only).
    """
    curves, nominal = _oedb_tables()
    if turbine_type not in curves.index:
        close = difflib.get_close_matches(turbine_type, list(curves.index), n=5, cutoff=0.4)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise ModelError(
            f"unknown turbine type {turbine_type!r} ({len(curves)} types in windpowerlib's "
            f"oedb power curves){hint}"
        )
    row = curves.loc[turbine_type].dropna()
    speeds = row.index.to_numpy(dtype=np.float64)
    watts = row.to_numpy(dtype=np.float64)
    p_nom = nominal.get(turbine_type, np.nan)
    if not (math.isfinite(p_nom) and p_nom > 0.0):
        p_nom = watts.max()
    power = np.clip(watts / p_nom, 0.0, 1.0)
    speeds.flags.writeable = False
    power.flags.writeable = False
    return speeds, power


def wind_pu(
    wind_speed_ms: ArrayLike,
    ref_height_m: float,
    hub_height_m: float,
    turbine_type: str = DEFAULT_TURBINE,
    *,
    hellman_exponent: float = 1.0 / 7.0,
    availability: float = 0.97,
) -> np.ndarray:
    """AC output per unit of wind farm nameplate for each wind speed.

    The speed is moved to hub height with the Hellman power law
    (:func:`windpowerlib.wind_speed.hellman`), then read off the turbine's power curve
    (:func:`windpowerlib.power_output.power_curve`: linear interpolation, zero outside the curve,
    i.e. below cut-in and above cut-out), then scaled by the farm availability.

    Parameters
    ----------
    wind_speed_ms : array_like
        Wind speed at ``ref_height_m`` in m/s (>= 0).
    ref_height_m : float
        Height of the wind speed data above ground in m (> 0).
    hub_height_m : float
        Hub height in m (> 0).
    turbine_type : str
        oedb turbine type (see :func:`available_turbine_types`).
    hellman_exponent : float
        Power-law shear exponent (dimensionless, >= 0; 1/7 for open land).
    availability : float
        Fraction of the time turbines are available (0..1).

    Returns
    -------
    numpy.ndarray
        Output per unit of nameplate (0..``availability``), shape of ``wind_speed_ms``.
    """
    if not (ref_height_m > 0.0 and hub_height_m > 0.0):
        raise ModelError(f"heights must be > 0 m, got ref {ref_height_m}, hub {hub_height_m}")
    if not 0.0 <= availability <= 1.0:
        raise ModelError(f"availability must be in 0..1, got {availability}")
    if not hellman_exponent >= 0.0:
        raise ModelError(f"hellman_exponent must be >= 0, got {hellman_exponent}")
    v = np.asarray(wind_speed_ms, dtype=np.float64)
    if np.any(v < 0.0):
        raise ModelError("wind speeds must be >= 0 m/s")
    speeds, power = turbine_power_curve(turbine_type)
    v_hub = hellman(v, ref_height_m, hub_height_m, hellman_exponent=hellman_exponent)
    return np.asarray(power_curve(v_hub, speeds, power), dtype=np.float64) * availability


def weibull_scale_ms(mean_ms: float, weibull_k: float) -> float:
    """Weibull scale parameter (m/s) that gives the mean ``mean_ms`` for shape ``weibull_k``."""
    return mean_ms / math.gamma(1.0 + 1.0 / weibull_k)


def modelled_wind_speed(
    grid: TimeGrid,
    rng: np.random.Generator,
    *,
    mean_ms: float = 7.0,
    weibull_k: float = 2.0,
    ref_height_m: float = 100.0,
    diurnal_amp: float = 0.1,
    seasonal_amp: float = 0.15,
    persistence_h: float = 8.0,
    lon_deg: float = 0.0,
    lat_deg: float = 0.0,
) -> np.ndarray:
    """Seeded, autocorrelated wind speed with a Weibull marginal and daily/seasonal shape.

    A stationary Gaussian AR(1) series is mapped through the normal CDF and the Weibull inverse
    CDF (scale from :func:`weibull_scale_ms`), then multiplied by
    ``1 + diurnal_amp*cos(daily) + seasonal_amp*cos(seasonal)``. The seasonal maximum is in
    mid-February in the northern hemisphere (``lat_deg >= 0``), mid-August in the southern; the
    daily maximum is at 14:00 local solar time below ``SURFACE_LAYER_TOP_M`` and at 02:00 above.
    The series is finally rescaled so its mean equals ``mean_ms`` times the mean of the shape
    (1 over a whole year), which removes one year's sampling noise from the annual mean.

    Parameters
    ----------
    grid : TimeGrid
    rng : numpy.random.Generator
        Seeded generator.
    mean_ms : float
        Long-run mean wind speed at ``ref_height_m`` in m/s (> 0).
    weibull_k : float
        Weibull shape parameter (dimensionless, > 0; ~2 onshore).
    ref_height_m : float
        Height the series refers to in m (> 0); sets the daily phase.
    diurnal_amp, seasonal_amp : float
        Relative amplitudes of the daily and seasonal modulation (>= 0, sum < 1).
    persistence_h : float
        e-folding time of the autocorrelation of the underlying Gaussian series in hours.
    lon_deg : float
        Longitude in degrees east, for local solar time.
    lat_deg : float
        Latitude in degrees north; only its sign is used (seasonal phase).

    Returns
    -------
    numpy.ndarray
        Wind speed at ``ref_height_m`` in m/s per slot (float64, >= 0).
    """
    if not (mean_ms > 0.0 and weibull_k > 0.0 and ref_height_m > 0.0):
        raise ModelError(
            f"mean_ms, weibull_k and ref_height_m must be > 0, got {mean_ms}, {weibull_k}, "
            f"{ref_height_m}"
        )
    if not (diurnal_amp >= 0.0 and seasonal_amp >= 0.0 and diurnal_amp + seasonal_amp < 1.0):
        raise ModelError(
            f"diurnal_amp and seasonal_amp must be >= 0 with a sum < 1, got {diurnal_amp}, "
            f"{seasonal_amp}"
        )
    z = ar1_noise(grid.n_slots, grid.dt_h, persistence_h, rng)
    # Weibull inverse CDF of u = Phi(z); 1 - u = Phi(-z) keeps precision in the upper tail.
    base = weibull_scale_ms(mean_ms, weibull_k) * (-np.log(ndtr(-z))) ** (1.0 / weibull_k)
    peak_doy = WIND_PEAK_DOY_NORTH if lat_deg >= 0.0 else WIND_PEAK_DOY_NORTH + DAYS_PER_YEAR / 2
    peak_h = 14.0 if ref_height_m < SURFACE_LAYER_TOP_M else 2.0
    doy = slot_day_of_year(grid)
    solar_h = slot_solar_hour(grid, lon_deg)
    shape = (
        1.0
        + seasonal_amp * np.cos(2.0 * np.pi * (doy - peak_doy) / DAYS_PER_YEAR)
        + diurnal_amp * np.cos(2.0 * np.pi * (solar_h - peak_h) / 24.0)
    )
    speed = base * shape
    mean = speed.mean()
    if mean > 0.0:
        speed *= mean_ms * shape.mean() / mean
    return speed
