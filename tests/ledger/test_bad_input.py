"""Bad input to ``greendispatch ledger`` and ``simulate --ledger``: a message naming the file,
line and field and exit 2 (exit 1 for tampering found by verify/check-statement), never a
traceback, and never after a long run."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from greendispatch.errors import InputError
from greendispatch.ledger.chain import HEAD_FILE, KEY_FILE, LEDGER_FILE, PUB_FILE
from greendispatch.ledger.record import check_new_ledger_folder, check_priority_tenants
from tests.helpers import make_jobs, run_cli, run_cli_ok

SIM = ["simulate", "-s", "china-hubs", "--days", "2", "--jobs", "100",
       "-p", "baseline,green-first", "--no-tables"]  # fmt: skip
RANDOM = bytes(range(128, 256)) + os.urandom(200) + b"\n\x00\xff"
STATEMENT = Path("statements") / "tenant-bank.json"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("badled")
    run_cli_ok([*SIM, "--out", root / "o", "--ledger", root / "led"])
    return root / "led"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    def run(*args: str | Path) -> tuple[int, str, str]:
        code, out, err = run_cli([str(a) for a in args], capsys, monkeypatch)
        assert "Traceback" not in out + err
        return code, out, err

    return run


def copy(ledger: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "copy"
    shutil.copytree(ledger, dest)
    return dest


# ---- check-statement -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (RANDOM, "not UTF-8 text; expected a statement JSON file"),
        (b"[1]", "not a signed statement: expected a JSON object"),
        (b"{}", "not a signed statement: no 'signature'"),
        (b'{"signature": "x"}', "signature: not a signed statement: expected an object"),
        (b'{"signature": {"public_key": "00", "value": "00"}}', "signature.ledger_head: missing"),
        (b"{\n  1", ":2: not JSON"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_check_statement_of_a_non_statement_is_bad_input(
    content: bytes, fragment: str, tmp_path: Path, cli
) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(content)
    code, _, err = cli("ledger", "check-statement", path)
    assert code == 2, err
    assert fragment in err and str(path) in err


def test_check_statement_of_a_folder_is_bad_input(tmp_path: Path, cli) -> None:
    code, _, err = cli("ledger", "check-statement", tmp_path)
    assert code == 2 and "is a folder; expected a statement JSON file" in err


def test_check_statement_with_a_forged_key_fingerprint_fails(
    ledger: Path, tmp_path: Path, cli
) -> None:
    """The fingerprint beside the signature is not signed: it must be that of the signing key."""
    from greendispatch.ledger.chain import load_or_create_key, sign_document

    doc = json.loads((ledger / STATEMENT).read_text(encoding="utf-8"))
    forged = sign_document(
        {k: v for k, v in doc.items() if k != "signature"} | {"beneficiary": "someone"},
        load_or_create_key(tmp_path),
        doc["signature"]["ledger_head"],
    )
    forged["signature"]["key_fingerprint"] = doc["signature"]["key_fingerprint"]
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged), encoding="utf-8")
    code, _, err = cli("ledger", "check-statement", path, "--ledger", ledger)
    assert code == 1 and "FAILED" in err and "is not that of the key that signed it" in err
    code, _, err = cli("ledger", "check-statement", path)
    assert code == 1 and "FAILED" in err


def test_check_statement_with_a_markup_like_name_is_printed_as_is(
    ledger: Path, tmp_path: Path, cli
) -> None:
    doc = json.loads((ledger / STATEMENT).read_text(encoding="utf-8"))
    doc["beneficiary"] = "changed"
    path = tmp_path / "[red]x[" / "bold].json"
    path.parent.mkdir()
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, _, err = cli("ledger", "check-statement", path)
    assert code == 1 and "[red]x[/bold].json: the signature does not match" in err


@pytest.mark.parametrize("content", [b"garbage\n", RANDOM])
def test_check_statement_against_a_garbage_public_key_is_bad_input(
    content: bytes, ledger: Path, tmp_path: Path, cli
) -> None:
    bad = copy(ledger, tmp_path)
    (bad / PUB_FILE).write_bytes(content)
    code, _, err = cli("ledger", "check-statement", ledger / STATEMENT, "--ledger", bad)
    assert code == 2, err
    assert f"{bad / PUB_FILE}: not an Ed25519 public key (expected 64 hex digits)" in err


# ---- verify ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (RANDOM, "not UTF-8 text"),
        (b"[1,2]", "not a signed head (expected a JSON object"),
        (b"{", "not valid JSON"),
        (b'{"signature": 5, "entries": 1}', "signature does not verify"),
        (b"[" * 100_000, "not valid JSON"),
        (None, "cannot read the signed head"),
    ],
)
def test_verify_a_broken_head_fails_naming_it(
    content: bytes | None, fragment: str, ledger: Path, tmp_path: Path, cli
) -> None:
    bad = copy(ledger, tmp_path)
    head = bad / HEAD_FILE
    if content is None:
        head.unlink()
        head.mkdir()
    else:
        head.write_bytes(content)
    code, _, err = cli("ledger", "verify", bad)
    assert code == 1, err
    assert f"FAILED: {head}: {fragment}" in err.replace("\n", " ")


@pytest.mark.parametrize("content", [b"garbage\n", RANDOM, None])
def test_verify_with_a_broken_public_key_fails_naming_it(
    content: bytes | None, ledger: Path, tmp_path: Path, cli
) -> None:
    bad = copy(ledger, tmp_path)
    pub = bad / PUB_FILE
    if content is None:
        pub.unlink()
        pub.mkdir()
    else:
        pub.write_bytes(content)
    code, _, err = cli("ledger", "verify", bad)
    assert code == 1, err
    assert f"FAILED: {pub}:" in err


def test_verify_an_empty_ledger_says_it_has_no_entries(ledger: Path, tmp_path: Path, cli) -> None:
    bad = copy(ledger, tmp_path)
    (bad / LEDGER_FILE).write_bytes(b"")
    code, _, err = cli("ledger", "verify", bad)
    assert code == 1
    assert "no entries (a ledger starts with its genesis entry)" in err


@pytest.mark.parametrize(
    "line",
    [
        b'{"body":{},"hash":"x","prev":1,"seq":1}',  # prev not text
        b'{"body":"\\ud800","hash":"x","prev":"y","seq":1}',  # lone surrogate: no canonical form
        b'{"body":' + b"1" * 5000 + b',"hash":"x","prev":"y","seq":1}',  # too many digits
        b'{"body":' + b"[" * 100_000,
        b"\xff\xfe\n",
    ],
)
def test_verify_names_odd_entries_without_a_traceback(
    line: bytes, ledger: Path, tmp_path: Path, cli
) -> None:
    bad = copy(ledger, tmp_path)
    lines = (bad / LEDGER_FILE).read_bytes().splitlines(keepends=True)
    lines[1] = line.rstrip(b"\n") + b"\n"
    (bad / LEDGER_FILE).write_bytes(b"".join(lines))
    code, _, err = cli("ledger", "verify", bad)
    assert code == 1
    assert f"FAILED: {bad / LEDGER_FILE}:2: entry 1" in err.replace("\n", " ")


def test_verify_a_file_says_it_is_not_a_folder(tmp_path: Path, cli) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    for command in ("verify", "show"):
        code, _, err = cli("ledger", command, afile)
        assert code == 2 and f"{afile}: is a file; expected a ledger folder" in err


def test_a_ledger_file_that_is_a_folder_is_bad_input(tmp_path: Path, cli) -> None:
    (tmp_path / LEDGER_FILE).mkdir()
    for command in ("verify", "show"):
        code, _, err = cli("ledger", command, tmp_path)
        assert code == 2 and "is a folder; expected the ledger's JSON-lines file" in err


# ---- show ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "where", "fragment"),
    [
        (lambda lines: [RANDOM], 1, "not a ledger entry: not UTF-8 text"),
        (lambda lines: [*lines[:4], b'{"body":"x","hash":"abc"}\n', *lines[5:]], 5,
         "body: not a ledger entry: expected an object"),
        (lambda lines: [*lines, b"\xff\xfe\n"], 492, "not a ledger entry: not UTF-8 text"),
        (lambda lines: [*lines[:2], b"[1]\n", *lines[3:]], 3, "not a ledger entry: expected a"),
        (lambda lines: [*lines[:2], b"[" * 100_000 + b"\n"], 3, "not a ledger entry: not JSON"),
        (lambda lines: [*lines[:2], b'{"body":{"type":"hour"}}\n'], 3, "body.hub: expected text"),
        (lambda lines: [*lines[:2], b'{"body":{"type":[1]}}\n'], 3, "body.type: expected text"),
        (lambda lines: [*lines[:2], b'{"body":{"type":"hour","hub":"h","hour_start":"a",'
                        b'"hour_end":"b","claims":[{"beneficiary":"x","wh":"1"}]}}\n'], 3,
         "body.claims[0].wh: expected a whole number of Wh"),
        (lambda lines: [*lines[:2], b'{"body":{"type":"hour","hub":"h","hour_start":"a",'
                        b'"hour_end":"b","certificates":5}}\n'], 3,
         "body.certificates: expected a list of objects"),
        (lambda lines: [*lines[:2], b'{"body":{"type":"hour","hub":"h","hour_start":"a",'
                        b'"hour_end":"b","certificates":[{"energy_wh":1' + b"0" * 400 + b'}]}}\n'],
         3, "body.certificates[0].energy_wh: expected a whole number of Wh from 0 to"),
        (lambda lines: [*lines[:2], b'{"body":{"type":"hour","hub":"h","hour_start":"a",'
                        b'"hour_end":"b","claims":[{"beneficiary":"x","wh":-5}]}}\n'], 3,
         "body.claims[0].wh: expected a whole number of Wh from 0 to"),
    ],
)  # fmt: skip
def test_show_a_broken_ledger_names_the_line(
    edit, where: int, fragment: str, ledger: Path, tmp_path: Path, cli
) -> None:
    bad = copy(ledger, tmp_path)
    path = bad / LEDGER_FILE
    path.write_bytes(b"".join(edit(path.read_bytes().splitlines(keepends=True))))
    code, _, err = cli("ledger", "show", bad)
    assert code == 2, err
    assert f"{path}:{where}: " in err and fragment in err.replace("\n", " ")


def test_show_an_empty_ledger_is_bad_input(ledger: Path, tmp_path: Path, cli) -> None:
    bad = copy(ledger, tmp_path)
    (bad / LEDGER_FILE).write_bytes(b"")
    code, out, err = cli("ledger", "show", bad)
    assert code == 2 and out == ""
    assert f"{bad / LEDGER_FILE}: no entries (a ledger starts with its genesis entry)" in err


def test_show_prints_markup_like_names_as_they_are(tmp_path: Path, cli) -> None:
    from greendispatch.ledger.chain import LedgerWriter

    with LedgerWriter(tmp_path) as w:
        w.append({"type": "genesis", "scenario": "[/x]", "policy": "p"})
        w.append({"type": "hour", "hub": "[bold]h", "hour_start": "a", "hour_end": "b",
                  "claims": [{"beneficiary": "[/who]", "wh": 2_000_000}]})  # fmt: skip
    code, out, err = cli("ledger", "show", tmp_path)
    assert code == 0, err
    out = " ".join(out.split())
    assert "scenario [/x]" in out and "hubs: [bold]h" in out and "claimed by [/who]: 2.000" in out


def test_show_still_summarises_a_good_ledger(ledger: Path, cli) -> None:
    code, out, err = cli("ledger", "show", ledger, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["scenario"] == "china-hubs" and doc["policy"] == "green-first"
    assert doc["entries"]["genesis"] == 1 and doc["entries"]["hour"] == 10 * 48


# ---- statement and keys ----------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"garbage\n", RANDOM, None])
def test_statement_with_a_garbage_private_key_is_bad_input(
    content: bytes | None, ledger: Path, tmp_path: Path, cli
) -> None:
    bad = copy(ledger, tmp_path)
    key = bad / KEY_FILE
    if content is None:
        key.unlink()
        key.mkdir()
        fragment = f"{key}: cannot read"
    else:
        key.write_bytes(content)
        fragment = f"{key}: not a PEM Ed25519 private key"
    code, _, err = cli("ledger", "statement", bad, "--job", "3")
    assert code == 2, err
    assert fragment in err


def test_statement_rebuilds_a_broken_or_edited_saved_tenant_statement(
    ledger: Path, tmp_path: Path, cli
) -> None:
    bad = copy(ledger, tmp_path)
    saved = bad / STATEMENT
    good = json.loads(saved.read_text(encoding="utf-8"))
    for content in (RANDOM, b"[1]", json.dumps(good | {"beneficiary": "x"}).encode()):
        saved.write_bytes(content)
        code, _, err = cli("ledger", "statement", bad, "--tenant", "bank")
        assert code == 0, err
        code, _, err = cli("ledger", "check-statement", saved, "--ledger", bad)
        assert code == 0, err
        assert json.loads(saved.read_text(encoding="utf-8"))["beneficiary"] == "bank"


def _resign(ledger: Path, dest: Path, bodies: list[dict]) -> Path:
    from greendispatch.ledger.chain import LedgerWriter

    dest.mkdir()
    for name in (KEY_FILE, PUB_FILE):
        shutil.copy(ledger / name, dest / name)
    with LedgerWriter(dest) as w:  # re-signed: the chain verifies, the entries are not ours
        w.extend(bodies)
    return dest


def _bodies(ledger: Path) -> list[dict]:
    return [json.loads(line)["body"] for line in (ledger / LEDGER_FILE).read_text().splitlines()]


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda m: m["cancelled"][0].update(first="99"), "body.cancelled[0].first: expected a "),
        (lambda m: m["cancelled"][0].update(count=10**6), "were not issued"),
        (lambda m: m.update(hub="atlantis"), "body.hub: expected one of the run's hubs"),
        (lambda m: m.update(month="2023-13"), "body.month: expected a month YYYY-MM"),
        (lambda m: m["issued"].update(count=-1), "body.issued.count: expected a whole number"),
        (lambda m: m.update(cancelled={}), "body.cancelled: expected a list"),
    ],
)
def test_a_statements_gecs_are_read_from_the_ledger_and_checked(
    edit, fragment: str, ledger: Path, tmp_path: Path, cli
) -> None:
    bodies = _bodies(ledger)
    line, month = next(
        (i + 1, b) for i, b in enumerate(bodies) if b["type"] == "gec-month" and b["cancelled"]
    )
    # The ledger says the first range went to someone else: a re-made statement shows that.
    first = month["cancelled"][0]
    owner = first["beneficiary"]
    first["beneficiary"] = "facility" if owner != "facility" else "bank"
    good = _resign(ledger, tmp_path / "good", bodies)
    code, out, err = cli("ledger", "statement", good, "--tenant", owner, "--json")
    assert code == 0, err
    shown = {(g["hub"], g["month"], g["first"]) for g in json.loads(out)["gec"]}
    assert (month["hub"], month["month"], first["first"]) not in shown
    edit(month)
    bad = _resign(ledger, tmp_path / "bad", bodies)
    code, _, err = cli("ledger", "statement", bad, "--job", "3")
    assert code == 2, err
    assert f"{bad / LEDGER_FILE}:{line}: " in err and fragment in " ".join(err.split())


def test_statement_into_a_folder_that_cannot_be_written_is_bad_input(
    ledger: Path, tmp_path: Path, cli
) -> None:
    bad = copy(ledger, tmp_path)
    out = tmp_path / "out"
    (out / "tenant-bank.json").mkdir(parents=True)  # write_signed cannot replace a folder
    code, _, err = cli("ledger", "statement", bad, "--tenant", "bank", "--out", out)
    assert code == 2 and f"{out}: cannot write" in err


# ---- simulate --ledger: checked before the run -----------------------------------------------


@pytest.mark.parametrize("where", ["under-a-file", "proc"])
def test_a_ledger_folder_that_cannot_be_written_is_refused_before_the_run(
    where: str, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep me", encoding="utf-8")
    folder = {"under-a-file": afile / "x", "proc": Path("/proc/nope")}[where]
    started: list[int] = []

    def prepare(*a: object, **k: object) -> None:
        started.append(1)
        raise RuntimeError("the run started")

    monkeypatch.setattr("greendispatch.sim.runner.prepare", prepare)
    code, _, err = cli(*SIM, "--out", tmp_path / "o", "--ledger", folder)
    assert code == 2, err
    assert f"{folder}: cannot create or write: " in err
    assert started == [] and not (tmp_path / "o" / "results.json").exists()
    assert afile.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize(
    ("leftover", "fragment"),
    [
        ({KEY_FILE: b"garbage\n"}, f"{KEY_FILE}: not a PEM Ed25519 private key"),
        ({PUB_FILE: b"ab\n"}, f"{KEY_FILE}: the ledger's private key is not here"),
        ({"statements": b"a file"}, "statements: exists and is not a folder"),
    ],
)
def test_a_ledger_folder_with_broken_leftovers_is_refused_before_the_run(
    leftover: dict[str, bytes], fragment: str, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "led"
    folder.mkdir()
    (folder / LEDGER_FILE).write_bytes(b"")  # an empty ledger is not a recorded run
    for name, content in leftover.items():
        (folder / name).write_bytes(content)
    monkeypatch.setattr("greendispatch.sim.runner.prepare", _no_run)
    code, _, err = cli(*SIM, "--out", tmp_path / "o", "--ledger", folder)
    assert code == 2, err
    assert fragment in err and not (tmp_path / "o" / "results.json").exists()


def test_a_ledger_folder_holding_other_things_is_refused_before_the_run(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "led"
    (folder / HEAD_FILE).mkdir(parents=True)  # the run would fail writing its head, at the end
    (folder / "statements").mkdir()
    (folder / "statements" / "tenant-bank.json").mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    monkeypatch.setattr("greendispatch.sim.runner.prepare", _no_run)
    code, _, err = cli(*SIM, "--out", tmp_path / "o", "--ledger", folder)
    assert code == 2, err
    assert f"{folder}: holds {HEAD_FILE}, statements/ of another run; give a new folder" in err
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_the_out_folder_may_also_hold_the_ledger(tmp_path: Path, cli) -> None:
    folder = tmp_path / "both"
    code, _, err = cli(*SIM, "--out", folder, "--ledger", folder)
    assert code == 0, err
    assert (folder / "results.json").is_file() and (folder / LEDGER_FILE).is_file()
    code, out, err = cli("ledger", "verify", folder)
    assert code == 0 and "verified" in out, err


def _no_run(*a: object, **k: object) -> None:
    raise RuntimeError("the run started")


def test_check_new_ledger_folder_creates_it_with_its_parents(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b" / "led"
    check_new_ledger_folder(folder)
    assert folder.is_dir() and list(folder.iterdir()) == []  # the probe file is gone
    check_new_ledger_folder(folder)  # an empty folder is still new
    (folder / "afile").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="afile/x: cannot create or write: "):
        check_new_ledger_folder(folder / "afile" / "x")


def test_check_priority_tenants() -> None:
    jobs = make_jobs(3, tenants=("bank", "factory"), tenant=[0, 1, 0])
    check_priority_tenants(jobs, frozenset())
    check_priority_tenants(jobs, frozenset({"bank", "factory"}))
    with pytest.raises(InputError) as exc:
        check_priority_tenants(jobs, frozenset({"bank", "nobody", "anyone"}))
    assert str(exc.value) == (
        "<input>: priority tenants anyone, nobody are not in the job table (tenants: bank, factory)"
    )


def test_unknown_priority_tenants_are_refused_before_the_run(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run_policies(*a: object, **k: object) -> None:
        raise RuntimeError("the run started")

    monkeypatch.setattr("greendispatch.sim.runner.run_policies", run_policies)
    args = [*SIM, "--out", tmp_path / "o" / "p", "--ledger", tmp_path / "led"]
    code, _, err = cli(*args, "--priority-tenants", "bank,nobody")
    assert code == 2, err
    assert "priority tenants nobody are not in the job table" in err
    assert list(tmp_path.iterdir()) == []  # the folders made for the run are gone again


@pytest.mark.parametrize(
    ("field", "value"),
    [("days", "2"), ("n_jobs", "40"), ("carbon_weight", "x"), ("utilisation", None)],
)
def test_a_recorded_request_of_the_wrong_type_is_bad_input(
    field: str, value: object, ledger: Path, tmp_path: Path, cli
) -> None:
    from greendispatch.ledger.chain import LedgerWriter

    bad = tmp_path / "resigned"
    bad.mkdir()
    for name in (KEY_FILE, PUB_FILE):
        shutil.copy(ledger / name, bad / name)
    bodies = [json.loads(line)["body"] for line in (ledger / LEDGER_FILE).read_text().splitlines()]
    bodies[0]["request"][field] = value  # re-signed: the chain verifies, the request is wrong
    with LedgerWriter(bad) as w:
        w.extend(bodies)
    assert cli("ledger", "verify", bad)[0] == 0
    code, _, err = cli("ledger", "statement", bad, "--job", "1")
    assert code == 2, err
    assert f"{bad / LEDGER_FILE}:1: body.request: cannot be re-run" in err


def test_a_failure_while_recording_removes_the_folders_made_for_it(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def record_run(*a: object, **k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("greendispatch.ledger.record.record_run", record_run)
    code, _, err = cli(*SIM, "--out", tmp_path / "o", "--ledger", tmp_path / "led")
    assert code == 2 and "No space left on device" in err
    assert not (tmp_path / "led").exists()  # made for this run, empty: removed
    assert (tmp_path / "o" / "results.json").is_file()  # the run's results are kept


def test_a_recorded_ledger_reached_through_dotdot_is_still_refused(
    ledger: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep = copy(ledger, tmp_path)
    before = (keep / LEDGER_FILE).read_bytes()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("greendispatch.sim.runner.prepare", _no_run)
    code, _, err = cli(*SIM, "--out", "o", "--ledger", f"typo/../{keep.name}")
    assert code == 2, err
    assert "already holds a recorded run" in err
    assert (keep / LEDGER_FILE).read_bytes() == before
    assert not (tmp_path / "typo").exists()


def test_a_statement_into_an_empty_out_is_refused(ledger: Path, cli) -> None:
    code, _, err = cli("ledger", "statement", ledger, "--job", "1", "--out", "")
    assert code == 2 and "--out: expected a folder name (got an empty one)" in err


def test_an_interrupted_ledger_is_never_signed_and_the_folder_can_be_used_again(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C while the entries are written: no head is signed over the part written (which
    # `ledger verify` would then call verified, or tampered), the file is cut back, and the
    # same folder takes the run again.
    from greendispatch.ledger.chain import HEAD_FILE, LedgerWriter

    real = LedgerWriter.append
    calls = [0]

    def append(self: LedgerWriter, body: object) -> str:
        calls[0] += 1
        if calls[0] == 100:
            raise KeyboardInterrupt
        return real(self, body)

    folder = tmp_path / "led"
    monkeypatch.setattr(LedgerWriter, "append", append)
    code, _, err = cli(*SIM, "--out", tmp_path / "o", "--ledger", folder)
    assert code == 130 and err.rstrip().endswith("interrupted")
    assert not (folder / HEAD_FILE).exists()
    assert not (folder / LEDGER_FILE).exists() or (folder / LEDGER_FILE).stat().st_size == 0
    monkeypatch.setattr(LedgerWriter, "append", real)
    code, _, err = cli(*SIM, "--out", tmp_path / "o", "--ledger", folder)
    assert code == 0, err
    code, out, err = cli("ledger", "verify", folder)
    assert code == 0 and "verified" in out, err


def test_a_ledger_the_system_will_not_read_is_unverifiable_not_tampered(
    ledger: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The system refuses the read (a permission, an I/O error): exit 2, as `ledger show` gives,
    # not the exit 1 of a ledger that was changed. (Root reads any file, so the refusal is
    # raised where the file is read.)
    import greendispatch.ledger.chain as chain

    def refuse(*a: object, **k: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(chain, "_check_lines", refuse)
    code, out, err = cli("ledger", "verify", ledger)
    assert code == 2 and "cannot read: permission denied" in (out + err).lower()


def test_a_disk_that_fills_at_the_last_write_leaves_no_half_ledger(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The disk fills as the ledger's last entries are flushed: nothing is signed, the file is
    # cut back, the error names the cause, and the folder takes the run again.
    import greendispatch.ledger.chain as chain

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    folder = tmp_path / "led"
    monkeypatch.setattr(chain.os, "fsync", full)
    code, _, err = cli(*SIM, "--out", tmp_path / "o", "--ledger", folder)
    assert code == 2 and "no space left on device" in err.lower()
    assert not (folder / chain.HEAD_FILE).exists()
    assert not (folder / LEDGER_FILE).exists() or (folder / LEDGER_FILE).stat().st_size == 0
    monkeypatch.undo()
    code, _, err = cli(*SIM, "--out", tmp_path / "o", "--ledger", folder)
    assert code == 0, err


def test_damage_found_before_a_refused_read_is_still_damage(
    ledger: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A changed line, and a head the system will not let it read: exit 1 (damage was found),
    # not the 2 of a ledger it could not check at all.
    bad = copy(ledger, tmp_path)
    lines = (bad / LEDGER_FILE).read_bytes().splitlines(keepends=True)
    lines[5] = lines[5].replace(b'"wh":', b'"wh": 1, "x":', 1)
    (bad / LEDGER_FILE).write_bytes(b"".join(lines))
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == HEAD_FILE:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    code, out, err = cli("ledger", "verify", bad)
    assert code == 1 and "cannot read the signed head" in (out + err).replace("\n", " ")
