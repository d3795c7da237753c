"""``greendispatch simulate`` end to end: every tonne of carbon attributed (grid charging
included), the files' precision, and what the terminal table shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from greendispatch.sim.runner import plain_decimals
from tests.helpers import run_cli, run_cli_ok, small_scenario, write_yaml

RUN = ["simulate", "--days", "2", "--jobs", "300", "-p", "baseline,green-first", "--grid-charge"]


@pytest.fixture(scope="module")
def charged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days of china-hubs with grid charging; the ledger records baseline (which charges
    from the grid on these days)."""
    root = tmp_path_factory.mktemp("charged")
    run_cli_ok([*RUN, "--out", root / "out", "--ledger", root / "ledger",
                "--ledger-policy", "baseline"])  # fmt: skip
    run_cli_ok(["ledger", "statement", root / "ledger", "--tenant", "facility", "-o", root / "st"])
    return root


def test_plain_decimals_never_goes_scientific() -> None:
    values = np.array([1234567.891, 12345678901234.5, 3.2e-5, 4e-13, -4e-13, np.nan, 0.1 + 0.2])
    assert plain_decimals(values).tolist() == [
        "1234567.891", "12345678901234.5", "0.000032", "0", "0", "", "0.3"
    ]  # fmt: skip


def test_csv_tables_balance_to_their_last_digit_and_have_no_exponents(charged: Path) -> None:
    # Written with %.6g they balanced only to ~7e-4 MWh, and 1e6 or more came out as 1e+06.
    out = charged / "out"
    for path in out.glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\d[eE][+-]?\d", text), path.name
    for name in ("baseline", "green-first"):
        slots = pd.read_csv(out / f"hub-slots-{name}.csv")
        served = (
            slots.own_used_mwh + slots.battery_discharge_mwh + slots.contracted_used_mwh
            + slots.grid_mwh
        )  # fmt: skip
        np.testing.assert_allclose(served, slots.load_mwh, rtol=0, atol=3e-9)
        jobs = pd.read_csv(out / f"jobs-{name}.csv")
        placed = jobs.hub.notna()
        assert jobs.start_h[~placed].isna().all() and jobs.start_h[placed].notna().all()
        assert (jobs.green_mwh <= jobs.energy_mwh + 1e-9).all()


# The tables' columns before this session's additions: scripts may read them by position.
JOBS_COLUMNS = (
    "job_id,tenant,kind,pool,devices,submit_h,deadline_h,hub,start_h,slots,segments,"
    "wait_h,missed,latency_violation,data_moved_gb,energy_mwh,green_mwh,carbon_kg"
)
SLOT_COLUMNS = ("time_utc,hub,it_mw,load_mwh,own_used_mwh,battery_discharge_mwh,"
                "battery_charge_mwh,contracted_used_mwh,grid_mwh,curtailed_mwh,soc_mwh,"
                "ci_g_per_kwh,carbon_t")  # fmt: skip


def test_new_columns_come_after_the_old_ones(charged: Path) -> None:
    out = charged / "out"
    for stem, old, new in (("jobs", JOBS_COLUMNS, "end_h,late_h"),
                           ("hub-slots", SLOT_COLUMNS,
                            "grid_charge_mwh,battery_discharge_green_mwh")):  # fmt: skip
        header = (out / f"{stem}-baseline.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header == f"{old},{new}"


def test_grid_charging_carbon_is_the_facilitys_and_every_tonne_is_attributed(
    charged: Path,
) -> None:
    doc = json.loads((charged / "out" / "results.json").read_text(encoding="utf-8"))
    m = doc["policies"]["baseline"]
    assert m["grid_charge_mwh"] > 0 and m["grid_charge_carbon_t"] > 0
    # Jobs get their pro rata share of the grid import serving load; the facility the rest of
    # it (idle devices) and all grid charging: together, the run's carbon.
    assert m["jobs_carbon_t"] + m["facility_carbon_t"] == pytest.approx(m["carbon_t"], rel=1e-12)
    assert m["facility_carbon_t"] > m["grid_charge_carbon_t"]
    # The hub-slot table shows the grid charging that its carbon counts.
    slots = pd.read_csv(charged / "out" / "hub-slots-baseline.csv")
    assert slots["grid_charge_mwh"].sum() == pytest.approx(m["grid_charge_mwh"], rel=1e-9)
    ci = slots["ci_g_per_kwh"]
    carbon = (slots["grid_mwh"] + slots["grid_charge_mwh"]) * ci * 1e-3
    np.testing.assert_allclose(slots["carbon_t"], carbon, rtol=1e-8, atol=1e-9)
    charging = slots["grid_charge_mwh"] > 0
    assert (slots["carbon_t"][charging] > slots["grid_mwh"][charging] * ci[charging] * 1e-3).all()
    assert slots["carbon_t"].sum() == pytest.approx(m["carbon_t"], rel=1e-9)
    # ... and the green part of the battery's output, so that the green share can be checked.
    green = slots["own_used_mwh"] + slots["battery_discharge_green_mwh"]
    green += slots["contracted_used_mwh"]
    assert green.sum() / slots["load_mwh"].sum() == pytest.approx(m["green_share"], rel=1e-6)
    assert (slots["battery_discharge_green_mwh"] <= slots["battery_discharge_mwh"] + 1e-9).all()
    # The ledger: the tenants' location-based carbon is the jobs', the facility's the rest.
    tenants = [
        json.loads(p.read_text(encoding="utf-8"))["totals"]["location_based_t"]
        for p in sorted((charged / "ledger" / "statements").glob("tenant-*.json"))
    ]
    facility = json.loads((charged / "st" / "tenant-facility.json").read_text(encoding="utf-8"))
    assert sum(tenants) == pytest.approx(m["jobs_carbon_t"], rel=1e-9)
    assert facility["totals"]["location_based_t"] == pytest.approx(m["facility_carbon_t"], rel=1e-9)
    total = sum(tenants) + facility["totals"]["location_based_t"]
    assert total == pytest.approx(m["carbon_t"], rel=1e-9)


def test_the_table_shows_unplaced_jobs_which_count_as_missed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two hubs; the second trace job needs 200 devices, and the largest pool has 100: it never
    # runs. The table shows it beside the misses, and says what it leaves out.
    scenario = write_yaml(tmp_path / "two.yaml", small_scenario())
    trace = tmp_path / "t.csv"
    trace.write_text("arrival_time,length,cpus\n0.0,2.0,1\n1.0,2.0,200\n", encoding="utf-8")
    args = ["simulate", "-s", str(scenario), "--trace", str(trace), "--trace-format", "gaia",
            "-p", "baseline,green-first", "--no-tables", "--out", str(tmp_path / "o")]  # fmt: skip
    code, out, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    header = next(line for line in out.splitlines() if "policy" in line)
    cells = [c.strip() for c in header.strip("┃│ ").split("┃")]
    col = cells.index("unplaced")
    assert cells[col - 1] == "missed"
    for name in ("baseline", "green-first"):
        row = next(line for line in out.splitlines() if line.startswith(f"│ {name} "))
        values = [c.strip() for c in row.strip("│ ").split("│")]
        assert values[col] == "1" and values[col - 1] == "1"
    assert "unplaced: jobs never run (baseline 1, green-first 1); they count as missed" in out
    doc = json.loads((tmp_path / "o" / "results.json").read_text(encoding="utf-8"))
    assert all(m["unplaced"] == 1 == m["deadline_misses"] for m in doc["policies"].values())


def test_the_report_says_the_batteries_charged_from_the_grid(charged: Path) -> None:
    page = (charged / "out" / "report.html").read_text(encoding="utf-8")
    assert "<dt>储能电网充电 Batteries charge from the grid</dt><dd>是 yes</dd>" in page
