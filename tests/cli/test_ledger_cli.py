"""``simulate --ledger`` and ``greendispatch ledger``: end to end on a short real run."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from greendispatch.ledger.chain import LEDGER_FILE
from greendispatch.sim.metrics import job_energy
from tests.helpers import render_in_browser, run_cli, run_cli_ok, small_scenario, write_yaml

ARGS = ["simulate", "--days", "3", "--jobs", "300", "--utilisation", "0.3", "--no-tables",
        "--policy", "baseline,green-first"]  # fmt: skip


@pytest.fixture(scope="module")
def ledger_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("led")
    run_cli_ok([*ARGS, "--out", root / "out", "--ledger", root / "ledger"])
    return root / "ledger"


@pytest.fixture(scope="module")
def grid_charged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A run whose batteries also charge from the grid: its --out and --ledger folders."""
    root = tmp_path_factory.mktemp("gc")
    args = ["simulate", "--days", "7", "--jobs", "2000", "--policy", "green-first", "--no-tables"]
    run_cli_ok([*args, "--grid-charge", "--out", root / "o", "--ledger", root / "l"])
    return root / "o", root / "l"


def _resigned(ledger: Path, root: Path, edit: Callable[[dict[str, Any]], object]) -> Path:
    """A copy of ``ledger`` whose genesis ``edit`` changed, re-signed with the ledger's key: the
    chain verifies, as a ledger an earlier version wrote does."""
    from greendispatch.ledger.chain import KEY_FILE, PUB_FILE, LedgerWriter

    dest = root / "resigned"
    dest.mkdir()
    for name in (KEY_FILE, PUB_FILE):
        shutil.copy(ledger / name, dest / name)
    lines = (ledger / LEDGER_FILE).read_text(encoding="utf-8").splitlines()
    bodies = [json.loads(line)["body"] for line in lines]
    edit(bodies[0])
    with LedgerWriter(dest) as writer:
        writer.extend(bodies)
    return dest


def _tampered(ledger: Path, root: Path) -> Path:
    """A copy of ``ledger`` with one claim's Wh changed in entry 40 (line 41)."""
    bad = root / "bad"
    shutil.copytree(ledger, bad)
    lines = (bad / LEDGER_FILE).read_bytes().splitlines(keepends=True)
    lines[40] = lines[40].replace(b'"wh":', b'"wh":9', 1)
    (bad / LEDGER_FILE).write_bytes(b"".join(lines))
    return bad


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


def test_show_splits_issued_certificates_and_says_it_does_not_verify(
    ledger_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = run_cli(["ledger", "show", str(ledger_dir), "--json"], capsys, monkeypatch)
    doc = json.loads(out)
    by_tech = doc["issued_by_technology_mwh"]
    # Storage re-issues green already certified as generation: the total counts it twice.
    assert doc["issued_from_storage_mwh"] == by_tech["storage"] > 0
    assert doc["issued_generation_mwh"] == pytest.approx(
        by_tech["wind"] + by_tech["solar"] + by_tech["contracted-green"]
    )
    assert doc["issued_mwh"] == pytest.approx(
        doc["issued_generation_mwh"] + doc["issued_from_storage_mwh"]
    )
    assert doc["cancelled_into_storage_mwh"] >= doc["issued_from_storage_mwh"]
    assert doc["verified"] is False and doc["verify_with"].startswith("greendispatch ledger verify")
    code, out, _ = run_cli(["ledger", "show", str(ledger_dir)], capsys, monkeypatch)
    assert f"generation: {doc['issued_generation_mwh']:,.3f} MWh" in out
    assert f"re-issued from storage: {doc['issued_from_storage_mwh']:,.3f} MWh" in out
    # A tampered ledger: show still summarises it, but says it did not check, and how to.
    bad = _tampered(ledger_dir, tmp_path)
    code, out, _ = run_cli(["ledger", "show", str(bad)], capsys, monkeypatch)
    assert code == 0
    assert "not verified" in " ".join(out.split())
    assert f"greendispatch ledger verify {bad}" in out.replace("\n", "")


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


@pytest.mark.parametrize("media", ["screen", "print"])
def test_tenant_statement_page_renders_on_screen_and_paper(ledger_dir: Path, media: str) -> None:
    page = next((ledger_dir / "statements").glob("tenant-*.html"))
    seen = render_in_browser(page, "document.querySelectorAll('table tr').length", media=media)
    assert seen.errors == []
    assert seen.requests == [page.resolve().as_uri()]  # printable offline: nothing fetched
    assert seen.value > 2  # its tables drew rows
    assert "绿电溯源声明" in seen.text and "How to verify" in seen.text


def test_statement_page_says_hub_hours_and_where_the_signature_is(ledger_dir: Path) -> None:
    from greendispatch.report.statement import render_statement

    page = (ledger_dir / "statements" / "tenant-bank.html").read_text(encoding="utf-8")
    doc = json.loads((ledger_dir / "statements" / "tenant-bank.json").read_text(encoding="utf-8"))
    n = len(doc["hours"])
    assert f"{n:,} hub-hours" in page and "每行为一个枢纽的一个小时" in page
    # Only the JSON file is signed, and the page says so.
    assert "本声明的签名覆盖其全部内容" not in page
    assert "签名（Ed25519）在本声明的 JSON 文件（<code>tenant-bank.json</code>）中" in page
    assert "this page is a printable copy of it and is not itself signed" in page
    # The bases in both languages, in plain words, not code keys; 绿电合同 for contracted green.
    for key in ("location_based", "market_based", "gec_of_tenant"):
        assert key not in page
    assert (
        "基于位置的碳排放：按用电量比例分摊" in page and "Location-based CO₂: your pro rata" in page
    )
    assert "<th>绿电合同 <span" in page and "合同 contract<" not in page
    short = render_statement(doc, hours_shown=5)
    assert f"{n:,} hub-hours, the first 5 shown here; all are in the JSON file" in short
    assert f"共 {n:,} 行，此处列出前 5 行" in short


def test_tampered_ledger_fails_verify_and_statements(
    ledger_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = _tampered(ledger_dir, tmp_path)
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


@pytest.mark.parametrize("genesis_lists_tenants", [True, False])
def test_an_unknown_tenant_names_the_ledgers_tenants_and_the_close_match(
    genesis_lists_tenants: bool,
    ledger_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = ledger_dir
    if not genesis_lists_tenants:  # a ledger recorded before the genesis listed its tenants
        folder = _resigned(ledger_dir, tmp_path, lambda g: g.pop("tenants"))
    else:  # said before any re-run

        def no_rerun(folder: Path) -> None:
            raise AssertionError(f"re-ran {folder}")

        monkeypatch.setattr("greendispatch.ledger.record.rebuild", no_rerun)
    code, _, err = run_cli(["ledger", "statement", str(folder), "--tenant", "Bank"], capsys,
                           monkeypatch)  # fmt: skip
    err = " ".join(err.split())
    assert code == 2 and "--tenant: unknown beneficiary 'Bank'; did you mean 'bank'?" in err
    assert "the ledger's tenants: " in err and "bank" in err and "facility" in err


def test_grid_charging_carries_no_green_attribute(
    grid_charged: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, ledger = grid_charged
    grid_charge = green_out = cancelled = 0
    for line in (ledger / LEDGER_FILE).read_text(encoding="utf-8").splitlines():
        body = json.loads(line)["body"]
        st = body.get("storage") or {}
        grid_charge += st.get("grid_charge_wh", 0)
        green_out += st.get("discharged_green_wh", 0)
        cancelled += sum(c["wh"] for c in st.get("cancelled", []))
    assert grid_charge > 0
    # Only green cancelled into storage comes back out as green (less the losses).
    assert green_out <= cancelled + 1e6  # plus at most the opening charge of 1 MWh-scale
    code, _, err = run_cli(["ledger", "verify", str(ledger)], capsys, monkeypatch)
    assert code == 0, err


def test_battery_output_without_a_certificate_is_not_booked_as_grid(
    grid_charged: tuple[Path, Path],
) -> None:
    """With --grid-charge, batteries give energy that carries no certificate. In a hub-hour that
    imported nothing from the grid, statements book none as grid: it is battery output, not
    certified green; and each statement's totals are the sums of its rows."""
    _, ledger = grid_charged
    grid_wh = {}
    for line in (ledger / LEDGER_FILE).read_text(encoding="utf-8").splitlines():
        body = json.loads(line)["body"]
        if body["type"] == "hour":
            grid_wh[body["hub"], body["hour_start"]] = body["grid_wh"]
    battery_in_gridless_hours = 0.0
    for path in (ledger / "statements").glob("tenant-*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        rows, totals = doc["hours"], doc["totals"]
        for row in rows:
            if grid_wh[row["hub"], row["hour_start"]] == 0:
                assert row["grid_mwh"] < 1e-5, row  # a few Wh of flooring at most
                battery_in_gridless_hours += row["battery_uncertified_mwh"]
        for key in ("grid_mwh", "battery_uncertified_mwh", "location_based_t", "market_based_t"):
            assert totals[key] == pytest.approx(sum(r[key] for r in rows), rel=1e-9, abs=1e-9)
        # The grid not covered by certificates is the pro rata grid import but for the claims'
        # flooring to whole Wh: at most 1 g per claim (at <= 1,000 g/kWh).
        by_rows = sum(r["grid_mwh"] * r["ci_g_per_kwh"] for r in rows) * 1e-3
        floor_t = len(doc["certificates"]) * 1e-6 + 1e-9
        assert 0 <= by_rows - totals["location_based_t"] <= floor_t
        assert totals["market_based_t"] <= totals["location_based_t"] + floor_t
    assert battery_in_gridless_hours > 0.1


def test_both_carbon_bases_add_up_to_the_runs_carbon_with_grid_charging(
    grid_charged: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The facility drew the grid energy its batteries charged: its location-based and
    market-based carbon both count it, so each basis over every beneficiary's statement adds up
    to the run's carbon_t (the market-based one but for the claims' flooring to whole Wh)."""
    out, ledger = grid_charged
    m = json.loads((out / "results.json").read_text(encoding="utf-8"))["policies"]["green-first"]
    assert m["grid_charge_carbon_t"] > 1.0  # enough to be missed
    args = ["ledger", "statement", str(ledger), "--tenant", "facility", "-o", str(tmp_path)]
    code, _, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    facility = json.loads((tmp_path / "tenant-facility.json").read_text(encoding="utf-8"))
    docs = [facility] + [
        json.loads(p.read_text(encoding="utf-8"))
        for p in (ledger / "statements").glob("tenant-*.json")
    ]
    assert len(docs) == 7  # six tenants and the facility
    floor_t = sum(len(d["certificates"]) for d in docs) * 1e-6  # 1 Wh x <= 1 kg/kWh per claim
    location = math.fsum(d["totals"]["location_based_t"] for d in docs)
    market = math.fsum(d["totals"]["market_based_t"] for d in docs)
    assert location == pytest.approx(m["carbon_t"], rel=1e-9)
    assert 0 <= market - m["carbon_t"] <= floor_t
    # The facility's rows carry the grid energy its batteries drew; its market-based carbon
    # is its uncovered grid x intensity plus that energy's carbon; so is its location-based.
    t = facility["totals"]
    assert t["grid_charge_mwh"] == pytest.approx(m["grid_charge_mwh"], rel=1e-9)
    assert math.fsum(r["grid_charge_mwh"] for r in facility["hours"]) == t["grid_charge_mwh"]
    assert "charged from the grid" in facility["basis"]["market_based"]
    uncovered_t = math.fsum(r["grid_mwh"] * r["ci_g_per_kwh"] for r in facility["hours"]) * 1e-3
    charged_t = m["grid_charge_carbon_t"]
    assert t["market_based_t"] == pytest.approx(uncovered_t + charged_t, rel=1e-9)
    assert t["location_based_t"] == pytest.approx(m["facility_carbon_t"], rel=1e-9)
    # Its bases say so, in both languages; a tenant's do not.
    for text in (*facility["basis"].values(), *facility["basis_zh"].values()):
        assert "batteries charged from the grid" in text or "储能从电网充电的电量" in text
    bank = json.loads((ledger / "statements" / "tenant-bank.json").read_text(encoding="utf-8"))
    assert "charged" not in " ".join(bank["basis"].values())
    assert bank["totals"]["grid_charge_mwh"] == 0.0
    page = (tmp_path / "tenant-facility.html").read_text(encoding="utf-8")
    assert "储能从电网充电的电量（计入两种碳排放）" in page
    assert f"{t['grid_charge_mwh']:.3f} MWh" in page


def test_a_second_run_into_the_same_ledger_is_refused(
    ledger_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = [*ARGS, "--out", str(ledger_dir.parent / "o2"), "--ledger", str(ledger_dir)]
    code, _, err = run_cli(args, capsys, monkeypatch)
    assert code == 2 and "already holds a recorded run" in err


def test_statements_need_the_private_key_and_never_replace_it(
    ledger_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    copy = tmp_path / "nokey"
    shutil.copytree(ledger_dir, copy)
    (copy / "ledger-key.pem").unlink()
    shutil.rmtree(copy / "statements")
    pub = (copy / "ledger-key.pub").read_text()
    code, _, err = run_cli(["ledger", "statement", str(copy), "--job", "3"], capsys, monkeypatch)
    assert code == 2 and "private key" in err
    assert (copy / "ledger-key.pub").read_text() == pub
    code, _, err = run_cli(["ledger", "verify", str(copy)], capsys, monkeypatch)
    assert code == 0, err


def test_check_statement_against_the_ledgers_key(
    ledger_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from greendispatch.ledger.chain import load_or_create_key, sign_document

    doc = json.loads((ledger_dir / "statements" / "tenant-bank.json").read_text(encoding="utf-8"))
    forged = sign_document(
        {k: v for k, v in doc.items() if k != "signature"} | {"beneficiary": "someone"},
        load_or_create_key(tmp_path),
        doc["signature"]["ledger_head"],
    )
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged), encoding="utf-8")
    code, _, _ = run_cli(["ledger", "check-statement", str(path)], capsys, monkeypatch)
    assert code == 0  # a valid signature, but by another key:
    args = ["ledger", "check-statement", str(path), "--ledger", str(ledger_dir)]
    code, _, err = run_cli(args, capsys, monkeypatch)
    assert code == 1 and "not the ledger's key" in err


def test_verify_an_empty_folder_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run_cli(["ledger", "verify", str(tmp_path)], capsys, monkeypatch)
    assert code == 2 and "ledger file not found" in err


def test_a_changed_scenario_is_refused_before_the_re_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job statement re-runs the recorded request. Under baseline the claims do not depend on
    grid intensity, so a scenario whose wind weights changed re-runs to the ledger's claims and
    other carbon: a scenario whose SHA-256 is not the recorded one is refused before the
    re-run, naming it and both hashes."""
    scenario = tmp_path / "hubs.yaml"
    run_cli_ok(["scenario", "export", "china-hubs", "-o", scenario])
    original = scenario.read_text(encoding="utf-8")
    args = ["simulate", "-s", scenario, "--days", "1", "--jobs", "60", "--policy", "baseline"]
    run_cli_ok([*args, "--no-tables", "--out", tmp_path / "o", "--ledger", tmp_path / "l"])
    first = (tmp_path / "l" / LEDGER_FILE).read_text(encoding="utf-8").splitlines()[0]
    recorded = json.loads(first)["body"]["request"]["scenario_sha256"]
    assert recorded == hashlib.sha256(scenario.read_bytes()).hexdigest()
    out = tmp_path / "st"

    def job_statement(folder: Path) -> tuple[int, str]:
        shutil.rmtree(out, ignore_errors=True)
        code, _, err = run_cli(["ledger", "statement", str(folder), "--job", "5", "-o", str(out)],
                               capsys, monkeypatch)  # fmt: skip
        return code, " ".join(err.split())

    assert job_statement(tmp_path / "l")[0] == 0
    windier = original.replace("wind_weight: 0.42", "wind_weight: 0.6", 1)
    assert windier != original
    scenario.write_text(windier, encoding="utf-8")
    now = hashlib.sha256(scenario.read_bytes()).hexdigest()
    code, err = job_statement(tmp_path / "l")
    assert code == 2 and "Traceback" not in err
    assert (
        f"{tmp_path / 'l' / LEDGER_FILE}:1: body.request.scenario: the scenario file {scenario} "
        "changed since the ledger was written" in err
    )
    assert f"SHA-256 recorded {recorded}, now {now}" in err
    assert not (out / "job-5.json").exists()
    # A ledger recorded before the hash was kept has nothing to compare the file with: the
    # re-run's hourly intensities (other than the ledger's here) refuse it, and when the re-run's
    # claims differ, it cannot tell why.
    old = _resigned(tmp_path / "l", tmp_path, lambda g: g["request"].pop("scenario_sha256"))
    code, err = job_statement(old)
    assert code == 2 and "the ledger records load" in err
    scenario.write_text(original.replace("\nseed: 2023\n", "\nseed: 2024\n"), encoding="utf-8")
    code, err = job_statement(old)
    assert code == 2
    assert "re-running the recorded request gives other claims than the ledger holds" in err
    assert "recorded before input hashes were kept" in err
    scenario.write_text(original, encoding="utf-8")
    assert job_statement(tmp_path / "l")[0] == 0 and job_statement(old)[0] == 0
    scenario.unlink()
    code, err = job_statement(tmp_path / "l")
    assert code == 2
    assert f"the scenario file {scenario} the ledger was recorded from is missing" in err
    assert f"recorded SHA-256 {recorded}" in err


def test_a_re_run_with_other_hourly_figures_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under baseline an edited grid (a data file, or here the mix of a ledger recorded before
    input hashes were kept, so nothing names the file) re-runs to the ledger's claims with other
    intensities: the re-run's load, grid import and intensity of every hub-hour are checked
    against the ledger's, and the first that differs is named."""
    scenario = tmp_path / "hubs.yaml"
    run_cli_ok(["scenario", "export", "china-hubs", "-o", scenario])
    original = scenario.read_text(encoding="utf-8")
    args = ["simulate", "-s", scenario, "--days", "1", "--jobs", "60", "--policy", "baseline"]
    run_cli_ok([*args, "--no-tables", "--out", tmp_path / "o", "--ledger", tmp_path / "l"])
    old = _resigned(tmp_path / "l", tmp_path, lambda g: g["request"].pop("scenario_sha256"))
    statement = ["ledger", "statement", str(old), "--job", "5", "-o", str(tmp_path / "st")]
    assert run_cli(statement, capsys, monkeypatch)[0] == 0
    scenario.write_text(original.replace("wind_weight: 0.42", "wind_weight: 0.6", 1), "utf-8")
    code, _, err = run_cli([*statement[:-1], str(tmp_path / "st2")], capsys, monkeypatch)
    err = " ".join(err.split())
    assert code == 2 and "Traceback" not in err, err
    assert f"{old / LEDGER_FILE}:" in err and ": body: hub horinger at 2023-01-01T00:00:00Z" in err
    assert "the ledger records load" in err and "g/kWh; the re-run gives" in err
    assert not (tmp_path / "st2" / "job-5.json").exists()


def test_a_built_in_scenario_of_another_text_is_refused_before_the_re_run(
    ledger_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from greendispatch.scenario.loader import builtin_text

    now = hashlib.sha256(builtin_text("china-hubs").encode("utf-8")).hexdigest()
    folder = _resigned(
        ledger_dir, tmp_path, lambda g: g["request"].update(scenario_sha256="0" * 64)
    )
    code, _, err = run_cli(["ledger", "statement", str(folder), "--job", "3"], capsys, monkeypatch)
    err = " ".join(err.split())
    assert code == 2
    assert (
        "body.request.scenario: the built-in scenario china-hubs changed since the ledger was "
        f"written (SHA-256 recorded {'0' * 64}, now {now}): use the version that recorded it" in err
    )


def test_a_changed_trace_is_refused_before_the_re_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    trace, ledger = tmp_path / "t.csv", tmp_path / "l"
    rows = "arrival_time,length,cpus\n0.0,2.0,1\n1.0,3.0,{}\n"
    trace.write_text(rows.format(2), encoding="utf-8")
    recorded = hashlib.sha256(trace.read_bytes()).hexdigest()
    run_cli_ok(["simulate", "-s", write_yaml(tmp_path / "two.yaml", small_scenario()),
                "--trace", trace, "--trace-format", "gaia", "--policy", "baseline",
                "--no-tables", "--out", tmp_path / "o", "--ledger", ledger])  # fmt: skip
    trace.write_text(rows.format(1), encoding="utf-8")
    now = hashlib.sha256(trace.read_bytes()).hexdigest()
    code, _, err = run_cli(["ledger", "statement", str(ledger), "--job", "0"], capsys, monkeypatch)
    err = " ".join(err.split())
    assert code == 2
    assert f"body.request.trace: the trace file {trace} changed since the ledger was written" in err
    assert f"SHA-256 recorded {recorded}, now {now}" in err
