"""Solar PV output per unit of nameplate from a clear-sky model, cloud cover and temperature.

Chain (all pvlib, vectorised over slots, at each slot's mid-point):

1. sun position: :func:`pvlib.solarposition.ephemeris`;
2. clear sky: :func:`pvlib.clearsky.ineichen` with a fixed Linke turbidity (no h5py lookup);
3. clouds: Kasten-Czeplak ``GHI = GHI_clear * (1 - 0.75 * (cloud/100)**3.4)``, split into beam
   and diffuse with :func:`pvlib.irradiance.erbs`;
4. plane of array: :func:`pvlib.irradiance.get_total_irradiance` (isotropic sky);
5. cell temperature: :func:`pvlib.temperature.sapm_cell` (open rack, 1 m/s wind);
6. DC: :func:`pvlib.pvsystem.pvwatts_dc`; then a flat loss fraction; AC clipped to 0..1
   (DC/AC ratio 1).

Steps 1-2 depend only on the site and the grid; :func:`calibrate_cloud_to_cf` computes them
once and repeats only steps 3-6, and only for daylight slots. The stochastic cloud model
:func:`modelled_cloud_pct` lives with the other weather models in
:mod:`greendispatch.signals.climate` and is re-exported here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from pvlib import atmosphere, clearsky, irradiance, pvsystem, solarposition, temperature

from greendispatch.errors import ModelError
from greendispatch.signals.climate import modelled_cloud_pct
from greendispatch.signals.timegrid import TimeGrid

__all__ = [
    "ClearSky",
    "calibrate_cloud_to_cf",
    "clear_sky",
    "modelled_cloud_pct",
    "pv_pu_from_sky",
    "solar_pu",
]

_SAPM = temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
_SKY_KEYWORDS = frozenset({"altitude_m", "linke_turbidity"})
_CLOUD_KEYWORDS = frozenset(
    {"mean_cloud_pct", "persistence_h", "seasonal_amp_pct", "peak_day_of_year", "spread"}
)


@dataclass(frozen=True)
class ClearSky:
    """Sun position and clear-sky irradiance of one site over a grid, daylight slots only.

    Arrays hold the ``day`` slots (apparent zenith < 90 degrees) in order; irradiance in W/m2,
    angles in degrees.
    """

    n_slots: int
    day: np.ndarray
    day_of_year: np.ndarray
    zenith_deg: np.ndarray
    apparent_zenith_deg: np.ndarray
    azimuth_deg: np.ndarray
    dni_extra_wm2: np.ndarray
    ghi_wm2: np.ndarray
    dni_wm2: np.ndarray
    dhi_wm2: np.ndarray


def clear_sky(
    grid: TimeGrid,
    lat_deg: float,
    lon_deg: float,
    *,
    altitude_m: float = 0.0,
    linke_turbidity: float = 3.0,
) -> ClearSky:
    """Sun position and Ineichen clear-sky irradiance at each slot mid-point.

    Parameters
    ----------
    grid : TimeGrid
    lat_deg, lon_deg : float
        Site latitude (degrees north, -90..90) and longitude (degrees east, -180..180).
    altitude_m : float
        Site altitude above sea level in m.
    linke_turbidity : float
        Linke turbidity factor (dimensionless, > 0; ~2 very clean, 3 rural, 5+ hazy/urban).
    """
    if not -90.0 <= lat_deg <= 90.0 or not -180.0 <= lon_deg <= 180.0:
        raise ModelError(f"site ({lat_deg}, {lon_deg}) is not a valid latitude/longitude")
    if not linke_turbidity > 0.0:
        raise ModelError(f"linke_turbidity must be > 0, got {linke_turbidity}")
    times = grid.index() + pd.Timedelta(hours=0.5 * grid.dt_h)
    pressure_pa = atmosphere.alt2pres(altitude_m)
    with warnings.catch_warnings():
        # pvlib 0.16 reads DatetimeIndex.dayofyear, deprecated in pandas 3.
        warnings.simplefilter("ignore", DeprecationWarning)
        sun = solarposition.ephemeris(times, lat_deg, lon_deg, pressure=pressure_pa)
    app_zen = sun["apparent_zenith"].to_numpy(dtype=np.float64)
    day = app_zen < 90.0
    doy = times.day_of_year.to_numpy()[day]
    app_zen = app_zen[day]
    dni_extra = irradiance.get_extra_radiation(doy)
    with np.errstate(invalid="ignore", divide="ignore"):
        am_abs = atmosphere.get_absolute_airmass(
            atmosphere.get_relative_airmass(app_zen), pressure_pa
        )
        cs = clearsky.ineichen(app_zen, am_abs, linke_turbidity, altitude_m, dni_extra)
    return ClearSky(
        n_slots=grid.n_slots,
        day=day,
        day_of_year=doy,
        zenith_deg=sun["zenith"].to_numpy(dtype=np.float64)[day],
        apparent_zenith_deg=app_zen,
        azimuth_deg=sun["azimuth"].to_numpy(dtype=np.float64)[day],
        dni_extra_wm2=np.asarray(dni_extra, dtype=np.float64),
        ghi_wm2=np.nan_to_num(np.asarray(cs["ghi"], dtype=np.float64)),
        dni_wm2=np.nan_to_num(np.asarray(cs["dni"], dtype=np.float64)),
        dhi_wm2=np.nan_to_num(np.asarray(cs["dhi"], dtype=np.float64)),
    )


def _per_slot(value: ArrayLike | None, n_slots: int, name: str) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n_slots, float(arr))
    if arr.shape != (n_slots,):
        raise ModelError(f"{name} has shape {arr.shape}, the grid has {n_slots} slots")
    if not np.all(np.isfinite(arr)):
        raise ModelError(f"{name} contains non-finite values")
    return arr


def pv_pu_from_sky(
    sky: ClearSky,
    tilt_deg: float,
    azimuth_deg: float = 180.0,
    *,
    cloud_pct: ArrayLike | None = None,
    temp_c: ArrayLike | None = None,
    loss_fraction: float = 0.14,
    gamma_pdc_per_c: float = -0.004,
    albedo: float = 0.25,
) -> np.ndarray:
    """Steps 3-6 of the chain on a precomputed :class:`ClearSky` (see :func:`solar_pu`)."""
    if not 0.0 <= tilt_deg <= 90.0 or not 0.0 <= azimuth_deg <= 360.0:
        raise ModelError(f"tilt {tilt_deg} must be in 0..90 and azimuth {azimuth_deg} in 0..360")
    if not 0.0 <= loss_fraction < 1.0:
        raise ModelError(f"loss_fraction must be in [0, 1), got {loss_fraction}")
    cloud = _per_slot(cloud_pct, sky.n_slots, "cloud_pct")
    temp = _per_slot(temp_c, sky.n_slots, "temp_c")
    if cloud is not None and (cloud.min() < 0.0 or cloud.max() > 100.0):
        raise ModelError("cloud_pct must lie in 0..100")
    if cloud is None:
        ghi, dni, dhi = sky.ghi_wm2, sky.dni_wm2, sky.dhi_wm2
    else:
        ghi = sky.ghi_wm2 * (1.0 - 0.75 * (cloud[sky.day] / 100.0) ** 3.4)
        split = irradiance.erbs(ghi, sky.zenith_deg, sky.day_of_year)
        dni, dhi = split["dni"], split["dhi"]
    poa = irradiance.get_total_irradiance(
        tilt_deg,
        azimuth_deg,
        sky.apparent_zenith_deg,
        sky.azimuth_deg,
        dni,
        ghi,
        dhi,
        dni_extra=sky.dni_extra_wm2,
        albedo=albedo,
        model="isotropic",
    )
    g_poa = np.nan_to_num(np.asarray(poa["poa_global"], dtype=np.float64))
    t_air = 25.0 if temp is None else temp[sky.day]
    t_cell = temperature.sapm_cell(g_poa, t_air, 1.0, _SAPM["a"], _SAPM["b"], _SAPM["deltaT"])
    pdc = pvsystem.pvwatts_dc(g_poa, t_cell, 1.0, gamma_pdc_per_c)
    out = np.zeros(sky.n_slots)
    out[sky.day] = np.clip(pdc * (1.0 - loss_fraction), 0.0, 1.0)
    return out


def solar_pu(
    grid: TimeGrid,
    lat_deg: float,
    lon_deg: float,
    tilt_deg: float,
    azimuth_deg: float = 180.0,
    *,
    cloud_pct: ArrayLike | None = None,
    temp_c: ArrayLike | None = None,
    altitude_m: float = 0.0,
    loss_fraction: float = 0.14,
    gamma_pdc_per_c: float = -0.004,
    linke_turbidity: float = 3.0,
    albedo: float = 0.25,
) -> np.ndarray:
    """AC output per MW of PV nameplate (0..1) in each slot.

    Parameters
    ----------
    grid : TimeGrid
    lat_deg, lon_deg : float
        Latitude (degrees north) and longitude (degrees east).
    tilt_deg : float
        Module tilt from horizontal in degrees (0..90).
    azimuth_deg : float
        Direction the modules face, degrees clockwise from north (180 = south).
    cloud_pct : array_like, optional
        Total cloud cover in % (0..100), scalar or one per slot. ``None``: clear sky, using
        Ineichen's own beam/diffuse split.
    temp_c : array_like, optional
        Ambient air temperature in degrees C, scalar or per slot; ``None``: 25 C.
    altitude_m, linke_turbidity
        See :func:`clear_sky`.
    loss_fraction : float
        Flat system losses (soiling, wiring, mismatch, inverter...) as a fraction (0..1).
    gamma_pdc_per_c : float
        DC power temperature coefficient in 1/K (negative).
    albedo : float
        Ground reflectance (0..1).

    Returns
    -------
    numpy.ndarray
        float64 array of length ``grid.n_slots`` with the mean AC output over the slot per unit
        of nameplate (equal DC and AC nameplate), 0 at night.
    """
    sky = clear_sky(grid, lat_deg, lon_deg, altitude_m=altitude_m, linke_turbidity=linke_turbidity)
    return pv_pu_from_sky(
        sky,
        tilt_deg,
        azimuth_deg,
        cloud_pct=cloud_pct,
        temp_c=temp_c,
        loss_fraction=loss_fraction,
        gamma_pdc_per_c=gamma_pdc_per_c,
        albedo=albedo,
    )


def calibrate_cloud_to_cf(
    grid: TimeGrid,
    lat_deg: float,
    lon_deg: float,
    tilt_deg: float,
    target_cf: float,
    rng: np.random.Generator,
    *,
    rtol: float = 1e-3,
    **kw: Any,
) -> np.ndarray:
    """Cloud cover (%) that makes the site's PV capacity factor equal ``target_cf``.

    A cloud series from :func:`modelled_cloud_pct` (drawn with ``rng``) is scaled by a factor
    ``s >= 0`` and clipped to 0..100; ``s`` is found by bisection on the capacity factor
    ``solar_pu(..., cloud_pct=clip(s * cloud)).mean()``. The clear-sky part of the chain is
    computed once, the rest only for daylight slots.

    Parameters
    ----------
    target_cf : float
        Wanted mean of :func:`solar_pu` over the grid (0 < target <= clear-sky CF).
    rtol : float
        Relative tolerance on the capacity factor.
    **kw
        Keywords of :func:`clear_sky` (``altitude_m``, ``linke_turbidity``), of
        :func:`modelled_cloud_pct` (``mean_cloud_pct``, ``persistence_h``, ...) and of
        :func:`pv_pu_from_sky` (``azimuth_deg``, ``temp_c``, ``loss_fraction``, ...).

    Returns
    -------
    numpy.ndarray
        Cloud cover in % per slot; ``solar_pu`` with it has mean ``target_cf * (1 +- rtol)``.

    Raises
    ------
    ModelError
        If ``target_cf <= 0``, is above the capacity factor with no cloud, or below the one
        with every slot overcast.
    """
    if not target_cf > 0.0:
        raise ModelError(f"target_cf must be > 0, got {target_cf}")
    if not 0.0 < rtol < 0.1:
        raise ModelError(f"rtol must be in (0, 0.1), got {rtol}")
    sky_kw = {k: kw.pop(k) for k in _SKY_KEYWORDS & kw.keys()}
    cloud_kw = {k: kw.pop(k) for k in _CLOUD_KEYWORDS & kw.keys()}
    sky = clear_sky(grid, lat_deg, lon_deg, **sky_kw)
    base = modelled_cloud_pct(grid, rng, **cloud_kw)

    def cloud_at(scale: float) -> np.ndarray:
        return np.clip(scale * base, 0.0, 100.0)

    def cf_at(scale: float) -> float:
        return float(pv_pu_from_sky(sky, tilt_deg, cloud_pct=cloud_at(scale), **kw).mean())

    where = f"at ({lat_deg}, {lon_deg}) with tilt {tilt_deg} deg"
    cf_clear = cf_at(0.0)
    if target_cf > cf_clear * (1.0 + rtol):
        raise ModelError(
            f"target_cf {target_cf:.4f} is above the clear-sky capacity factor {cf_clear:.4f} "
            + where
        )
    if target_cf >= cf_clear:
        return cloud_at(0.0)
    s_full = 100.0 / max(float(base.min()), 1e-12)  # every slot at 100 % cloud
    cf_overcast = cf_at(s_full)
    if target_cf < cf_overcast * (1.0 - rtol):
        raise ModelError(
            f"target_cf {target_cf:.4f} is below the overcast capacity factor {cf_overcast:.4f} "
            + where
        )
    # Bracket [lo, hi] with cf(lo) > target >= cf(hi), growing from the unscaled series.
    lo, hi = 0.0, 1.0
    while hi < s_full and cf_at(hi) > target_cf:
        lo, hi = hi, hi * 2.0
    hi = min(hi, s_full)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        cf = cf_at(mid)
        if abs(cf - target_cf) <= rtol * target_cf:
            return cloud_at(mid)
        lo, hi = (mid, hi) if cf > target_cf else (lo, mid)
    raise ModelError(f"cloud calibration to target_cf {target_cf:.4f} did not converge")
