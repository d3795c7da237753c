"""Tamper tests: any changed byte, deleted, reordered or duplicated entry fails verify, named."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greendispatch.ledger.chain import (
    HEAD_FILE,
    LEDGER_FILE,
    LedgerWriter,
    load_or_create_key,
    sign_document,
    verify_document,
    verify_ledger,
)

N = 12


def body(i: int) -> dict:
    return {"type": "hour", "hub": "horinger", "hour_start": f"2023-01-01T{i:02d}:00:00Z",
            "claims": [{"bundle": f"horinger-wind:20230101{i:02d}", "wh": 1000 + i,
                        "beneficiary": "银行"}]}  # fmt: skip


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ledger")
    with LedgerWriter(folder) as w:
        for i in range(N):
            w.append(body(i))
    return folder


def copy(clean: Path, dest: Path) -> Path:
    shutil.copytree(clean, dest)
    return dest


def lines(folder: Path) -> list[bytes]:
    return (folder / LEDGER_FILE).read_bytes().splitlines(keepends=True)


def write(folder: Path, new: list[bytes]) -> None:
    (folder / LEDGER_FILE).write_bytes(b"".join(new))


def test_untouched_ledger_verifies(clean: Path) -> None:
    report = verify_ledger(clean)
    assert report.ok, report.problems
    assert report.entries == N


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_changed_byte_is_detected_and_named(clean: Path, tmp_path_factory, data) -> None:
    folder = copy(clean, tmp_path_factory.mktemp("t") / "l")
    raw = bytearray((folder / LEDGER_FILE).read_bytes())
    pos = data.draw(st.integers(0, len(raw) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != raw[pos]))
    entry = raw[:pos].count(b"\n")  # the line (= entry number) that holds the byte
    raw[pos] = new
    (folder / LEDGER_FILE).write_bytes(bytes(raw))
    report = verify_ledger(folder)
    assert not report.ok
    first = report.problems[0]
    assert re.search(rf"(entry {entry}\b|:{entry + 1}: )", first), (entry, first)


def test_deleted_entry_is_named(clean: Path, tmp_path: Path) -> None:
    folder = copy(clean, tmp_path / "l")
    ls = lines(folder)
    del ls[5]
    write(folder, ls)
    report = verify_ledger(folder)
    assert not report.ok and "entry 6" in report.problems[0] and "deleted" in report.problems[0]


def test_deleted_last_entry_is_caught_by_the_signed_head(clean: Path, tmp_path: Path) -> None:
    folder = copy(clean, tmp_path / "l")
    write(folder, lines(folder)[:-1])
    report = verify_ledger(folder)
    assert not report.ok and "signed head has 12 entries, the ledger 11" in report.problems[-1]


def test_reordered_entries_are_named(clean: Path, tmp_path: Path) -> None:
    folder = copy(clean, tmp_path / "l")
    ls = lines(folder)
    ls[3], ls[4] = ls[4], ls[3]
    write(folder, ls)
    report = verify_ledger(folder)
    assert not report.ok and "entry 4" in report.problems[0]


def test_duplicated_entry_is_named(clean: Path, tmp_path: Path) -> None:
    folder = copy(clean, tmp_path / "l")
    ls = lines(folder)
    ls.insert(8, ls[7])
    write(folder, ls)
    report = verify_ledger(folder)
    assert not report.ok and "entry 7" in report.problems[0] and "duplicated" in report.problems[0]


def test_rewritten_chain_fails_the_head_signature(clean: Path, tmp_path: Path) -> None:
    # An attacker who edits an entry and recomputes every hash still cannot sign the head.
    folder = copy(clean, tmp_path / "l")
    (folder / LEDGER_FILE).unlink()
    other = tmp_path / "other"
    with LedgerWriter(other) as w:
        for i in range(N):
            w.append(body(i) | ({"hub": "zhongwei"} if i == 2 else {}))
    shutil.copy(other / LEDGER_FILE, folder / LEDGER_FILE)
    report = verify_ledger(folder)
    assert not report.ok and HEAD_FILE in report.problems[0]


def test_appending_continues_the_chain(clean: Path, tmp_path: Path) -> None:
    folder = copy(clean, tmp_path / "l")
    with LedgerWriter(folder) as w:
        w.append({"type": "note", "text": "second run"})
    report = verify_ledger(folder)
    assert report.ok and report.entries == N + 1
    head = json.loads((folder / HEAD_FILE).read_text())
    assert head["entries"] == N + 1


def test_signed_statement_detects_any_change(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path)
    doc = sign_document({"tenant": "银行", "green_mwh": 12.5}, key, "ab" * 32)
    assert verify_document(doc)
    assert not verify_document(doc | {"green_mwh": 12.6})
    assert not verify_document({**doc, "signature": {**doc["signature"], "ledger_head": "00"}})
