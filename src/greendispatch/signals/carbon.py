"""Grid carbon intensity for Chinese provinces: official annual factors and a modelled hourly shape.

China publishes only an annual average CO2 factor per province (no hourly series). This module
ships that official table and builds a *modelled* hourly intensity from it: each hour's intensity
follows the non-renewable share of supply, scaled so that its mean equals the official figure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from greendispatch.errors import ModelError

_FACTORS_RESOURCE = "data/cn-provincial-factors-2023.json"
_N_PROVINCES = 30

RENEWABLE_SHARE_MAX = 0.95
"""Upper clip of the modelled renewable share (fraction): some thermal plant always runs."""

PROVINCIAL_FACTORS_CITATION = (
    "Ministry of Ecology and Environment (MEE) and National Bureau of Statistics (NBS) of China, "
    "Announcement 2025 No. 47 (published 2025-12-31), 'Announcement on the release of the 2023 "
    "electricity CO2 emission factors', Table 3: provincial average electricity CO2 emission "
    "factors, 2023. CO2 only, location-based, gCO2/kWh."
)
"""How to cite the provincial factors (also in the metadata of the packaged JSON file)."""


@dataclass(frozen=True)
class ProvincialFactor:
    """Official 2023 average grid CO2 emission factor of one province.

    Parameters
    ----------
    code : str
        ISO 3166-2-style code as used by Electricity Maps, e.g. ``"CN-NM"``.
    name : str
        English name, e.g. ``"Inner Mongolia"``.
    name_zh : str
        Chinese name, e.g. ``"内蒙古"``.
    g_per_kwh : float
        Annual average CO2 intensity of electricity, gCO2/kWh (CO2 only, location-based).
    """

    code: str
    name: str
    name_zh: str
    g_per_kwh: float


@lru_cache(maxsize=1)
def _read_factor_table() -> tuple[ProvincialFactor, ...]:
    """Read the packaged JSON table once (the file is read on first use, never at import)."""
    text = resources.files("greendispatch.signals").joinpath(_FACTORS_RESOURCE).read_text("utf-8")
    provinces = json.loads(text).get("provinces", {})
    factors = []
    for code, row in provinces.items():
        try:
            factor = ProvincialFactor(
                code=code,
                name=str(row["name"]),
                name_zh=str(row["name_zh"]),
                g_per_kwh=float(row["g_per_kwh"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{_FACTORS_RESOURCE}: bad entry for {code}: {exc!r}") from exc
        if not np.isfinite(factor.g_per_kwh) or factor.g_per_kwh <= 0:
            raise ModelError(f"{_FACTORS_RESOURCE}: {code} factor must be > 0 gCO2/kWh")
        factors.append(factor)
    if len(factors) != _N_PROVINCES:
        raise ModelError(
            f"{_FACTORS_RESOURCE}: expected {_N_PROVINCES} provinces, got {len(factors)}"
        )
    return tuple(factors)


def load_provincial_factors() -> dict[str, ProvincialFactor]:
    """The official 2023 provincial grid CO2 factors, keyed by code (``"CN-NM"``, ...).

    30 provinces (Tibet, Hong Kong, Macao and Taiwan are not in the official table); see
    :data:`PROVINCIAL_FACTORS_CITATION`. The packaged file is read once and cached; each call
    returns a new dict, so callers may change it freely.
    """
    return {f.code: f for f in _read_factor_table()}


def _check_unit_interval(name: str, values: np.ndarray) -> None:
    if not np.all(np.isfinite(values)):
        raise ModelError(f"{name} must be finite")
    if np.any(values < 0.0) or np.any(values > 1.0):
        raise ModelError(
            f"{name} must lie in [0, 1], got range [{values.min():.6g}, {values.max():.6g}]"
        )


def modelled_renewable_share(
    *,
    base_share: float | np.ndarray,
    wind_pu: np.ndarray,
    solar_pu: np.ndarray,
    wind_weight: float | np.ndarray,
    solar_weight: float | np.ndarray,
) -> np.ndarray:
    """Modelled hourly renewable share of a province's grid supply (fraction, 0..0.95).

    ``r_t = clip(base_share + wind_weight * wind_pu_t + solar_weight * solar_pu_t, 0, 0.95)``

    This is a model, not a measurement: no hourly generation mix is published for Chinese
    provinces. The upper clip stands for the thermal plant that always runs.

    Parameters
    ----------
    base_share : float or array
        Steady renewable share (hydro, biomass, imports) independent of the weather, fraction 0..1.
    wind_pu : array
        Regional wind output per unit of installed capacity, 0..1, shape (..., n_slots).
    solar_pu : array
        Regional solar output per unit of installed capacity, 0..1, broadcastable with ``wind_pu``.
    wind_weight : float or array
        Share of the province's supply that wind covers at full output (per-unit 1), fraction >= 0.
    solar_weight : float or array
        Share of the province's supply that solar covers at full output, fraction >= 0.

    Returns
    -------
    np.ndarray
        Renewable share per slot, fraction in [0, 0.95], the broadcast shape of the inputs.
    """
    wind = np.asarray(wind_pu, dtype=np.float64)
    solar = np.asarray(solar_pu, dtype=np.float64)
    base = np.asarray(base_share, dtype=np.float64)
    w_wind = np.asarray(wind_weight, dtype=np.float64)
    w_solar = np.asarray(solar_weight, dtype=np.float64)
    _check_unit_interval("wind_pu", wind)
    _check_unit_interval("solar_pu", solar)
    _check_unit_interval("base_share", base)
    for name, weight in (("wind_weight", w_wind), ("solar_weight", w_solar)):
        if not np.all(np.isfinite(weight)) or np.any(weight < 0.0):
            raise ModelError(f"{name} must be finite and >= 0")
    share = base + w_wind * wind + w_solar * solar
    return np.clip(share, 0.0, RENEWABLE_SHARE_MAX)


def modelled_intensity(
    annual_mean_g_per_kwh: float | np.ndarray,
    renewable_share: np.ndarray,
) -> np.ndarray:
    """Modelled hourly grid carbon intensity (gCO2/kWh) that keeps the official annual mean.

    Model (modelled, not measured): each slot's intensity is proportional to the non-renewable
    share of supply,

    ``ci_t = F * (1 - r_t) / mean_t(1 - r_t)``,

    where ``F`` is the official annual factor and ``r_t`` the renewable share. The arithmetic mean
    of ``ci`` over the slots (the last axis) therefore equals ``F`` (to floating-point rounding),
    and ``ci_t >= 0`` since ``0 <= r_t <= 1``. The official factor is an energy-weighted average;
    matching the arithmetic time mean instead is a modelling convention, so a load-weighted mean of
    the result differs slightly from ``F``. Pass a whole year of slots to reproduce the annual
    figure; over a shorter window the window's mean is set to ``F``.

    Parameters
    ----------
    annual_mean_g_per_kwh : float or array
        Official annual average factor, gCO2/kWh, >= 0; an array of shape (n_hubs,) gives one
        factor per row of ``renewable_share``.
    renewable_share : array
        Renewable share of supply per slot, fraction in [0, 1], shape (n_slots,) or
        (n_hubs, n_slots), e.g. from :func:`modelled_renewable_share`.

    Returns
    -------
    np.ndarray
        Intensity per slot, gCO2/kWh, same shape as ``renewable_share``.
    """
    share = np.asarray(renewable_share, dtype=np.float64)
    if share.ndim == 0 or share.shape[-1] == 0:
        raise ModelError("renewable_share must have at least one slot")
    _check_unit_interval("renewable_share", share)
    factor = np.asarray(annual_mean_g_per_kwh, dtype=np.float64)
    if not np.all(np.isfinite(factor)) or np.any(factor < 0.0):
        raise ModelError("annual_mean_g_per_kwh must be finite and >= 0")
    fossil = 1.0 - share
    fossil_mean = fossil.mean(axis=-1, keepdims=True)
    if np.any(fossil_mean <= 0.0):
        raise ModelError("renewable_share is 1 in every slot: no fossil supply to carry the factor")
    return factor[..., np.newaxis] * (fossil / fossil_mean)
