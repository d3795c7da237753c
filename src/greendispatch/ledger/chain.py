"""The append-only ledger: hash-chained JSON lines, a signed head, signed statements.

Each line of ``ledger.jsonl`` is the canonical JSON (sorted keys, no spaces, UTF-8) of
``{"seq", "prev", "hash", "body"}`` where ``hash = SHA-256(prev + canonical({"seq", "body"}))``
and ``prev`` is the previous entry's hash (64 zeros for the first). ``head.json`` holds the last
sequence number and hash, signed with the ledger's Ed25519 key; ``ledger-key.pub`` is the public
key (publish its fingerprint so readers can check it). Any changed byte, deleted, reordered or
duplicated entry breaks a line's canonical form, a hash, the sequence or the signed head, and
:func:`verify_ledger` names the entry.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from greendispatch.errors import InputError, Problem
from greendispatch.paths import os_reason

LEDGER_FILE = "ledger.jsonl"
HEAD_FILE = "head.json"
KEY_FILE = "ledger-key.pem"
PUB_FILE = "ledger-key.pub"
ZERO_HASH = "0" * 64


def canonical(obj: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no insignificant white space, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev: str, seq: int, body: Any) -> str:
    return hashlib.sha256(prev.encode() + canonical({"seq": seq, "body": body})).hexdigest()


def fingerprint(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def _public_hex(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def load_key(folder: Path) -> Ed25519PrivateKey:
    """The ledger's existing signing key; it must match ``ledger-key.pub``."""
    path = folder / KEY_FILE
    if not path.exists():
        raise InputError(
            Problem(
                str(path),
                None,
                "",
                "the ledger's private key is not here: statements are "
                "signed by whoever holds it (the hub operator)",
            )
        )
    key = load_or_create_key(folder)
    if _public_hex(key.public_key()) != _public_hex(load_public_key(folder)):
        raise InputError(Problem(str(path), None, "", f"does not match {PUB_FILE}"))
    return key


def load_or_create_key(folder: Path) -> Ed25519PrivateKey:
    """The ledger's signing key: read from ``folder`` or created there (private file 0600).
    A new key is never made where a public key already exists."""
    path = folder / KEY_FILE
    if not path.exists() and (folder / PUB_FILE).exists():
        raise InputError(
            Problem(
                str(path),
                None,
                "",
                f"missing, but {PUB_FILE} exists: will not replace the ledger's key",
            )
        )
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except OSError as exc:
            raise InputError(
                Problem(str(path), None, "", f"cannot read: {os_reason(exc)}")
            ) from None
        except (ValueError, TypeError, UnsupportedAlgorithm):
            key = None
        if not isinstance(key, Ed25519PrivateKey):
            raise InputError(Problem(str(path), None, "", "not a PEM Ed25519 private key"))
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    (folder / PUB_FILE).write_text(_public_hex(key.public_key()) + "\n", encoding="utf-8")
    return key


def load_public_key(folder: Path) -> Ed25519PublicKey:
    """The ledger's public key from ``ledger-key.pub`` (64 hex digits); InputError if it is
    missing, unreadable or not an Ed25519 public key."""
    path = folder / PUB_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(Problem(str(path), None, "", "public key file not found")) from None
    except OSError as exc:
        raise InputError(Problem(str(path), None, "", f"cannot read: {os_reason(exc)}")) from None
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(raw.decode("utf-8").strip()))
    except ValueError:
        raise InputError(
            Problem(str(path), None, "", "not an Ed25519 public key (expected 64 hex digits)")
        ) from None


class LedgerWriter:
    """Append entries to a ledger folder (created if needed) and keep its signed head current.

    Use as a context manager; the head is signed when it closes. If the block fails (an
    error, Ctrl-C, a full disk), no head is signed and the ledger file is cut back to what it
    held before: a half-written run is never signed, nor shown as verified or as tampered.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(Problem(str(folder), None, "", f"cannot create: {exc}")) from None
        self.key = load_or_create_key(folder)
        self.path = folder / LEDGER_FILE
        self.seq, self.last = -1, ZERO_HASH
        if self.path.exists() and self.path.stat().st_size:
            report = verify_ledger(folder)
            if not report.ok:
                msg = f"will not append to a ledger that does not verify: {report.problems[0]}"
                raise InputError(Problem(str(self.path), None, "", msg))
            self.seq, self.last = report.entries - 1, report.head_hash
        self._fh = open(self.path, "ab")  # noqa: SIM115 - closed in close()
        self._size0 = self._fh.tell()

    def append(self, body: Any) -> str:
        self.seq += 1
        h = entry_hash(self.last, self.seq, body)
        self._fh.write(canonical({"seq": self.seq, "prev": self.last, "hash": h, "body": body}))
        self._fh.write(b"\n")
        self.last = h
        return h

    def extend(self, bodies: Iterable[Any]) -> int:
        n = 0
        for body in bodies:
            self.append(body)
            n += 1
        return n

    def close(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        head = {"entries": self.seq + 1, "hash": self.last}
        sig = self.key.sign(canonical(head)).hex()
        doc = head | {"signature": sig, "public_key": _public_hex(self.key.public_key())}
        tmp = self.folder / (HEAD_FILE + ".tmp")
        tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.folder / HEAD_FILE)

    def __enter__(self) -> LedgerWriter:
        return self

    def abandon(self) -> None:
        """Close without signing, the ledger file cut back to its size when opened (also when
        the close itself fails: a full disk refuses the last buffered entries again)."""
        try:
            self._fh.close()
        except OSError:
            pass  # the file is closed all the same; what it could not write is cut below
        finally:
            os.truncate(self.path, self._size0)

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            self.abandon()
            return
        try:
            self.close()
        except BaseException:  # the last flush or the head failed: nothing stays half-written
            self.abandon()
            (self.folder / (HEAD_FILE + ".tmp")).unlink(missing_ok=True)
            raise


def describe(body: Any) -> str:
    """A short label of an entry for messages: its type and what it is about."""
    if not isinstance(body, dict):
        return "entry"
    parts = [str(body.get("type", "entry"))]
    for key in ("hub", "hour_start", "month", "scenario"):
        if key in body:
            parts.append(str(body[key]))
    return " ".join(parts)


@dataclass
class VerifyReport:
    """Outcome of :func:`verify_ledger`: entries read, the last hash, problems (first first)."""

    path: Path
    entries: int = 0
    head_hash: str = ZERO_HASH
    problems: list[str] = field(default_factory=list)
    refused: int = 0  # problems that are reads the system refused (unverifiable, not damage)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def unverifiable(self) -> bool:
        """Every problem is a read the system refused: nothing found damaged, nothing shown
        intact (``ledger verify`` exits 2, not the 1 of damage)."""
        return bool(self.problems) and self.refused == len(self.problems)


def _refused(exc: OSError) -> bool:
    """The system refused the read (a permission, an I/O error): the file may be intact,
    unlike a folder where the file should be, which is a damaged ledger."""
    return isinstance(exc, PermissionError) or exc.errno == errno.EIO


def iter_entries(path: Path) -> Iterator[tuple[int, bytes]]:
    with open(path, "rb") as fh:
        yield from enumerate(fh, 1)


def _canonical_or_none(obj: Any) -> bytes | None:
    """``canonical(obj)``, or None when it has none (a lone surrogate, nesting too deep)."""
    try:
        return canonical(obj)
    except (ValueError, RecursionError):
        return None


def _hash_or_none(prev: Any, seq: Any, body: Any) -> str | None:
    """The hash an entry should have, or None when its fields cannot give one."""
    if not isinstance(prev, str) or not isinstance(seq, int):
        return None
    try:
        return entry_hash(prev, seq, body)
    except (ValueError, RecursionError):
        return None


def verify_ledger(folder: Path, *, max_problems: int = 10) -> VerifyReport:
    """Check every line (canonical form, sequence, previous hash, hash) and the signed head."""
    path = folder / LEDGER_FILE
    report = VerifyReport(path)
    if not path.exists():
        report.problems.append(f"{path}: ledger file not found")
        return report
    if not path.is_file():
        report.problems.append(f"{path}: not a file")
        return report
    try:
        _check_lines(path, report, max_problems)
    except OSError as exc:
        report.problems.append(f"{path}: cannot read: {os_reason(exc)}")
        report.refused += _refused(exc)
        return report
    if report.entries == 0 and not report.problems:
        report.problems.append(f"{path}: no entries (a ledger starts with its genesis entry)")
    _check_head(folder, report)
    return report


def _check_lines(path: Path, report: VerifyReport, max_problems: int) -> None:
    """Check each line of ``path`` in order; set ``report.entries`` and ``report.head_hash``."""
    prev, expected = ZERO_HASH, 0

    def bad(line_no: int, what: str) -> None:
        report.problems.append(f"{path}:{line_no}: {what}")

    for line_no, raw in iter_entries(path):
        if len(report.problems) >= max_problems:
            break
        text = raw[:-1] if raw.endswith(b"\n") else raw
        try:
            entry = json.loads(text.decode("utf-8"))
        except UnicodeDecodeError:
            bad(line_no, f"entry {expected}: not UTF-8 text — edited or corrupted")
            expected += 1
            continue
        except (ValueError, RecursionError) as exc:
            bad(line_no, f"entry {expected}: not valid JSON ({exc}) — edited or truncated")
            expected += 1
            continue
        if not isinstance(entry, dict) or set(entry) != {"seq", "prev", "hash", "body"}:
            bad(line_no, f"entry {expected}: not a ledger entry (keys seq, prev, hash, body)")
            expected += 1
            continue
        seq, label = entry["seq"], describe(entry["body"])
        name = f"entry {seq} ({label})"
        if _canonical_or_none(entry) != text or not raw.endswith(b"\n"):
            bad(line_no, f"{name}: bytes changed (the line is not in its canonical form)")
        if seq != expected:
            if isinstance(seq, int) and seq < expected:
                what = "duplicated or moved back"
            else:
                what = "an entry before it was deleted or moved"
            bad(line_no, f"{name}: sequence number {seq} where {expected} was expected — {what}")
        if entry["prev"] != prev:
            bad(line_no, f"{name}: does not follow the previous entry (prev hash differs) — "
                         "entries were deleted, reordered or duplicated")  # fmt: skip
        recomputed = _hash_or_none(entry["prev"], seq, entry["body"])
        if recomputed is None or recomputed != entry["hash"]:
            bad(line_no, f"{name}: hash does not match its content — the entry was edited")
        prev = entry["hash"] if isinstance(entry["hash"], str) else ""
        expected = (seq if isinstance(seq, int) else expected) + 1
        report.entries += 1
    report.head_hash = prev


def _check_head(folder: Path, report: VerifyReport) -> None:
    head_path = folder / HEAD_FILE
    try:
        head = json.loads(head_path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        report.problems.append(f"{head_path}: signed head not found")
        return
    except OSError as exc:
        report.problems.append(f"{head_path}: cannot read the signed head: {os_reason(exc)}")
        report.refused += _refused(exc)
        return
    except UnicodeDecodeError:
        report.problems.append(f"{head_path}: not UTF-8 text — the head was edited or corrupted")
        return
    except (ValueError, RecursionError) as exc:
        report.problems.append(f"{head_path}: not valid JSON ({exc}) — the head was edited")
        return
    if not isinstance(head, dict):
        report.problems.append(
            f"{head_path}: not a signed head (expected a JSON object with entries, hash, "
            "signature, public_key) — the head was edited"
        )
        return
    try:
        public = load_public_key(folder)
    except InputError as exc:
        report.problems.append(str(exc))
        return
    if head.get("public_key") != _public_hex(public):
        report.problems.append(f"{head_path}: signed with a key other than {PUB_FILE}")
    try:
        public.verify(
            bytes.fromhex(head.get("signature", "")),
            canonical({"entries": head.get("entries"), "hash": head.get("hash")}),
        )
    except (InvalidSignature, ValueError, TypeError, RecursionError):
        report.problems.append(f"{head_path}: signature does not verify — the head was edited")
        return
    if head.get("entries") != report.entries:
        report.problems.append(
            f"{head_path}: the signed head has {head.get('entries')} entries, the ledger "
            f"{report.entries} — entries were deleted or added at the end"
        )
    elif head.get("hash") != report.head_hash:
        report.problems.append(f"{head_path}: the last entry's hash differs from the signed head")


def sign_document(doc: dict[str, Any], key: Ed25519PrivateKey, ledger_head: str) -> dict[str, Any]:
    """A copy of ``doc`` with an Ed25519 signature over its canonical JSON and the ledger head."""
    payload = {"document": doc, "ledger_head": ledger_head}
    return {
        **doc,
        "signature": {
            "algorithm": "Ed25519",
            "public_key": _public_hex(key.public_key()),
            "key_fingerprint": fingerprint(key.public_key()),
            "ledger_head": ledger_head,
            "signed": "canonical JSON (sorted keys, no spaces) of {document, ledger_head}",
            "value": key.sign(canonical(payload)).hex(),
        },
    }


def verify_document(signed: dict[str, Any]) -> bool:
    """True when a statement's signature matches its content."""
    if not isinstance(signed, dict):
        return False
    sig = signed.get("signature")
    if not isinstance(sig, dict):
        return False
    doc = {k: v for k, v in signed.items() if k != "signature"}
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sig["public_key"]))
        public.verify(
            bytes.fromhex(sig["value"]),
            canonical({"document": doc, "ledger_head": sig["ledger_head"]}),
        )
    except (InvalidSignature, ValueError, KeyError, TypeError, RecursionError):
        return False
    return True


def statement_signer(signed: Any) -> tuple[str | None, str]:
    """(fingerprint of the key that signed a statement, "") when its signature matches its
    content and the fingerprint written beside it (which the signature does not cover) is that
    key's; else (None, why not)."""
    if not verify_document(signed):
        return None, "the signature does not match the content"
    sig = signed["signature"]
    fp = fingerprint(Ed25519PublicKey.from_public_bytes(bytes.fromhex(sig["public_key"])))
    if sig.get("key_fingerprint", fp) != fp:
        written = sig.get("key_fingerprint")
        return None, f"the key fingerprint {written} is not that of the key that signed it ({fp})"
    return fp, ""
