"""A bound for the whole horizon from the duals of overlapping windows (weak duality).

The presence LP of a year is too large to solve in one piece here, and solving it in
segments loosens the bound at every edge (a job crossing it may split its work freely between
the two). Instead, windows that overlap are solved, and each gives the duals of its middle
part, away from the window's edges, where they are close to the whole horizon's own (the
effect of an edge fades with the time from it). Stitched, they are one dual vector ``y`` of the
whole horizon's LP, and for *any* ``y`` of the right signs

    L(y) = sum over rows of y x (the row's bound its sign points to)
         + sum over columns of min(z lb, z ub),   z = c - A^T y

is a lower bound on the LP's optimum (weak duality). Two things make it tight:

- each class's row (its shares sum to its devices) gets the best dual for the rest of ``y``
  in closed form: the least reduced cost among its hubs' shares;
- columns without an upper bound in the LP get one every solution satisfies (devices present
  at most the shares that can be there; budgets at most those still open; grid energy at most
  the load), so a small negative reduced cost where windows meet costs a little, not the bound.

The bound is valid whatever the windows' duals are; the windows only make it good.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from greendispatch.opt.lp import LPSolution
from greendispatch.opt.presence import PresenceLP, PresencePlan

# Row blocks indexed by (hub, pool kind) pair and slot, and by hub (with a battery) and slot.
_PAIR_ROWS = (
    "present_balance",
    "budget_balance",
    "open_budget_balance",
    "core_balance",
    "pause_limit",
    "budget_limit",
    "capacity",
)
_POTENTIALS = ("present_balance", "open_budget_balance", "core_balance")
_HUB_ROWS = ("own_supply", "balance")
_BATTERY_ROWS = ("storage", "grid_charge_limit")


def windows(n_t: int, window: int, step: int) -> list[tuple[int, int, int, int]]:
    """(a, b, lo, hi): window ``a .. b-1`` serves slots ``lo .. hi-1``; the kept parts tile
    ``0 .. n_t-1`` and each lies mid-window, ``(window - step) // 2`` from its edges (the first
    and last reach the horizon's ends). A last window shorter than half of one joins the one
    before (``step == window``: segments, no short last one)."""
    if n_t <= window:
        return [(0, n_t, 0, n_t)]
    margin = (window - step) // 2
    out, lo, a = [], 0, 0
    while a + window < n_t:
        out.append((a, a + window, lo, a + margin + step))
        lo = a + margin + step
        a += step
    out.append((a, n_t, lo, n_t))
    if len(out) > 1 and n_t - a < window // 2:
        out.pop()
        a, _, lo, _ = out.pop()
        out.append((a, n_t, lo, n_t))
    return out


def keep_slots(plan: PresencePlan, lo: int, hi: int) -> PresencePlan:
    """A window's plan in the slots it keeps (``lo .. hi-1`` of the window)."""
    return dataclasses.replace(
        plan,
        running=plan.running[:, :, lo:hi],
        capacity_price=plan.capacity_price[:, :, lo:hi],
        charge_mwh=plan.charge_mwh[:, lo:hi],
        discharge_mwh=plan.discharge_mwh[:, lo:hi],
    )


def stitched_bound(whole: PresenceLP, spans, parts) -> float:
    """The bound L(y) of the whole horizon's presence LP ``whole`` from the duals of the
    windows ``spans`` (see :func:`windows`), ``parts[k]`` window k's (:func:`window_duals`)."""
    a = whole.lp.matrix().tocsr()  # a year's: assembled once, for the bounds and for L(y)
    ub = finite_ub(whole, a)
    return dual_bound(whole, _stitch(whole, spans, parts, whole.n_slots, ub), ub, a)


def window_duals(whole: PresenceLP, part: PresenceLP, sol: LPSolution, w_t: int) -> dict:
    """Per row block of the whole LP: (rows of the whole block's (rows, T) view, the window's
    duals (rows, ``w_t`` window slots))."""
    where = {(int(h), int(k)): i for i, (h, k) in enumerate(zip(*whole.pairs, strict=True))}
    p_map = np.array([where.get((int(h), int(k)), -1) for h, k in zip(*part.pairs, strict=True)],
                     dtype=np.int64)  # fmt: skip
    n_hubs = (part.lp.rows["balance"].stop - part.lp.rows["balance"].start) // w_t
    maps = {name: p_map for name in _PAIR_ROWS}
    maps.update({name: np.arange(n_hubs) for name in _HUB_ROWS})
    b_map = np.searchsorted(whole.battery_hubs, part.battery_hubs)
    maps.update({name: b_map for name in _BATTERY_ROWS})
    out = {}
    for name, rows in maps.items():
        if name in part.lp.rows and name in whole.lp.rows:
            src = sol.dual(name).reshape(len(rows), w_t)
            ok = rows >= 0
            out[name] = (rows[ok], src[ok])
    return out


def _stitch(whole: PresenceLP, spans, parts, n_t: int, ub: np.ndarray) -> np.ndarray:
    """The whole LP's duals from the windows'. Two windows join at one slot of their overlap's
    middle half: the one where the columns that link the two windows lose least (the budgets'
    and the batteries' states of charge, their reduced cost below 0 times their bound). The
    duals of the chains that only differences of enter (devices present, open budgets, cores:
    their shares arrive and leave) are potentials, each window's with an offset of its own: a
    window's are shifted to meet the next one's where they join, so the column linking the two
    slots keeps the window's own reduced cost."""
    y = np.zeros(whole.lp.n_rows)
    cut = [0] + [spans[k][2] for k in range(1, len(spans))] + [n_t]
    for k in range(1, len(spans)):
        a0, b0, _, _ = spans[k - 1]
        a1 = spans[k][0]
        q = (b0 - a1) // 4
        cand = np.arange(a1 + q + 1, b0 - q)
        if len(cand) and parts[k - 1] and parts[k]:
            loss = sum(_link_loss(whole, parts[k - 1], parts[k], a0, a1, cand, ub, name, n_t)
                       for name in ("budget_balance", "storage"))  # fmt: skip
            cut[k] = int(cand[np.argmin(loss)])
    for k in range(len(spans) - 1, -1, -1):
        a, s0, s1 = spans[k][0], cut[k], cut[k + 1]
        for name, (rows, src) in parts[k].items():
            dst = y[whole.lp.rows[name].slice].reshape(-1, n_t)
            vals = src[:, s0 - a : s1 - a]
            if name in _POTENTIALS and k + 1 < len(spans) and parts[k + 1]:
                vals = vals + (dst[rows, s1] - src[:, s1 - a])[:, None]
            dst[rows, s0:s1] = vals
    return y


def _link_loss(whole, left, right, a0, a1, cand, ub, chain, n_t) -> np.ndarray:
    """Per candidate slot s where two windows join: what the columns of ``chain`` (a budget or
    a state of charge at s-1, entering rows s-1 and s) lose, their reduced cost below 0 times
    their bound, with rows s-1 from the left window and s from the right."""
    if chain not in left or chain not in right:
        return np.zeros(len(cand))
    (r0, y0), (r1, y1) = left[chain], right[chain]
    if not np.array_equal(r0, r1):
        return np.zeros(len(cand))
    col, limit = ("budget", "budget_limit") if chain == "budget_balance" else ("soc", None)
    if chain == "storage":  # soc[s-1] - soc[s-2] ... : + in row s-1, - in row s
        link = y0[:, cand - 1 - a0] - y1[:, cand - a1]
    else:
        _, lim = left[limit]
        link = y0[:, cand - 1 - a0] - y1[:, cand - a1] + np.minimum(lim[:, cand - 1 - a0], 0.0)
    bound = ub[whole.lp.cols[col].slice].reshape(-1, n_t)[r0][:, cand - 1]
    return (np.maximum(link, 0.0) * bound).sum(axis=0)


def dual_bound(model: PresenceLP, y: np.ndarray, ub: np.ndarray | None = None, a=None) -> float:
    """L(y) of the presence LP (see the module docstring): ``y`` clipped to the signs its rows
    allow, each class's dual set to its best, columns without an upper bound given one.
    ``a``: the LP's matrix (CSR), when the caller has it."""
    lp = model.lp
    a = lp.matrix().tocsr() if a is None else a
    lo, hi = lp.vector("lo"), lp.vector("hi")
    y = y.copy()
    y[~np.isfinite(lo)] = np.minimum(y[~np.isfinite(lo)], 0.0)  # row <= hi: y <= 0
    y[~np.isfinite(hi)] = np.maximum(y[~np.isfinite(hi)], 0.0)  # row >= lo: y >= 0
    cost, lb = lp.vector("cost"), lp.vector("lb")
    ub = finite_ub(model, a) if ub is None else ub
    rows = lp.rows["share_sum"].slice
    y[rows] = 0.0
    # In extended precision: duals of the potentials may be large (their offset is free), and
    # their round-off must not lift the bound.
    y_x = y.astype(np.longdouble)
    z = cost.astype(np.longdouble) - a.T.astype(np.longdouble) @ y_x
    share = lp.cols["share"].slice
    ac = model.share_index[0]
    has = np.flatnonzero(np.bincount(ac, minlength=model.classes.n_classes) > 0)
    row_of_class = np.full(model.classes.n_classes, -1, dtype=np.int64)
    row_of_class[has] = np.arange(len(has))
    best = np.full(len(has), np.inf)
    np.minimum.at(best, row_of_class[ac], z[share].astype(np.float64))
    y[rows] = best
    y_x[rows] = best
    z[share] -= best[row_of_class[ac]]  # each share enters its class's row with 1
    row_part = np.where(y > 0, lo, hi)
    row_part = np.where(y == 0, 0.0, row_part)
    if not np.isfinite(row_part[y != 0]).all():
        return -np.inf
    with np.errstate(invalid="ignore"):  # z >= 0 takes lb (finite), z < 0 takes ub (-inf if inf)
        col_part = np.where(z >= 0, z * lb, z * ub)
    return float(y_x @ np.where(y != 0, row_part, 0.0) + col_part.sum())


def finite_ub(model: PresenceLP, a=None) -> np.ndarray:
    """Upper bounds every solution of the presence LP satisfies, for the columns the LP leaves
    unbounded above: devices present (and paused, and in a job's core) at most the shares that
    can be present; budgets at most those still open; grid energy at most the load. ``a``: the
    LP's matrix (CSR), when the caller has it."""
    lp = model.lp
    ub = lp.vector("ub").copy()
    a = lp.matrix().tocsr() if a is None else a
    n_p = len(model.pairs[0])
    n_t = model.n_slots
    share = lp.cols["share"].slice
    share_ub = ub[share]
    # what the shares bring in and take out of each pair-slot's chain (present[t] -
    # present[t-1] - arrivals + departures = 0, and open budgets alike), at their most
    present_ub = _open_total(lp, a, "present_balance", share_ub, n_p, n_t)
    for name in ("present", "pause", "core"):
        if name in lp.cols:
            ub[lp.cols[name].slice] = present_ub
    # budget <= open budget <= the budgets of the shares still open (arrived, not closed)
    open_ub = _open_total(lp, a, "open_budget_balance", share_ub, n_p, n_t)
    ub[lp.cols["budget"].slice] = open_ub
    ub[lp.cols["open_budget"].slice] = open_ub
    # grid <= the load: background plus every present device's energy
    bal = lp.rows["balance"]
    sub = a[bal.start : bal.stop, lp.cols["present"].slice]
    load = (sub.multiply(sub < 0)).multiply(-1) @ present_ub
    base = lp.vector("lo")[bal.start : bal.stop]
    ub[lp.cols["grid"].slice] = np.maximum(base, 0.0) + load + 1e-9
    return ub


def _open_total(lp, a, chain: str, share_ub: np.ndarray, n_p: int, n_t: int) -> np.ndarray:
    """Per pair-slot: the most a chain of running totals can hold, every share at its upper
    bound (shares enter the chain's rows with a negative coefficient and leave with a
    positive one)."""
    block = lp.rows[chain]
    sub = a[block.start : block.stop, lp.cols["share"].slice]
    enter = (sub.multiply(sub < 0)).multiply(-1) @ share_ub
    leave = (sub.multiply(sub > 0)) @ share_ub
    total = np.cumsum((enter - leave).reshape(n_p, n_t), axis=1).ravel()
    return np.maximum(total, 0.0) + 1e-9
