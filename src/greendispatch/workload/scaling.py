"""Scaling synthetic jobs to a target utilisation: each pool kind's devices in the scenario
(:func:`pool_devices`), and one pool kind's device counts and durations fitted so that their
device-hours reach the target (:func:`_scale_pool`: devices first, up to a cap, then durations),
with stochastic rounding that keeps expected values.
"""

from __future__ import annotations

import numpy as np

from greendispatch.domain import Scenario
from greendispatch.workload.jobs import POOL_KINDS


def pool_devices(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Per pool kind (order of POOL_KINDS): total devices, and the smallest hub's devices among
    hubs that have that kind (0 where no hub has it)."""
    per = np.array(
        [
            [sum(p.devices for p in h.pools if p.kind is k) for k in POOL_KINDS]
            for h in scenario.hubs
        ],
        dtype=np.int64,
    ).reshape(-1, len(POOL_KINDS))
    big = np.iinfo(np.int64).max
    smallest = np.where(per > 0, per, big).min(axis=0, initial=big)
    return per.sum(axis=0), np.where(smallest == big, 0, smallest)


def stochastic_round(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Round down or up at random so that the expected value equals ``x``."""
    return np.floor(x + rng.random(x.shape)).astype(np.int64)


def _scale_pool(
    d0: np.ndarray,
    t0: np.ndarray,
    online: np.ndarray,
    target: float,
    cap: int,
    max_dur: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Devices and durations of one pool kind's jobs with sum(devices x hours) = ``target``.

    The overall factor S = target / sum(d0 x t0) goes to device counts until the largest 1 % of
    base sizes reach ``cap``; durations take the rest (bisection, each at most ``max_dur``); if
    they all saturate, devices grow again up to ``cap``. Online inference keeps its one-slot
    duration, so its devices take all of S (up to ``cap``).
    """
    big = float(np.quantile(d0[~online], 0.99)) if (~online).any() else 1.0
    whole = target / float(d0 @ t0)
    factor = np.where(online, whole, min(whole, cap / big))
    devices = np.clip(stochastic_round(np.minimum(factor * d0, cap), rng), 1, cap)
    duration = t0.copy()
    rest = ~online
    if rest.any():
        left = max(target - float(devices[online] @ t0[online]), 1e-9 * target)
        f = _fit_multiplier(t0[rest], devices[rest].astype(np.float64), left, max_dur)
        duration[rest] = np.minimum(f * t0[rest], max_dur)
        if float(devices[rest] @ duration[rest]) < 0.999 * left:  # durations saturated: devices
            g = _fit_multiplier(devices[rest].astype(np.float64), duration[rest], left, cap)
            grown = stochastic_round(np.minimum(g * devices[rest], cap), rng)
            devices[rest] = np.clip(grown, 1, cap)
    return devices, duration


def _fit_multiplier(x: np.ndarray, w: np.ndarray, target: float, cap: float) -> float:
    """The multiplier ``s`` with sum(min(s*x, cap) * w) = target, solved exactly: with ``x``
    sorted, the items from some position on are capped and ``s`` is linear in the rest. If even
    every item at ``cap`` falls short, the multiplier that caps them all."""
    if x.size == 0:
        return 1.0
    if cap * float(w.sum()) <= target:
        return cap / float(x.min())
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    below = np.cumsum(xs * ws)  # below[i-1]: sum of x*w over the i smallest (not capped)
    capped = np.append(np.cumsum(ws[::-1])[::-1][1:], 0.0)  # weight above position i-1
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (target - cap * capped) / below
    nxt = np.append(xs[1:], np.inf)
    ok = (s > 0) & (s * xs <= cap * (1 + 1e-12)) & (s * nxt >= cap * (1 - 1e-12))
    return float(s[np.argmax(ok)])
