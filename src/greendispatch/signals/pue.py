"""Power usage effectiveness (PUE) of a data centre as a function of outdoor temperature.

PUE = facility energy / IT energy (dimensionless, >= 1). The model is piecewise linear:
free cooling up to ``t_free_c`` gives ``pue_min``; above it the chillers work harder and PUE
rises linearly to ``pue_max`` at ``t_max_c``, where it is held.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from greendispatch.errors import ModelError


def check_pue_parameters(pue_min: float, pue_max: float, t_free_c: float, t_max_c: float) -> None:
    """Raise :class:`ModelError` unless ``1 <= pue_min <= pue_max`` and ``t_free_c < t_max_c``."""
    for name, value in (
        ("pue_min", pue_min),
        ("pue_max", pue_max),
        ("t_free_c", t_free_c),
        ("t_max_c", t_max_c),
    ):
        if not math.isfinite(value):
            raise ModelError(f"{name} must be finite, got {value}")
    if pue_min < 1.0:
        raise ModelError(f"pue_min must be >= 1 (facility energy >= IT energy), got {pue_min}")
    if pue_max < pue_min:
        raise ModelError(f"pue_max ({pue_max}) must be >= pue_min ({pue_min})")
    if t_max_c <= t_free_c:
        raise ModelError(f"t_max_c ({t_max_c} C) must be above t_free_c ({t_free_c} C)")


def pue_from_temperature(
    temp_c: ArrayLike,
    *,
    pue_min: float,
    pue_max: float,
    t_free_c: float,
    t_max_c: float,
) -> np.ndarray:
    """PUE for each outdoor temperature.

    Parameters
    ----------
    temp_c : array_like
        Outdoor (dry-bulb) air temperature in degrees C.
    pue_min : float
        PUE with free cooling (dimensionless, >= 1).
    pue_max : float
        PUE at and above ``t_max_c`` (dimensionless, >= ``pue_min``).
    t_free_c : float
        Highest temperature at which free cooling suffices, degrees C.
    t_max_c : float
        Temperature at which PUE reaches ``pue_max``, degrees C (> ``t_free_c``).

    Returns
    -------
    numpy.ndarray
        PUE (dimensionless) with the shape of ``temp_c``; NaN temperatures give NaN.
    """
    check_pue_parameters(pue_min, pue_max, t_free_c, t_max_c)
    t = np.asarray(temp_c, dtype=np.float64)
    frac = np.clip((t - t_free_c) / (t_max_c - t_free_c), 0.0, 1.0)
    return pue_min + (pue_max - pue_min) * frac


def annual_pue(pue: ArrayLike, it_load: ArrayLike | None = None) -> float:
    """Energy-weighted mean PUE: ``sum(pue * it_load) / sum(it_load)``.

    Parameters
    ----------
    pue : array_like
        PUE per slot (dimensionless, >= 1).
    it_load : array_like, optional
        IT energy (or power on equal slots) per slot, any unit, >= 0 with a positive sum.
        ``None`` weights the slots equally (a constant IT load).

    Returns
    -------
    float
        The PUE the facility achieved over the period.
    """
    p = np.asarray(pue, dtype=np.float64)
    if p.size == 0:
        raise ModelError("annual_pue needs at least one value")
    if not np.all(np.isfinite(p)) or np.any(p < 1.0):
        raise ModelError("PUE values must be finite and >= 1")
    if it_load is None:
        return float(p.mean())
    w = np.asarray(it_load, dtype=np.float64)
    if w.shape != p.shape:
        raise ModelError(f"it_load has shape {w.shape}, pue has shape {p.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0.0):
        raise ModelError("it_load values must be finite and >= 0")
    if not w.sum() > 0.0:
        raise ModelError("it_load must have a positive sum to weight the PUE")
    w = w / w.max()  # scale first: tiny (subnormal) loads would lose precision in p * w
    return float((p * w).sum() / w.sum())
