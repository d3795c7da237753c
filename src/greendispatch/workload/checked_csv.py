"""Read a CSV file's columns with the line number of every row, for the trace readers.

:func:`read_checked_csv` takes the columns a format needs (numbers as float64, times as UTC
date-times, text), skips blank lines and raises :class:`~greendispatch.errors.DataFileError`
naming the file, the 1-based line (header = line 1; a row's first line, counting blank lines and
line breaks inside quoted fields) and the column at the first thing wrong: a
missing or repeated column, a malformed row, a missing value, a non-number, an infinite number or
an unparseable time. :func:`check_rows` does the same for a rule a reader checks itself. The fast
path is pandas' C parser; only when it fails is the file re-read as text to find the first bad
line.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from greendispatch.errors import DataFileError


@dataclass(frozen=True)
class Col:
    name: str
    kind: Literal["number", "text", "time"] = "number"
    required: bool = True  # the header must have it
    blank_ok: bool = False  # cells may be empty


_NA = {"", "nan", "na", "n/a", "null", "none", "<na>", "#n/a", "-nan"}


def read_checked_csv(path: str | Path, cols: list[Col]) -> tuple[pd.DataFrame, np.ndarray]:
    """The columns ``cols`` of a CSV file (numbers as float64, times as UTC datetimes) and each
    row's 1-based line number. Blank lines are skipped; anything else wrong raises DataFileError.
    """
    p = Path(path)
    if not p.is_file():
        why = (
            "is a folder, expected a CSV file"
            if p.is_dir()
            else "is not a regular file (a device or a pipe), expected a CSV file"
            if p.exists()
            else "file not found"
        )
        raise DataFileError(path, f"{why} (looked at {p.resolve()})")
    try:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            first = fh.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(path, f"cannot read the file as UTF-8 text: {exc}") from None
    needed = ",".join(c.name for c in cols if c.required)
    if not first.strip():
        raise DataFileError(path, f"the file is empty; expected a header line: {needed}", line=1)
    header = next(csv.reader([first]))
    twice = sorted({h for h in header if header.count(h) > 1 and h})
    if twice:
        raise DataFileError(path, f"column '{twice[0]}' appears twice in the header", line=1,
                            column=twice[0])  # fmt: skip
    for c in cols:
        if c.required and c.name not in header:
            close = difflib.get_close_matches(c.name, header, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise DataFileError(
                path,
                f"missing column '{c.name}' (the header has: {', '.join(header)}){hint}",
                line=1,
                column=c.name,
            )
    present = [c for c in cols if c.name in header]
    dtypes = {c.name: ("float64" if c.kind == "number" else "str") for c in present}
    opts: dict[str, Any] = {"skip_blank_lines": False, "encoding": "utf-8-sig", "engine": "c"}
    try:
        df = pd.read_csv(p, dtype=dtypes, **opts)
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+)", str(exc))  # pandas counts rows, not lines
        msg = re.sub(r" in line \d+", "", str(exc).split("C error: ")[-1].strip())
        line = int(row_lines(p, int(m[1]))[-1]) if m else None
        raise DataFileError(path, f"malformed row: {msg}", line=line) from None
    except UnicodeDecodeError as exc:
        raise DataFileError(path, f"cannot read the file as UTF-8 text: {exc}") from None
    except ValueError as exc:
        _raise_first_non_number(p, path, present, opts, str(exc))
    lines = row_lines(p, len(df) + 1)[1:]
    blank = df.isna().all(axis=1).to_numpy()
    if blank.any():
        df, lines = df[~blank].reset_index(drop=True), lines[~blank]
    if len(df) == 0:
        raise DataFileError(path, "no data rows after the header", line=2)
    for c in present:
        col = df[c.name]
        if not c.blank_ok:
            check_rows(path, lines, col.isna().to_numpy(), c.name, "missing value")
        if c.kind == "number":
            x = col.to_numpy()
            check_rows(path, lines, np.isinf(x), c.name, "must be a finite number", x)
        elif c.kind == "time":
            t = pd.to_datetime(col, format="ISO8601", errors="coerce", utc=True)
            bad = (t.isna() & col.notna()).to_numpy()
            check_rows(path, lines, bad, c.name, "not a date-time like 2023-11-16 18:17:03", col)
            df[c.name] = t
    return df, lines


def _raise_first_non_number(
    p: Path, path: str | Path, cols: list[Col], opts: dict[str, Any], why: str
) -> None:
    raw = pd.read_csv(p, dtype=str, keep_default_na=False, **opts)
    best: tuple[int, str, str] | None = None
    for c in cols:
        if c.kind != "number":
            continue
        s = raw[c.name].str.strip()
        num = pd.to_numeric(s, errors="coerce")
        bad = np.flatnonzero((num.isna() & ~s.str.lower().isin(_NA)).to_numpy())
        if bad.size and (best is None or bad[0] < best[0]):
            best = (int(bad[0]), c.name, str(s.iloc[bad[0]]))
    if best is None:
        raise DataFileError(path, f"cannot parse the file: {why}")
    line = int(row_lines(p, best[0] + 2)[-1])
    raise DataFileError(path, f"not a number: '{best[2]}'", line=line, column=best[1])


def row_lines(p: Path, n: int) -> np.ndarray:
    """The 1-based line on which each of the first ``n`` rows of the file (the header is row 1,
    a blank line a row) begins. A row is one line unless a quoted field holds a line break,
    which only a file with a ``"`` can have: only such a file is read again to count them."""
    plain = np.arange(1, n + 1)
    try:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            if '"' not in fh.read():
                return plain
            fh.seek(0)
            reader = csv.reader(fh)
            starts, end = [], 0
            for _ in reader:
                starts.append(end + 1)
                end = reader.line_num
                if len(starts) == n:
                    return np.array(starts)
    except (OSError, UnicodeDecodeError, csv.Error):
        pass
    return plain  # the file did not read as pandas read it: one line per row


def check_rows(
    path: str | Path,
    lines: np.ndarray,
    bad: np.ndarray,
    column: str,
    message: str,
    values: Any = None,
) -> None:
    """Raise DataFileError at the first row where ``bad`` is true (with its value, if given)."""
    idx = np.flatnonzero(bad)
    if idx.size:
        i = int(idx[0])
        if values is not None:
            v = values.iloc[i] if isinstance(values, pd.Series) else values[i]
            message += f" (got {v:g})" if isinstance(v, float) else f" (got {v!r})"
        raise DataFileError(path, message, line=int(lines[i]), column=column)


def _whole(path: str | Path, lines: np.ndarray, x: np.ndarray, column: str, low: float) -> None:
    check_rows(path, lines, x < low, column, f"must be >= {low:g}", x)
    check_rows(path, lines, x != np.floor(x), column, "must be a whole number", x)
