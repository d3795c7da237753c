"""How the engine places one job in a scheduling cycle, on the capacity still free.

A prescribed schedule is checked and taken as given (:func:`_place_prescribed`); interruptible
work takes the cheapest slots at one hub, resume overhead included (:func:`_place_split`, with
:func:`_cheapest_slots`, :func:`_trim` and :func:`_best_window`); other work the best
(hub, start) candidate with whole devices free for every slot it needs (:func:`_place_contiguous`);
a job nothing fits before its deadline the earliest start after it (:func:`_place_late`). Every
placement is booked through the engine's ``book`` callback and recorded in its per-job arrays.
"""

from __future__ import annotations

import math

import numpy as np

from greendispatch.dispatch.base import sliding_sums

_EPS = 1e-9
LATE_LOOKAHEAD_H = 14 * 24  # how far past a missed deadline a late start is searched


def _place_contiguous(jv, sv, policy, free, k, nd, hub, start, n_slots, segments, book) -> bool:
    scores = np.asarray(policy.scores(jv, sv), dtype=np.float64)  # a new array: ours to edit
    if not jv.all_allowed:
        scores[~jv.allowed] = np.inf
    if jv.waits:
        scores[np.arange(jv.L)[None, :] < jv.es[:, None]] = np.inf
    flat = scores.ravel()
    t, d = sv.t, jv.d
    idx = int(np.argmin(flat))
    if not np.isfinite(flat[idx]):
        return False
    h, lo = divmod(idx, jv.L)
    if free[h, k, t + lo : t + lo + d].min() < nd:
        # The best candidate is full: mask every start whose window lacks capacity somewhere.
        scores[~_fits(free[:, k, t : t + jv.L + d - 1], nd, d)] = np.inf
        idx = int(np.argmin(flat))
        if not np.isfinite(flat[idx]):
            return False
        h, lo = divmod(idx, jv.L)
    _commit(jv, sv, h, t + lo, d, k, hub, start, n_slots, segments, book)
    return True


def _fits(free_w: np.ndarray, nd: int, d: int) -> np.ndarray:
    """For each row and start offset: do all ``d`` slots from there have ``nd`` free devices?

    Counts slots short of capacity with a cumulative sum: O(width) per row, not O(width x d).
    """
    short = np.zeros((free_w.shape[0], free_w.shape[1] + 1), dtype=np.int32)
    np.cumsum(free_w < nd, axis=1, out=short[:, 1:])
    return (short[:, d:] - short[:, :-d]) == 0


def _place_split(
    jv, sv, scorer, free, k, nd, ckpt_h, dt, dead, hub, start, n_slots, segments, split, book
) -> bool:
    """Interruptible work: the cheapest ``d`` slots (plus checkpoint overhead) at one hub.

    All hubs are ranked at once by the sum of their ``d`` cheapest feasible slots (a lower
    bound); the checkpoint overhead is then added for the best hubs in that order.
    """
    t, width, d = sv.t, dead - sv.t, jv.d
    if width <= d:  # no slack: the one contiguous run is the only choice
        return False
    per = np.asarray(scorer.slot_scores(jv, sv)[:, :width], dtype=np.float64)  # new array
    per[free[:, k, t : t + width] < nd] = np.inf
    if jv.waits:
        per[np.arange(width)[None, :] < jv.es[:, None]] = np.inf
    if not jv.all_allowed:
        per[~jv.allowed] = np.inf
    # Each hub's d cheapest slots, summed in ascending order (sorting the rows is quicker than
    # np.partition here: numpy's sort is vectorised).
    bound = np.sort(per, axis=1)[:, :d].sum(axis=1)
    lower = bound.tolist()
    # Two hubs at most: where overhead defeats splitting at the best, it rarely pays elsewhere
    # (the job then runs contiguously).
    for h in np.argsort(bound, kind="stable")[:2].tolist():
        if not math.isfinite(lower[h]):
            return False
        row = per[h]
        whole, at, all_finite = _best_window(row, d)
        # A split costs at least ``bound``: when one run is no dearer, take it (no resumes).
        found = (
            None
            if lower[h] >= whole
            else _cheapest_slots(row, d, ckpt_h, dt, all_finite, jv.spare, jv.last_room)
        )
        if found is None or whole <= row[found[0]].sum():
            if math.isfinite(whole):
                _commit(jv, sv, h, t + at, d, k, hub, start, n_slots, segments, book)
                return True
            continue
        pick, pieces = found
        if pieces == 1:  # one piece needs no resume: exactly d slots
            _commit(jv, sv, h, t + int(pick[0]), d, k, hub, start, n_slots, segments, book)
            return True
        _commit_pieces(jv, sv, h, k, pick + t, pieces, hub, start, n_slots, segments, split, book)
        return True
    return False


def _commit_pieces(jv, sv, h, k, slots, pieces, hub, start, n_slots, segments, split, book):
    """Book an interruptible job's ``slots`` (absolute, sorted, ``pieces`` runs) at hub ``h``."""
    j = jv.index
    book(j, h, k, slots, sv, float(jv.marginal_mw[h]))
    hub[j], start[j], n_slots[j], segments[j] = h, slots[0], len(slots), pieces
    split[j] = slots.astype(np.int32)


def _place_prescribed(
    jv, sv, h, slots, free, k, nd, ckpt_h, dt, dead, hub, start, n_slots, segments, split, book
) -> bool:
    """Place the job at hub ``h`` in ``slots`` (sorted, absolute) if the engine's own checks
    pass: an allowed hub, inside the window after the data transfer, whole devices free in
    every slot, one piece unless interruptible, and exactly the work plus the resume overhead
    of its pieces. False (nothing booked) if any fails."""
    slots = np.asarray(slots, dtype=np.int64)
    t, d = sv.t, jv.d
    if not (0 <= h < len(jv.allowed)) or not (jv.all_allowed or jv.allowed[h]) or not len(slots):
        return False
    if slots[0] < t + int(jv.es[h]) or slots[-1] >= dead or np.any(np.diff(slots) < 1):
        return False
    pieces = 1 + int(np.count_nonzero(np.diff(slots) > 1))
    if pieces > 1 and not (jv.interruptible and d > 1):
        return False
    if len(slots) != slots_needed(d, pieces, ckpt_h, dt, jv.spare):
        return False
    if slots[-1] == dead - 1 and last_part(d, pieces, ckpt_h, dt, jv.spare) > jv.last_room + _EPS:
        return False  # its resumes would end the work after the deadline
    if free[h, k, slots].min() < nd:
        return False
    if pieces == 1:
        _commit(jv, sv, h, int(slots[0]), d, k, hub, start, n_slots, segments, book)
        return True
    _commit_pieces(jv, sv, h, k, slots, pieces, hub, start, n_slots, segments, split, book)
    return True


def slots_needed(d: int, pieces: int, ckpt_h: float, dt: float, spare: float = 0.0) -> int:
    """Whole slots that a job's work (``d`` slots, the last ``spare`` of a slot short) and a
    resume overhead of ``ckpt_h`` per extra piece fill, in order: at least ``d``."""
    return d + max(0, math.ceil((pieces - 1) * ckpt_h / dt - spare - _EPS))


def last_part(d: int, pieces: int, ckpt_h: float, dt: float, spare: float = 0.0) -> float:
    """The part of its last slot (in slots) that a job's work and resumes fill, laid out in
    :func:`slots_needed` slots."""
    n = slots_needed(d, pieces, ckpt_h, dt, spare)
    return d - spare + (pieces - 1) * ckpt_h / dt - (n - 1)


def _cheapest_slots(
    row: np.ndarray,
    d: int,
    ckpt_h: float,
    dt: float,
    all_finite: bool = False,
    spare: float = 0.0,
    last_room: float = 1.0,
) -> tuple[np.ndarray, int] | None:
    """Slot offsets (sorted) of the cheapest slots of ``row`` (inf = unavailable) that give ``d``
    slots of work plus the checkpoint overhead of resuming after each gap, and the number of
    pieces they form; None if there are too few. ``row``'s last slot is the window's: the work
    may fill only ``last_room`` of it (and end by the deadline), so a split whose resumes push
    its end past that gives the slot up."""
    found = _cheapest_pick(row, d, ckpt_h, dt, all_finite, spare)
    if found is None or found[0][-1] != len(row) - 1:
        return found
    if last_part(d, found[1], ckpt_h, dt, spare) <= last_room + _EPS:
        return found
    row = row.copy()
    row[-1] = np.inf
    return _cheapest_pick(row, d, ckpt_h, dt, False, spare)


def _cheapest_pick(
    row: np.ndarray, d: int, ckpt_h: float, dt: float, all_finite: bool, spare: float
) -> tuple[np.ndarray, int] | None:
    available = len(row) if all_finite else int(np.count_nonzero(np.isfinite(row)))
    need = d
    for tries in range(4):
        if need > available:
            return None
        pick = row.argpartition(need - 1)[:need]
        pick.sort()
        pieces = 1 + int(np.count_nonzero(pick[1:] - pick[:-1] > 1))  # gaps split pieces
        total = slots_needed(d, pieces, ckpt_h, dt, spare)
        if total == need:
            return pick, pieces
        if total < need and tries >= 2:  # fewer pieces than paid for: drop the spare slots
            return _trim(pick, row, d, ckpt_h, dt, spare)
        need = total
    return None


def _trim(
    pick: np.ndarray, row: np.ndarray, d: int, ckpt_h: float, dt: float, spare: float = 0.0
) -> tuple[np.ndarray, int]:
    """Drop the dearest slots at the edges of pieces until exactly ``d`` slots of work plus the
    resume overhead of the remaining pieces are left (dropping an edge never adds a piece).
    ``pick`` is sorted; among equally dear edges the earliest goes."""
    slots = pick
    while True:
        gap = slots[1:] - slots[:-1] > 1  # a gap between slot i and slot i + 1
        pieces = 1 + int(np.count_nonzero(gap))
        if len(slots) <= slots_needed(d, pieces, ckpt_h, dt, spare):
            return slots, pieces
        edge = np.ones(len(slots), dtype=bool)  # the first and last slots are edges
        edge[1:-1] = gap[:-1] | gap[1:]
        edges = np.flatnonzero(edge)
        drop = int(edges[row[slots[edges]].argmax()])
        slots = np.concatenate((slots[:drop], slots[drop + 1 :]))


def _best_window(row: np.ndarray, d: int) -> tuple[float, int, bool]:
    """The lowest sum over ``d`` consecutive finite values of ``row`` (inf if none), where that
    run starts (the earliest on ties), and whether every value of ``row`` is finite."""
    n = len(row)
    finite = np.isfinite(row)
    all_finite = bool(finite.all())
    if n < d:
        return float("inf"), 0, all_finite
    if all_finite:  # the common case: one sum, then a running difference over the starts
        first = row[:d].sum()
        if n == d:
            return float(first), 0, True
        later = np.cumsum(row[d:] - row[:-d])  # starts 1 .. n-d
        later += first
        at = int(later.argmin())
        if first <= later[at]:
            return float(first), 0, True
        return float(later[at]), at + 1, True
    both = sliding_sums(np.stack([np.where(finite, row, 0.0), ~finite]), d, n - d + 1)
    sums = both[0]
    sums[both[1] > 0.5] = np.inf  # a window with an unavailable slot
    at = int(sums.argmin())
    return float(sums[at]), at, False


def _place_late(jv, sv, free, k, nd, n_t, dt, hub, start, n_slots, segments, book) -> None:
    """Earliest start at any allowed hub (nearest first on ties), past the deadline if need be."""
    t, d = sv.t, jv.d
    end = min(n_t, t + d + int(LATE_LOOKAHEAD_H / dt))
    best: tuple[int, int, int] | None = None
    for h in np.flatnonzero(jv.allowed):
        s0 = t + int(jv.es[h])
        if s0 + d > end:
            continue
        fit = np.flatnonzero(_fits(free[h : h + 1, k, s0:end], nd, d)[0])
        if len(fit):
            cand = (s0 + int(fit[0]), int(jv.rank[h]), int(h))
            if best is None or cand < best:
                best = cand
    if best is not None:
        _commit(jv, sv, best[2], best[0], d, k, hub, start, n_slots, segments, book)


def _commit(jv, sv, h, s, d, k, hub, start, n_slots, segments, book) -> None:
    j = jv.index
    book(j, h, k, slice(s, s + d), sv, float(jv.marginal_mw[h]))
    hub[j], start[j], n_slots[j], segments[j] = h, s, d, 1
