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
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from greendispatch.errors import InputError, Problem
from greendispatch.ledger.certificates import WH_PER_MWH, HourAxis, month_index, year_month

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
        self._cancel(block, free, beneficiary)

    def cancel_serials(
        self, hub: int, year: int, month: int, beneficiary: str, first: int, count: int
    ) -> None:
        """Cancel serials ``first .. first + count - 1`` of a hub-month for ``beneficiary`` (as a
        ledger's month entry records them); InputError if any was not issued or is cancelled."""
        block = self._blocks.get((hub, year, month))
        n = 0 if block is None else len(block.owner)
        if count < 1 or first < 1 or first + count - 1 > n:
            raise InputError(
                f"GECs #{first}..#{first + count - 1} of {self.hub_ids[hub]} {year}-{month:02d} "
                f"were not issued ({n} were)"
            )
        serials = np.arange(first - 1, first - 1 + count)
        taken = serials[block.owner[serials] >= 0]
        if len(taken):
            gec_id = make_gec_id(hub + 1, year, month, int(taken[0]) + 1)
            raise InputError(f"GEC {gec_id} is cancelled twice: a GEC is claimed once")
        self._cancel(block, serials, beneficiary)

    def _cancel(self, block: _Block, serials: np.ndarray, beneficiary: str) -> None:
        hub, year, month = block.hub, block.year, block.month
        who = self._code(beneficiary)
        block.owner[serials] = who
        cuts = np.flatnonzero(np.diff(serials) != 1) + 1
        for run in np.split(serials, cuts):
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

    def held(
        self, beneficiary: str, hub: int, year: int, month: int, skip: int, count: int
    ) -> list[dict[str, Any]]:
        """Id ranges of the GECs cancelled for ``beneficiary`` at a hub-month, in the order they
        were cancelled, leaving out the first ``skip`` and taking at most ``count``: a part of
        its certificates (a job's)."""
        out = []
        who = self._names.index(beneficiary) if beneficiary in self._names else -2
        for h, y, m, w, first, n in self._log:
            if (h, y, m, w) != (hub, year, month, who):
                continue
            a = min(skip, n)
            k = min(n - a, count)
            skip, count = skip - a, count - k
            if k:
                out.append(self._range(hub, year, month, first + a, k))
        return out

    def cancellations(
        self,
        beneficiary: str | None = None,
        *,
        hub: int | None = None,
        months: Collection[int] | None = None,
    ) -> list[dict[str, Any]]:
        """Cancelled id ranges in the order they were cancelled: of one beneficiary (or all), at
        one hub (or all), in the months of ``months`` (:func:`month_index`; or all)."""
        out = []
        for h, year, month, who, first, n in self._log:
            if (
                (beneficiary is None or self._names[who] == beneficiary)
                and (hub is None or h == hub)
                and (months is None or month_index(year, month) in months)
            ):
                out.append(
                    {"beneficiary": self._names[who], **self._range(h, year, month, first, n)}
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
    months, first_hour, month_of_hour = np.unique(
        axis.months, return_index=True, return_inverse=True
    )
    n_h = contracted_wh.shape[0]
    per_month = np.add.reduceat(contracted_wh, first_hour, axis=1)  # hours are in time order
    claims = np.zeros((n_h, len(months), len(beneficiaries)), dtype=np.int64)
    np.add.at(claims, (claim_hub, month_of_hour[claim_hour], claim_code), claim_wh)
    pairs = [year_month(m) for m in months]
    for h in range(n_h):
        for i, (year, month) in enumerate(pairs):
            registry.issue(h, year, month, int(per_month[h, i] // WH_PER_MWH))
            for b, k in enumerate((claims[h, i] // WH_PER_MWH).tolist()):
                if k:
                    registry.cancel_next(h, year, month, beneficiaries[b], k)
    return pairs


def recorded_registry(
    hub_ids: Sequence[str], months: Iterable[tuple[int, dict[str, Any]]], source: str
) -> GecRegistry:
    """The GECs a ledger records: a registry rebuilt from its ``gec-month`` entries, given as
    (line number, body) pairs. InputError naming ``source:LINE`` and the field for an entry
    that is not what the ledger writes."""
    registry = GecRegistry(hub_ids)
    for line_no, body in months:
        try:
            _add_month(registry, body)
        except _Field as exc:
            field, expected = exc.args
            raise InputError(
                Problem(source, line_no, f"body.{field}", f"expected {expected}")
            ) from None
        except InputError as exc:
            why = "; ".join(p.message for p in exc.problems)
            raise InputError(Problem(source, line_no, "body", why)) from None
    return registry


def _add_month(registry: GecRegistry, body: dict[str, Any]) -> None:
    hub, month = body.get("hub"), body.get("month")
    if hub not in registry.hub_ids:
        raise _Field("hub", f"one of the run's hubs ({', '.join(registry.hub_ids)})")
    if not isinstance(month, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise _Field("month", "a month YYYY-MM")
    h, year, mon = registry.hub_ids.index(hub), int(month[:4]), int(month[5:])
    issued = body.get("issued")
    registry.issue(h, year, mon, 0 if issued is None else _count(issued, "issued"))
    cancelled = body.get("cancelled")
    if not isinstance(cancelled, list):
        raise _Field("cancelled", "a list of cancelled id ranges")
    for i, c in enumerate(cancelled):
        where = f"cancelled[{i}]"
        who = c.get("beneficiary") if isinstance(c, dict) else None
        if not isinstance(who, str):
            raise _Field(f"{where}.beneficiary", "a name")
        try:
            first = parse_gec_id(c.get("first"))
        except InputError:
            first = (0, 0, 0, 0)
        if first[:3] != (h + 1, year, mon) or first[3] < 1:
            raise _Field(f"{where}.first", f"a simulated GEC id of {hub} {month}")
        registry.cancel_serials(h, year, mon, who, first[3], _count(c, where))


class _Field(Exception):
    """A field of a month entry (path, what was expected)."""


def _count(obj: object, where: str) -> int:
    n = obj.get("count") if isinstance(obj, dict) else None
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n < 10**9:
        raise _Field(f"{where}.count", "a whole number of certificates")
    return n
