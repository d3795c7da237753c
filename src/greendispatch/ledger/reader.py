"""Reading a ledger's lines back, strictly: every field a reader uses is checked for its type,
and a line that is not what the ledger writes is an InputError naming ``ledger.jsonl:LINE`` and
the field (``ledger show`` and the statements; ``ledger verify`` checks the hash chain)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from greendispatch.errors import InputError, Problem
from greendispatch.ledger.certificates import BATTERY, TECHNOLOGY
from greendispatch.ledger.chain import iter_entries
from greendispatch.paths import os_reason

STORAGE = TECHNOLOGY[BATTERY]  # the battery's certificates: re-issued stored green
MAX_WH = 10**18  # an exawatt-hour: far beyond any hub's year, well within a float


class _BadField(Exception):
    def __init__(self, field: str, expected: str):
        super().__init__(field, expected)
        self.field, self.expected = field, expected


def _text(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            pass
    raise _BadField(f"{where}.{key}", "text")


def _whole(obj: dict[str, Any], key: str, where: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_WH:
        raise _BadField(f"{where}.{key}", f"a whole number of Wh from 0 to {MAX_WH:.0e}")
    return value


def _objects(obj: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _BadField(f"{where}.{key}", "a list of objects")
    return value


def entry_body(path: Path, line_no: int, raw: bytes) -> dict[str, Any]:
    """The body of one ledger line, or InputError naming the line."""

    def bad(why: str, field: str = "") -> InputError:
        msg = f"not a ledger entry: {why} (run ledger verify)"
        return InputError(Problem(str(path), line_no, field, msg))

    try:
        entry = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise bad("not UTF-8 text") from None
    except (ValueError, RecursionError):
        raise bad("not JSON") from None
    if not isinstance(entry, dict):
        raise bad("expected a JSON object with seq, prev, hash, body")
    body = entry.get("body")
    if not isinstance(body, dict):
        raise bad("expected an object", "body")
    return body


@dataclass
class LedgerSummary:
    """Entries by type, the genesis, the hours covered and the certificate totals (Wh)."""

    kinds: Counter[str] = field(default_factory=Counter)
    genesis: dict[str, Any] | None = None
    first: str | None = None
    last: str | None = None
    hubs: set[str] = field(default_factory=set)
    issued_wh: int = 0
    issued_by_technology_wh: Counter[str] = field(default_factory=Counter)
    into_storage_wh: int = 0
    claimed_wh: Counter[str] = field(default_factory=Counter)

    @property
    def from_storage_wh(self) -> int:
        """Wh the batteries re-issued: energy certified before, cancelled into storage."""
        return self.issued_by_technology_wh[STORAGE]

    @property
    def generation_wh(self) -> int:
        """Wh issued for energy produced (wind, solar, contracted supply): counted once."""
        return self.issued_wh - self.from_storage_wh


def summarise(path: Path) -> LedgerSummary:
    """Read every line of the ledger file ``path``; InputError for a line, a field or a file
    that cannot be read, and for a ledger with no entries."""
    out = LedgerSummary()
    try:
        for line_no, raw in iter_entries(path):
            body = entry_body(path, line_no, raw)
            try:
                _add(out, body)
            except _BadField as exc:
                msg = f"expected {exc.expected} (run ledger verify)"
                raise InputError(Problem(str(path), line_no, exc.field, msg)) from None
    except OSError as exc:
        raise InputError(Problem(str(path), None, "", f"cannot read: {os_reason(exc)}")) from None
    if not out.kinds:
        raise InputError(
            Problem(str(path), None, "", "no entries (a ledger starts with its genesis entry)")
        )
    return out


def _add(out: LedgerSummary, body: dict[str, Any]) -> None:
    kind = _text(body, "type", "body") if "type" in body else "?"
    out.kinds[kind] += 1
    if kind == "genesis":
        for key in ("scenario", "policy"):
            if body.get(key) is not None:
                _text(body, key, "body")
        out.genesis = body
    if kind == "hour":
        out.hubs.add(_text(body, "hub", "body"))
        out.first = out.first or _text(body, "hour_start", "body")
        out.last = _text(body, "hour_end", "body")
        for i, c in enumerate(_objects(body, "certificates", "body")):
            if "energy_wh" in c:
                where = f"body.certificates[{i}]"
                wh = _whole(c, "energy_wh", where)
                out.issued_wh += wh
                out.issued_by_technology_wh[_text(c, "technology", where)] += wh
        storage = body.get("storage", {})
        if not isinstance(storage, dict):
            raise _BadField("body.storage", "an object")
        for i, c in enumerate(_objects(storage, "cancelled", "body.storage")):
            out.into_storage_wh += _whole(c, "wh", f"body.storage.cancelled[{i}]")
        for i, c in enumerate(_objects(body, "claims", "body")):
            where = f"body.claims[{i}]"
            out.claimed_wh[_text(c, "beneficiary", where)] += _whole(c, "wh", where)
