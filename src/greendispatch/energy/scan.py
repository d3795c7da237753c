"""Per-slot recurrences over (H, T) arrays solved in ~3 sqrt(T) vectorised steps instead of a
loop over T slots (:func:`_scan`): the battery's state of charge clipped to its limits
(:func:`_soc_path`) and the green part of the stored energy (:func:`_linear_path`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence

import numpy as np

Maps = tuple[np.ndarray, ...]


def _scan(
    s0: np.ndarray,
    inputs: Sequence[tuple[np.ndarray, float]],
    identity: Maps,
    step: Callable[..., Maps],
    apply: Callable[[Maps, np.ndarray], np.ndarray],
) -> np.ndarray:
    """``s[t] = f_t(s[t-1])`` over (H, T) for per-slot maps f_t from a family closed under
    composition: ``step(m, *inputs[t])`` composes slot t's map after ``m``, ``apply(m, s)``
    evaluates it; ``inputs`` are (array, padding value) pairs.

    The slots are cut into ~sqrt(T) blocks: the maps from each block's start are composed slot
    by slot in all blocks at once, the block starts are carried one block at a time, and the
    maps are applied to them: ~3 sqrt(T) vectorised steps instead of T. The value at the end of
    a block is exactly the next block's start.
    """
    n_hubs, n_slots = inputs[0][0].shape
    size = max(1, math.isqrt(n_slots))
    blocks = []
    for a, fill in inputs:  # (H, T) -> (size, H, n_blocks), padded at the end
        b = np.full((n_hubs, -(-n_slots // size) * size), fill)
        b[:, :n_slots] = a
        blocks.append(np.ascontiguousarray(b.reshape(n_hubs, -1, size).transpose(2, 0, 1)))

    def maps() -> Iterator[Maps]:
        m = tuple(np.broadcast_to(v, blocks[0].shape[1:]) for v in identity)
        for k in range(size):
            m = step(m, *(b[k] for b in blocks))
            yield m

    last, starts, s = deque(maps(), maxlen=1).pop(), [], s0
    for j in range(blocks[0].shape[2]):
        starts.append(s)
        s = apply(tuple(v[:, j] for v in last), s)
    s, out = np.stack(starts, axis=1), blocks[0]  # slot k of out is read before it is written
    for k, m in enumerate(maps()):
        out[k] = apply(m, s)
    return np.ascontiguousarray(out.transpose(1, 2, 0).reshape(n_hubs, -1)[:, :n_slots])


def _soc_path(soc0: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``soc[t] = min(max(soc[t-1] + x[t], lo), hi)``; these maps compose as
    ``min(max(s + X, L), U)``."""
    lo, hi = lo[:, None], hi[:, None]

    def step(m: Maps, xk: np.ndarray) -> Maps:
        return m[0] + xk, np.maximum(m[1] + xk, lo), np.minimum(np.maximum(m[2] + xk, lo), hi)

    def apply(m: Maps, s: np.ndarray) -> np.ndarray:
        return np.minimum(np.maximum(s + m[0], m[1]), m[2])

    return _scan(
        soc0, [(x, 0.0)], (np.array(0.0), np.array(-np.inf), np.array(np.inf)), step, apply
    )


def _linear_path(g0: np.ndarray, a: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``g[t] = g[t-1] * a[t] + c[t]``; these maps compose as ``s * A + C``."""

    def step(m: Maps, ak: np.ndarray, ck: np.ndarray) -> Maps:
        return m[0] * ak, m[1] * ak + ck

    def apply(m: Maps, s: np.ndarray) -> np.ndarray:
        return s * m[0] + m[1]

    return _scan(g0, [(a, 1.0), (c, 0.0)], (np.array(1.0), np.array(0.0)), step, apply)
