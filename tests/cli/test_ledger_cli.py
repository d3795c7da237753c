"""``simulate --ledger`` and ``greendispatch ledger``: end to end on a short real run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from greendispatch.ledger.chain import LEDGER_FILE
from greendispatch.sim.metrics import job_energy
from tests.helpers import run_cli

ARGS = ["simulate", "--days", "3", "--jobs", "300", "--utilisation", "0.3", "--no-tables",
        "--policy", "baseline,green-first"]  # fmt: skip


@pytest.fixture(scope="module")
def ledger_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import sys

    root = tmp_path_factory.mktemp("led")
    mp = pytest.MonkeyPatch()
    argv = [*ARGS, "--out", str(root / "out"), "--ledger", str(root / "ledger")]
    mp.setattr(sys, "argv", ["greendispatch", *argv])
    from greendispatch.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main()
    mp.undo()
    assert exc.value.code == 0
    return root / "ledger"


def test_written_ledger_verifies_and_shows(
    ledger_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(["ledger", "verify", str(ledger_dir)], capsys, monkeypatch)
    assert code == 0, err
    assert "verified" in out
    code, out, _ = run_cli(["ledger", "show", str(ledger_dir), "--json"], capsys, monkeypatch)
    doc = json.loads(out)
    assert doc["policy"] == "green-first" and doc["entries"]["hour"] == 10 * 72
    assert len(doc["hubs"]) == 10


def test_tenant_statement_totals_equal_the_simulator(
    ledger_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from greendispatch.sim.runner import SimulationRequest, prepare, run_policies

    req = SimulationRequest(n_jobs=300, days=3, utilisation=0.3, policies="green-first")
    sim = prepare(req)
    run = run_policies(sim, req)["green-first"]
    _, green_mwh, _ = job_energy(run)
    jobs = run.jobs
    hub_hours = 10 * 72
    checked = 0
    for code_, tenant in enumerate(jobs.tenants):
        path = ledger_dir / "statements" / f"tenant-{tenant}.json"
        assert path.exists(), tenant
        checked += 1
        doc = json.loads(path.read_text(encoding="utf-8"))
        expected = float(green_mwh[jobs.tenant == code_].sum())
        got = doc["totals"]["green_mwh"]["total"]
        # Whole Wh are claimed per source and hub-hour: at most 4 Wh below the simulator each.
        assert expected - 4 * hub_hours / 1e6 <= got <= expected + 1e-9, tenant
    assert checked == len(jobs.tenants) >= 3
    code, _, err = run_cli(
        ["ledger", "check-statement", str(ledger_dir / "statements" / "tenant-bank.json")],
        capsys,
        monkeypatch,
    )
    assert code == 0, err


def test_job_statement_is_signed_and_consistent(
    ledger_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(
        ["ledger", "statement", str(ledger_dir), "--job", "7", "--json"], capsys, monkeypatch
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["job_id"] == 7
    t = doc["totals"]
    assert t["green_mwh"]["total"] <= t["energy_mwh"] + 1e-9
    hours = doc["hours"]
    assert np.isclose(sum(h["energy_mwh"] for h in hours), t["energy_mwh"])
    html = (ledger_dir / "statements" / "job-7.html").read_text(encoding="utf-8")
    assert "绿电溯源声明" in html and "How to verify" in html


def test_tampered_ledger_fails_verify_and_statements(
    ledger_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(ledger_dir, bad)
    lines = (bad / LEDGER_FILE).read_bytes().splitlines(keepends=True)
    lines[40] = lines[40].replace(b'"wh":', b'"wh":9', 1)
    (bad / LEDGER_FILE).write_bytes(b"".join(lines))
    code, _, err = run_cli(["ledger", "verify", str(bad)], capsys, monkeypatch)
    assert code == 1 and "entry 40" in err
    code, _, err = run_cli(
        ["ledger", "statement", str(bad), "--tenant", "bank"], capsys, monkeypatch
    )
    assert code == 2 and "does not verify" in err


def test_ledger_usage_errors(
    ledger_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run_cli(["ledger", "verify", "/nonexistent/ledger"], capsys, monkeypatch)
    assert code == 2 and "not found" in err
    code, _, err = run_cli(["ledger", "statement", str(ledger_dir)], capsys, monkeypatch)
    assert code == 2 and "exactly one of --tenant" in err
    code, _, err = run_cli(
        ["ledger", "statement", str(ledger_dir), "--tenant", "nobody"], capsys, monkeypatch
    )
    assert code == 2 and "unknown beneficiary 'nobody'" in err


def test_grid_charging_carries_no_green_attribute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["simulate", "--days", "5", "--jobs", "1000", "--policy", "green-first", "--no-tables"]
    args += ["--out", str(tmp_path / "o"), "--ledger", str(tmp_path / "l"), "--grid-charge"]
    code, _, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    grid_charge = green_out = cancelled = 0
    for line in (tmp_path / "l" / LEDGER_FILE).read_text(encoding="utf-8").splitlines():
        body = json.loads(line)["body"]
        st = body.get("storage") or {}
        grid_charge += st.get("grid_charge_wh", 0)
        green_out += st.get("discharged_green_wh", 0)
        cancelled += sum(c["wh"] for c in st.get("cancelled", []))
    assert grid_charge > 0
    # Only green cancelled into storage comes back out as green (less the losses).
    assert green_out <= cancelled + 1e6  # plus at most the opening charge of 1 MWh-scale
    code, _, err = run_cli(["ledger", "verify", str(tmp_path / "l")], capsys, monkeypatch)
    assert code == 0, err
