"""China green electricity certificates (GEC, 绿证): 1 MWh each, 32-digit numeric ids, monthly.

Real GECs carry the 32-digit numbers of the national registry (国家绿证核发交易系统); this module
checks that format. For simulated runs it makes its own ids, a **simulation stand-in** for
registry ids, with this scheme (32 digits)::

    99 HHHH YYYY MM SSSSSSSSSSSSSSSSSSSS
    |  |    |    |  serial within the hub-month, from 1 (20 digits)
    |  |    |    month of production (UTC)
    |  |    year of production
    |  hub number (1-based position in the scenario)
    "99": marks a simulated id

For each hub-month ``floor(contracted green used, MWh)`` GECs are issued against the hub's
contracted supply; each beneficiary gets ``floor(its claims on that month's contracted bundles,
MWh)`` of them cancelled on its behalf, so that nobody holds more GEC MWh than it claimed. What
is left (the beneficiaries' fractions of a MWh) stays active, uncancelled. An id is cancelled at
most once: a second claim raises :class:`InputError`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from greendispatch.errors import InputError
from greendispatch.ledger.certificates import WH_PER_MWH, HourAxis

GEC_DIGITS = 32
SIM_PREFIX = "99"
_FIELDS = (2, 4, 4, 2, 20)  # prefix, hub, year, month, serial


def check_gec_id(gec_id: object) -> str:
    """Return ``gec_id`` if it is 32 ASCII digits, else raise InputError saying what is wrong."""
    if not isinstance(gec_id, str):
        raise InputError(f"GEC id {gec_id!r} must be a string of {GEC_DIGITS} digits")
    bad = [(i + 1, c) for i, c in enumerate(gec_id) if c not in "0123456789"]
    problems = []
    if len(gec_id) != GEC_DIGITS:
        problems.append(f"has {len(gec_id)} characters, expected {GEC_DIGITS}")
    if bad:
        shown = ", ".join(f"{c!r} at {i}" for i, c in bad[:5]) + (" ..." if len(bad) > 5 else "")
        problems.append(f"has non-digits ({shown})")
    if problems:
        raise InputError(f"GEC id '{gec_id}' " + " and ".join(problems))
    return gec_id


def make_gec_id(hub_number: int, year: int, month: int, serial: int) -> str:
    """A simulated GEC id (scheme in the module docstring)."""
    if not (0 < hub_number < 10**4 and 0 <= year < 10**4 and 1 <= month <= 12 and serial > 0):
        raise InputError(f"cannot make a GEC id from hub {hub_number}, {year}-{month}, #{serial}")
    return f"{SIM_PREFIX}{hub_number:04d}{year:04d}{month:02d}{serial:020d}"


def parse_gec_id(gec_id: str) -> tuple[int, int, int, int]:
    """(hub number, year, month, serial) of a simulated id; InputError for any other id."""
    check_gec_id(gec_id)
    if not gec_id.startswith(SIM_PREFIX):
        raise InputError(f"GEC id '{gec_id}' is not a simulated id (they start with 99)")
    cuts = np.cumsum(_FIELDS)
    parts = [int(gec_id[a:b]) for a, b in itertools.pairwise(cuts)]
    return parts[0], parts[1], parts[2], parts[3]


@dataclass
class _Block:
    """The GECs of one hub-month: owner per serial - 1 (-1 active, else a beneficiary code)."""

    hub: int
    year: int
    month: int
    owner: np.ndarray


class GecRegistry:
    """Issued and cancelled simulated GECs of a run, by hub-month."""

    def __init__(self, hub_ids: Sequence[str]):
        self.hub_ids = tuple(hub_ids)
        self._blocks: dict[tuple[int, int, int], _Block] = {}
        self._names: list[str] = []
        self._log: list[tuple[int, int, int, int, int, int]] = []  # hub, y, m, who, first, n

    def _code(self, beneficiary: str) -> int:
        if beneficiary not in self._names:
            self._names.append(beneficiary)
        return self._names.index(beneficiary)

    def issue(self, hub: int, year: int, month: int, count: int) -> None:
        key = (hub, year, month)
        if key in self._blocks:
            raise InputError(f"GECs for {self.hub_ids[hub]} {year}-{month:02d} are already issued")
        self._blocks[key] = _Block(hub, year, month, np.full(count, -1, dtype=np.int32))

    def issued(self, hub: int, year: int, month: int) -> int:
        block = self._blocks.get((hub, year, month))
        return 0 if block is None else len(block.owner)

    def _block_of(self, gec_id: str) -> tuple[_Block, int]:
        hub_no, year, month, serial = parse_gec_id(gec_id)
        block = self._blocks.get((hub_no - 1, year, month))
        if block is None or serial > len(block.owner):
            raise InputError(f"GEC {gec_id} was not issued in this run")
        return block, serial - 1

    def owner(self, gec_id: str) -> str | None:
        """Who it was cancelled for; None while active."""
        block, i = self._block_of(gec_id)
        who = int(block.owner[i])
        return None if who < 0 else self._names[who]

    def cancel(self, gec_id: str, beneficiary: str) -> None:
        """Cancel one GEC on behalf of ``beneficiary``; InputError if it was claimed before."""
        block, i = self._block_of(gec_id)
        if block.owner[i] >= 0:
            raise InputError(
                f"GEC {gec_id} is already cancelled for {self._names[block.owner[i]]}: "
                "a GEC is claimed once"
            )
        who = self._code(beneficiary)
        block.owner[i] = who
        self._log.append((block.hub, block.year, block.month, who, i, 1))

    def cancel_next(self, hub: int, year: int, month: int, beneficiary: str, count: int) -> None:
        """Cancel the next ``count`` active GECs of a hub-month for ``beneficiary``."""
        block = self._blocks.get((hub, year, month))
        free = np.flatnonzero(block.owner < 0)[:count] if block else np.zeros(0, dtype=int)
        if len(free) < count:
            raise InputError(
                f"{self.hub_ids[hub]} {year}-{month:02d} has {len(free)} active GECs, "
                f"cannot cancel {count}"
            )
        who = self._code(beneficiary)
        block.owner[free] = who
        cuts = np.flatnonzero(np.diff(free) != 1) + 1
        for run in np.split(free, cuts):
            if len(run):
                self._log.append((hub, year, month, who, int(run[0]), len(run)))

    def _range(self, hub: int, year: int, month: int, first: int, n: int) -> dict[str, Any]:
        return {
            "hub": self.hub_ids[hub],
            "month": f"{year:04d}-{month:02d}",
            "first": make_gec_id(hub + 1, year, month, first + 1),
            "last": make_gec_id(hub + 1, year, month, first + n),
            "count": n,
        }

    def cancellations(self, beneficiary: str | None = None) -> list[dict[str, Any]]:
        """Cancelled id ranges in the order they were cancelled (of one beneficiary, or all)."""
        out = []
        for hub, year, month, who, first, n in self._log:
            if beneficiary is None or self._names[who] == beneficiary:
                out.append(
                    {"beneficiary": self._names[who], **self._range(hub, year, month, first, n)}
                )
        return out

    def month_entry(self, hub: int, year: int, month: int) -> dict[str, Any]:
        """The ledger entry of one hub-month: issued range, cancellations, active count."""
        n = self.issued(hub, year, month)
        cancelled = [
            {"beneficiary": self._names[who], **self._range(h, y, m, first, k)}
            for h, y, m, who, first, k in self._log
            if (h, y, m) == (hub, year, month)
        ]
        for c in cancelled:
            del c["hub"], c["month"]
        block = self._blocks.get((hub, year, month))
        issued = None
        if n:
            issued = self._range(hub, year, month, 0, n)
            del issued["hub"], issued["month"]
        return {
            "type": "gec-month",
            "hub": self.hub_ids[hub],
            "month": f"{year:04d}-{month:02d}",
            "issued": issued,
            "cancelled": cancelled,
            "active": int((block.owner < 0).sum()) if block else 0,
        }

    @property
    def n_issued(self) -> int:
        return sum(len(b.owner) for b in self._blocks.values())

    @property
    def n_cancelled(self) -> int:
        return sum(int((b.owner >= 0).sum()) for b in self._blocks.values())


def settle_months(
    registry: GecRegistry,
    contracted_wh: np.ndarray,
    claim_hub: np.ndarray,
    claim_hour: np.ndarray,
    claim_code: np.ndarray,
    claim_wh: np.ndarray,
    beneficiaries: Sequence[str],
    axis: HourAxis,
) -> list[tuple[int, int]]:
    """Issue each hub-month's GECs and cancel, for each beneficiary, the whole MWh of its
    contracted-green claims (floored: never more than it claimed; the rest stays active).
    Returns the (year, month) pairs in time order."""
    ym = axis.year.astype(np.int64) * 12 + axis.month - 1
    months, first_hour, month_of_hour = np.unique(ym, return_index=True, return_inverse=True)
    n_h = contracted_wh.shape[0]
    per_month = np.add.reduceat(contracted_wh, first_hour, axis=1)  # hours are in time order
    claims = np.zeros((n_h, len(months), len(beneficiaries)), dtype=np.int64)
    np.add.at(claims, (claim_hub, month_of_hour[claim_hour], claim_code), claim_wh)
    pairs = [(int(m // 12), int(m % 12) + 1) for m in months]
    for h in range(n_h):
        for i, (year, month) in enumerate(pairs):
            registry.issue(h, year, month, int(per_month[h, i] // WH_PER_MWH))
            for b, k in enumerate((claims[h, i] // WH_PER_MWH).tolist()):
                if k:
                    registry.cancel_next(h, year, month, beneficiaries[b], k)
    return pairs
