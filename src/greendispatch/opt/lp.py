"""A small vectorised LP assembler on HiGHS: named blocks of columns and rows, one call each.

After PyPSA's linopy: a model is built block by block (each block of variables or constraints
is added in one vectorised call and keeps a stable name), solved once, and read back by block
name. Rows are ``lo <= A x <= hi``; columns ``lb <= x <= ub``; the objective is minimised.
Blocks of integer columns make it a MILP (HiGHS's branch and cut; no duals).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from greendispatch.errors import ModelError

INF = float("inf")


@contextmanager
def _killable() -> Iterator[None]:
    """SIGTERM takes its default action (the process ends at once) while HiGHS solves: Python
    runs a signal handler only between its own steps, and a year's LP is one C++ call of many
    minutes. Nothing is half-written during a solve (results, tables and the ledger are
    written after), so the clean-up the handler would run has nothing to clean."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if before is None else before)


@dataclass
class _Block:
    start: int
    stop: int

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)


@dataclass
class LinearProgram:
    """Columns and rows added in named blocks; entries kept as COO triplets until solved."""

    cols: dict[str, _Block] = field(default_factory=dict)
    rows: dict[str, _Block] = field(default_factory=dict)
    _lb: list[np.ndarray] = field(default_factory=list)
    _ub: list[np.ndarray] = field(default_factory=list)
    _cost: list[np.ndarray] = field(default_factory=list)
    _integer: list[np.ndarray] = field(default_factory=list)
    _lo: list[np.ndarray] = field(default_factory=list)
    _hi: list[np.ndarray] = field(default_factory=list)
    _entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    n_cols: int = 0
    n_rows: int = 0

    def add_cols(
        self, name: str, n: int, lb=0.0, ub=INF, cost=0.0, *, integer: bool = False
    ) -> np.ndarray:
        """``n`` new columns; returns their indices. Bounds and cost broadcast to (n,);
        ``integer``: the columns take whole values (the model becomes a MILP)."""
        if name in self.cols:
            raise ModelError(f"LP column block {name!r} added twice")
        idx = np.arange(self.n_cols, self.n_cols + n, dtype=np.int64)
        self.cols[name] = _Block(self.n_cols, self.n_cols + n)
        self.n_cols += n
        for store, v in ((self._lb, lb), (self._ub, ub), (self._cost, cost)):
            store.append(np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)))
        self._integer.append(np.full(n, integer))
        return idx

    @property
    def is_mip(self) -> bool:
        return any(bool(b.any()) for b in self._integer)

    def add_rows(
        self,
        name: str,
        n: int,
        row: np.ndarray,
        col: np.ndarray,
        val: np.ndarray | float,
        lo=-INF,
        hi=INF,
    ) -> np.ndarray:
        """``n`` new rows with entries (``row`` in 0..n-1 within the block, ``col``, ``val``);
        duplicate (row, col) entries are summed. Returns the rows' indices."""
        if name in self.rows:
            raise ModelError(f"LP row block {name!r} added twice")
        row = np.asarray(row, dtype=np.int64)
        col = np.asarray(col, dtype=np.int64)
        val = np.broadcast_to(np.asarray(val, dtype=np.float64), row.shape)
        if row.size and (row.min() < 0 or row.max() >= n):
            raise ModelError(f"LP row block {name!r}: row index outside 0..{n - 1}")
        self.rows[name] = _Block(self.n_rows, self.n_rows + n)
        self._entries.append((row + self.n_rows, col, val))
        self.n_rows += n
        for store, v in ((self._lo, lo), (self._hi, hi)):
            store.append(np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)))
        return np.arange(self.n_rows - n, self.n_rows, dtype=np.int64)

    def matrix(self) -> sp.csc_matrix:
        if self._entries:
            r, c, v = (np.concatenate(x) for x in zip(*self._entries, strict=True))
        else:
            r = c = np.zeros(0, dtype=np.int64)
            v = np.zeros(0)
        return sp.csc_matrix((v, (r, c)), shape=(self.n_rows, self.n_cols))

    def vector(self, which: str) -> np.ndarray:
        parts = {"lb": self._lb, "ub": self._ub, "cost": self._cost, "lo": self._lo}
        parts["hi"] = self._hi
        p = parts[which]
        return np.concatenate(p) if p else np.zeros(0)

    def solve(
        self,
        *,
        method: str = "choose",
        crossover: bool = True,
        time_limit_s: float | None = None,
        iteration_limit: int | None = None,
        mip_rel_gap: float | None = None,
        mip_start: tuple[np.ndarray, np.ndarray] | None = None,
        options: dict[str, str | int | float | bool] | None = None,
    ) -> LPSolution:
        """Solve with HiGHS; ``method`` is HiGHS's ``solver`` option (choose, simplex, ipm).
        With ``ipm`` and no ``crossover`` the solution is the interior point's (fast, not a
        vertex); the objective reported is then the smaller of the primal and dual values.
        A MILP stopped by ``time_limit_s`` keeps its best schedule found (``feasible``), with
        the relative gap to its proven bound in ``mip_gap``. ``mip_start``: (columns, values)
        of a known schedule (HiGHS completes the columns left out), its first incumbent.
        ``options``: more HiGHS options by name (e.g. ``presolve``, ``simplex_strategy``)."""
        import highspy

        a = self.matrix()
        h = _highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("solver", method)
        h.setOptionValue("threads", 1)
        if not crossover:
            h.setOptionValue("run_crossover", "off")
        if time_limit_s is not None:
            h.setOptionValue("time_limit", float(time_limit_s))
        if iteration_limit is not None:  # deterministic, unlike a time limit
            h.setOptionValue("simplex_iteration_limit", int(iteration_limit))
        for key, value in (options or {}).items():
            h.setOptionValue(key, value)
        mip = self.is_mip
        if mip and mip_rel_gap is not None:
            h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_cols, self.n_rows
        lp.col_cost_ = self.vector("cost")
        lp.col_lower_ = self.vector("lb")
        lp.col_upper_ = self.vector("ub")
        lp.row_lower_ = self.vector("lo")
        lp.row_upper_ = self.vector("hi")
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data
        if mip:
            kind = highspy.HighsVarType
            lp.integrality_ = [kind.kInteger if i else kind.kContinuous
                               for i in np.concatenate(self._integer).tolist()]  # fmt: skip
        h.passModel(lp)
        if mip and mip_start is not None:
            cols, vals = mip_start
            h.setSolution(len(cols), np.asarray(cols, dtype=np.int32),
                          np.asarray(vals, dtype=np.float64))  # fmt: skip
        t0 = time.perf_counter()
        with _killable():
            h.run()
        solve_s = time.perf_counter() - t0
        status = h.modelStatusToString(h.getModelStatus())
        sol = h.getSolution()
        info = h.getInfo()
        ok = status == "Optimal"
        feasible = ok or (mip and info.primal_solution_status == 2)  # 2: a feasible point
        x = np.asarray(sol.col_value) if feasible else np.zeros(self.n_cols)
        dual = np.asarray(sol.row_dual) if ok and sol.dual_valid else np.zeros(self.n_rows)
        obj = info.objective_function_value if feasible else float("nan")
        if ok and not crossover and sol.dual_valid:
            obj = min(obj, self._dual_objective(a, dual))
        gap = float(info.mip_gap) if mip and feasible else 0.0
        return LPSolution(self, status, ok, float(obj), x, dual, solve_s, feasible, gap)

    def _dual_objective(self, a: sp.csc_matrix, y: np.ndarray) -> float:
        """The dual objective of row duals ``y`` (a lower bound on the optimum whatever ``y``
        is): each row and column contributes at the bound its multiplier's sign points to; a
        reduced cost towards an infinite bound is dropped when it is round-off (-inf when
        not)."""
        z = self.vector("cost") - a.T @ y
        total = 0.0
        for mult, lo, hi in ((y, self.vector("lo"), self.vector("hi")),
                             (z, self.vector("lb"), self.vector("ub"))):  # fmt: skip
            bound = np.where(mult > 0, lo, hi)
            finite = np.isfinite(bound)
            stray = np.abs(mult[~finite]).max(initial=0.0)
            if stray > 1e-7 * max(1.0, float(np.abs(mult).max(initial=0.0))):
                return -np.inf
            total += float(mult[finite] @ bound[finite])
        return total


def _highs():
    """A HiGHS instance. HiGHS prints a banner to the process's stdout when the first one is
    made (before any option can silence it); that would corrupt ``--json`` output, so the
    first is made with stdout pointed at /dev/null."""
    import highspy

    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _BANNER_SHOWN = True
    return h


_BANNER_SHOWN = False


@dataclass
class LPSolution:
    lp: LinearProgram
    status: str
    optimal: bool
    objective: float
    x: np.ndarray
    row_dual: np.ndarray
    solve_s: float
    feasible: bool = False  # a solution to read (always when optimal)
    mip_gap: float = 0.0  # a MILP's relative gap to its proven bound (0 when optimal)

    def col(self, name: str) -> np.ndarray:
        return self.x[self.lp.cols[name].slice]

    def dual(self, name: str) -> np.ndarray:
        return self.row_dual[self.lp.rows[name].slice]
