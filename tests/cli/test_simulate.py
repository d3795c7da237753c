"""``greendispatch simulate``: the results contract, files, errors and determinism."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from greendispatch.sim.metrics import METRIC_KEYS
from tests.helpers import run_cli, run_cli_ok

SHORT = ["simulate", "--days", "4", "--jobs", "400", "--utilisation", "0.3"]


@pytest.fixture(scope="module")
def sim_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    run_cli_ok([*SHORT, "--forecast", "noisy:0.1", "--out", out])
    return out


def test_results_json_has_the_documented_schema(sim_out: Path) -> None:
    doc = json.loads((sim_out / "results.json").read_text(encoding="utf-8"))
    assert doc["scenario"] == "china-hubs"
    assert list(doc["policies"]) == [
        "baseline", "lowest-carbon", "wait-awhile", "carbon-time", "cost", "green-first", "mpc"
    ]  # fmt: skip
    for metrics in doc["policies"].values():
        assert set(METRIC_KEYS) <= set(metrics)
        assert 0 <= metrics["green_share"] <= metrics["cfe_share"] <= 1
    assert doc["config"]["forecast"] == "noisy:0.1"


def test_tables_and_offline_report_are_written(sim_out: Path) -> None:
    jobs = pd.read_csv(sim_out / "jobs-green-first.csv")
    assert len(jobs) == 400
    slots = pd.read_csv(sim_out / "hub-slots-baseline.csv")
    assert len(slots) == 10 * 4 * 24
    balance = slots.own_used_mwh + slots.battery_discharge_mwh + slots.contracted_used_mwh
    assert ((balance + slots.grid_mwh - slots.load_mwh).abs() < 1e-3).all()
    html = (sim_out / "report.html").read_text(encoding="utf-8")
    assert "green-first" in html
    # Nothing is loaded from a network: no tag points at a remote address.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", html)


def test_json_flag_prints_results_and_same_seed_same_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = [*SHORT, "--policy", "green-first,wait-awhile", "--seed", "5", "--json", "--no-tables"]
    code, out1, err = run_cli([*args, "--out", str(tmp_path / "a")], capsys, monkeypatch)
    assert code == 0, err
    code, out2, _ = run_cli([*args, "--out", str(tmp_path / "b")], capsys, monkeypatch)
    a, b = json.loads(out1), json.loads(out2)
    for name in ("green-first", "wait-awhile"):
        a["policies"][name].pop("runtime_s")
        b["policies"][name].pop("runtime_s")
    assert a["policies"] == b["policies"]


TRACE = ["simulate", "--days", "1", "--trace", "x.csv", "--trace-format"]  # read after the checks


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([*SHORT, "--policy", "greenest"], "error: --policy: unknown policy 'greenest'"),
        (
            [*SHORT, "--forecast", "nosy:0.1"],
            "error: --forecast: expected perfect, persistence or noisy:",
        ),
        ([*SHORT, "--carbon-weight", "2"], "error: --carbon-weight must be in [0, 1]"),
        ([*SHORT, "--trace", "x.csv", "--trace-format", "gaia"], "either --jobs N or --trace PATH"),
        ([*SHORT, "--days", "0"], "--days must be in 1..3660"),
        ([*SHORT, "--jobs", "99999999999999999999"], "--jobs must be between 1 and 10,000,000"),
        ([*SHORT, "--jobs", "0"], "--jobs must be between 1 and 10,000,000"),
        ([*SHORT, "--slack-h", "5"], "--slack-h applies to --trace jobs"),
        ([*SHORT, "--trace-format", "gaia"], "--trace-format applies to --trace PATH"),
        ([*SHORT, "--priority-tenants", "bank"], "--priority-tenants applies to --ledger DIR"),
        ([*SHORT, "--ledger-policy", "cost"], "--ledger-policy applies to --ledger DIR"),
        ([*SHORT, "--trace-offset-h", "5"], "error: --trace-offset-h applies to --trace PATH"),
        ([*SHORT, "--trace-pool", "general"], "error: --trace-pool applies to --trace PATH"),
        ([*SHORT, "--trace-any-device"], "error: --trace-any-device applies to --trace PATH"),
        ([*TRACE, "alibaba", "--trace-pool", "ai"], "--trace-pool applies to --trace-format gaia"),
        (
            [*TRACE, "gaia", "--trace-pool", "gpu"],
            "--trace-pool: expected one of auto|general|ai|hpc",
        ),
        (
            [*TRACE, "gaia", "--trace-any-device"],
            "--trace-any-device applies to --trace-format alibaba",
        ),
        (
            [*TRACE, "azure-llm", "--trace-offset-h", "3"],
            "--trace-offset-h applies to alibaba and gaia",
        ),
        (
            [*TRACE, "gaia", "--trace-offset-h", "nan"],
            "--trace-offset-h: expected a number of hours",
        ),
        ([*TRACE, "gaia", "--trace-offset-h", "-1e308"], "between -10,000,000 and 10,000,000"),
    ],
)
def test_bad_flags_exit_2(
    args: list[str],
    fragment: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = run_cli([*args, "--out", str(tmp_path / "o")], capsys, monkeypatch)
    assert code == 2, err
    assert fragment in err and "Traceback" not in err
    assert "<input>" not in err  # a flag check names the flag
    assert not (tmp_path / "o").exists()


def _plain(text: str) -> str:
    """Help text with its box lines and wrapping removed."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.mark.parametrize("command", [["simulate"], ["ledger", "show"], ["scenario", "show"], []])
def test_help_shows_flags_as_flags(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli([*command, "--help"], capsys, monkeypatch)
    assert code == 0, err
    assert "--help Show this message and exit." in _plain(out)
    assert "<bool>" not in out  # a flag takes no value: "--json true" is an error
    if command == ["simulate"]:
        help_text = _plain(out)
        for flag in ("--json", "--no-tables", "--grid-charge", "--trace-any-device"):
            assert re.search(rf"{flag} [A-Za-z]", help_text), flag  # the help follows the flag
        assert "--carbon-weight <float> How green-first and mpc weigh carbon against cost" in (
            help_text
        )
        assert "Ignored by the other policies and by the oracle" in help_text


@pytest.mark.parametrize("command", ["simulate", "signals", "demo"])
def test_an_output_folder_that_cannot_be_made_is_refused_before_any_work(
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep me", encoding="utf-8")
    args = [*SHORT] if command == "simulate" else [command]
    started = []
    monkeypatch.setattr("greendispatch.sim.runner.prepare", lambda *a, **k: started.append(1))
    monkeypatch.setattr("greendispatch.signals.build.build_signals", lambda *a: started.append(1))
    for out, fragment in (
        (afile / "sub", "cannot create or write the folder"),
        (afile, "exists and is not a folder"),
    ):
        code, _, err = run_cli([*args, "--out", str(out)], capsys, monkeypatch)
        assert code == 2, err
        assert fragment in err and "Traceback" not in err
    assert started == []  # nothing was loaded or simulated
    assert afile.read_text(encoding="utf-8") == "keep me"


def test_a_message_with_brackets_is_printed_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = str(tmp_path / "[/x]" / "s.yaml")  # rich would read [/x] as markup
    code, _, err = run_cli(["scenario", "show", name], capsys, monkeypatch)
    assert code == 2, err
    assert "[/x]" in err and "file not found" in err and "Traceback" not in err


def test_a_failed_run_removes_only_the_folders_it_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()  # the user's own empty folder, reached through a path with ".."
    monkeypatch.chdir(tmp_path)
    args = [*SHORT, "--scenario", "nowhere.yaml"]
    for out in ("typo/../keep", "new/deeper"):
        code, _, err = run_cli([*args, "--out", out], capsys, monkeypatch)
        assert code == 2 and "nowhere.yaml" in err, err
    assert keep.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]  # no typo/, no new/


@pytest.mark.parametrize(
    ("out", "ledger", "fragment"),
    [
        ("D/statements", "D", "--out D/statements is inside --ledger D"),
        ("r1", "r1/results.json", "--ledger r1/results.json would take the place of results.json"),
        ("r1", "r1/jobs-mpc.csv.tmp", "would take the place of jobs-mpc.csv.tmp"),
        ("loop", "L", "--out loop or --ledger L: Too many levels of symbolic links"),
        ("", "L", "--out: expected a folder name (got an empty one)"),
        ("o", "", "--ledger: expected a folder name (got an empty one)"),
    ],
)
def test_out_and_ledger_that_would_clash_are_refused_before_the_run(
    out: str,
    ledger: str,
    fragment: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loop").symlink_to("loop")  # a symlink loop
    monkeypatch.setattr("greendispatch.sim.runner.prepare", lambda *a, **k: 1 / 0)
    code, _, err = run_cli([*SHORT, "--out", out, "--ledger", ledger], capsys, monkeypatch)
    assert code == 2, err
    assert fragment in err and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["loop"]


def test_export_to_a_path_that_cannot_be_written_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("", encoding="utf-8")
    code, _, err = run_cli(
        ["scenario", "export", "china-hubs", "-o", str(afile / "x.yaml")], capsys, monkeypatch
    )
    assert code == 2, err
    assert f"--output: cannot write {afile / 'x.yaml'}" in err and "Traceback" not in err


GAIA_OK = "arrival_time,length,cpus\n0.0,2.5,4\n1.5,1.0,2\n3.0,5.0,8\n"


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("arrival_time,length\n0.0,2.5\n", ["cpus"]),
        ("arrival_time,length,cpus\n0.0,2.5,4\n1.0,-3,2\n", [":3", "length"]),
        ("arrival_time,length,cpus\n0.0,2.5,4\n1.0,2,four\n", [":3", "cpus"]),
        ("", ["empty"]),
    ],
    ids=["missing-column", "negative-duration", "text-in-number", "empty-file"],
)
def test_bad_traces_name_file_line_and_column(
    text: str,
    fragments: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trace = tmp_path / "bad.csv"
    trace.write_text(text, encoding="utf-8")
    args = ["simulate", "--days", "4", "--trace", str(trace), "--trace-format", "gaia"]
    code, _, err = run_cli([*args, "--out", str(tmp_path / "o")], capsys, monkeypatch)
    assert code == 2, err
    assert "bad.csv" in err and "Traceback" not in err
    for frag in fragments:
        assert frag in err, (frag, err)


def test_a_gaia_trace_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = tmp_path / "ok.csv"
    trace.write_text(GAIA_OK, encoding="utf-8")
    args = ["simulate", "--days", "2", "--trace", str(trace), "--trace-format", "gaia", "--json"]
    code, out, err = run_cli(
        [*args, "--out", str(tmp_path / "o"), "--no-tables"], capsys, monkeypatch
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["config"]["jobs"] == 3
    assert doc["policies"]["baseline"]["deadline_misses"] == 0


def test_trace_jobs_that_cannot_finish_in_the_horizon_are_dropped_not_missed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = tmp_path / "late.csv"
    trace.write_text("arrival_time,length,cpus\n1.0,2.0,1\n40.0,20.0,1\n", encoding="utf-8")
    args = ["simulate", "--days", "2", "--trace", str(trace), "--trace-format", "gaia", "--json"]
    code, out, err = run_cli(
        [*args, "--out", str(tmp_path / "o"), "--no-tables"], capsys, monkeypatch
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["config"]["jobs"] == 1
    assert any("cannot finish before the scenario's end" in n for n in doc["notes"])
    assert all(m["deadline_misses"] == 0 for m in doc["policies"].values())


def test_trace_jobs_released_after_the_last_slot_are_dropped_not_left_unplaced(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    # Jobs 1442-1444 of pai_100k arrive at 167.39-167.49 h: released at 168 h, after a week.
    trace = data_dir / "traces/gaia/pai_100k.csv"
    args = ["simulate", "--days", "7", "--trace", str(trace), "--trace-format", "gaia"]
    code, out, err = run_cli(
        [*args, "-p", "baseline", "--out", str(tmp_path), "--json", "--no-tables"],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["config"]["jobs"] == 1434 and doc["policies"]["baseline"]["unplaced"] == 0
    assert any(n.startswith("dropped 3 job(s) arriving after the last slot began (167 h)")
               for n in doc["notes"])  # fmt: skip


ALIBABA = "traces/alibaba-gpu-2023/openb_pod_list_default.csv"


def test_a_trace_with_no_job_in_the_horizon_is_refused_and_can_be_shifted(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    trace = data_dir / ALIBABA  # pods arrive from day 115.9 to 149 (98 % of them)
    args = ["simulate", "--trace", str(trace), "--trace-format", "alibaba", "-p", "baseline"]
    code, out, err = run_cli(
        [*args, "--days", "7", "-o", "o", "--ledger", "led"], capsys, monkeypatch
    )
    assert code == 2 and out == "", err
    assert "no job of the trace can run in the scenario's 7 day(s)" in err
    assert "98 % of them from day 115.9 to 149.0" in err and "Traceback" not in err
    assert "give --trace-offset-h 2782 to move them to the scenario's start" in err
    assert list(tmp_path.iterdir()) == []  # no output folder, no ledger, no statement
    shifted = [*args, "--days", "2", "--trace-offset-h", "2782", "-o", "o", "--json", "--no-tables"]
    code, out, err = run_cli(shifted, capsys, monkeypatch)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["config"]["jobs"] == 299
    assert "arrivals shifted -2782 h (--trace-offset-h 2782)" in doc["notes"]
    config = doc["config"]  # the trace flags are in the run's config, not only in its notes
    assert (config["trace_offset_h"], config["trace_pool"], config["trace_any_device"]) == (
        2782.0,
        None,
        False,
    )


def test_trace_pool_puts_gaia_jobs_on_the_pool_asked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = tmp_path / "vms.csv"
    trace.write_text(GAIA_OK, encoding="utf-8")
    args = ["simulate", "--days", "1", "--trace", str(trace), "--trace-format", "gaia"]
    for pool, used in (("general", "general"), ("hpc", "hpc"), (None, "ai")):
        extra = ["--trace-pool", pool] if pool else []  # the default: ai, more PFLOPS here
        code, _, err = run_cli(
            [*args, *extra, "-p", "baseline", "-o", str(tmp_path / "o")], capsys, monkeypatch
        )
        assert code == 0, err
        jobs = pd.read_csv(tmp_path / "o" / "jobs-baseline.csv")
        assert len(jobs) == 3 and set(jobs["pool"]) == {used} and jobs["hub"].notna().all()
    # --utilisation scales generated jobs only: with a trace it is ignored, saying so.
    code, _, err = run_cli(
        [*args, "--utilisation", "0.3", "-p", "baseline", "-o", str(tmp_path / "u")],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    assert "note: --utilisation scales generated jobs, not a trace's: ignored" in err


def test_gpu_types_no_pool_has_are_explained_in_flags_and_can_be_dropped(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    trace = data_dir / "traces/alibaba-gpu-2023/openb_pod_list_gpuspec33.csv"
    args = ["simulate", "--days", "2", "--trace-offset-h", "2782", "--trace", str(trace)]
    args += ["--trace-format", "alibaba", "-p", "baseline", "-o", str(tmp_path), "--no-tables"]
    code, out, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    text = " ".join(err.split())
    assert "88 of them need one that no ai pool of the scenario has" in text
    assert "give --trace-any-device to let any ai device serve them" in text
    assert "device_constraints" not in text
    doc = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert doc["policies"]["baseline"]["unplaced"] == 88
    code, out, err = run_cli([*args, "--trace-any-device", "--json"], capsys, monkeypatch)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["policies"]["baseline"]["unplaced"] == 0
    assert any("GPU types (gpu_spec) ignored" in n for n in doc["notes"])


def test_what_was_written_is_said_and_an_earlier_runs_tables_are_named_not_deleted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run1copy"
    out.mkdir()
    for mine in ("jobs-2023.csv", "notes.txt"):  # the user's own files
        (out / mine).write_text("keep", encoding="utf-8")
    args = ["simulate", "--days", "1", "--jobs", "60", "--out", str(out)]
    code, text, err = run_cli([*args, "-p", "baseline,cost"], capsys, monkeypatch)
    assert code == 0, err
    assert (
        f"wrote report.html, results.json and 4 CSV tables (jobs-NAME.csv, hub-slots-NAME.csv; "
        f"NAME: baseline, cost) to {out}/"
    ) in text
    assert "earlier run" not in err
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    tables = ["jobs-baseline.csv", "hub-slots-baseline.csv", "jobs-cost.csv", "hub-slots-cost.csv"]
    assert doc["files"] == [*tables, "report.html", "results.json"]

    code, text, err = run_cli(
        [*args, "-p", "baseline", "--no-tables", "--carbon-weight", "0.5"], capsys, monkeypatch
    )
    assert code == 0, err
    assert f"wrote report.html and results.json to {out}/" in text
    assert (
        f"warning: {out}/ also holds hub-slots-baseline.csv, hub-slots-cost.csv, "
        "jobs-baseline.csv, jobs-cost.csv from an earlier run, left in place" in err
    )
    assert "jobs-2023.csv" not in err and "notes.txt" not in err
    assert "note: --carbon-weight applies only to green-first and mpc: ignored" in err
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert doc["files"] == ["report.html", "results.json"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*tables, "jobs-2023.csv", "notes.txt", "report.html", "results.json"]
    )


def test_outputs_are_replaced_all_or_nothing(tmp_path: Path, capsys, monkeypatch) -> None:
    # A second run into the same --out is stopped (Ctrl-C here; a full disk alike) while its
    # tables are written: the first run's files stay whole, none mixed with the second's, and
    # no temporary file is left.
    out = tmp_path / "o"
    args = [*SHORT, "-p", "baseline,green-first", "--out", str(out)]
    code, _, err = run_cli([*args, "--seed", "1"], capsys, monkeypatch)
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    import greendispatch.sim.runner as runner

    real, calls = runner.write_table, [0]

    def write_table(frame, path) -> None:
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt
        real(frame, path)

    monkeypatch.setattr(runner, "write_table", write_table)
    code, _, err = run_cli([*args, "--seed", "2"], capsys, monkeypatch)
    assert code == 130 and err.rstrip().endswith("interrupted")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_sigterm_cleans_up_like_ctrl_c(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "new"
    entry = "from greendispatch.cli.main import main; main()"
    cmd = [sys.executable, "-c", entry, "simulate", "--days", "120", "--jobs", "20000",
           "-p", "all", "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ | {"COLUMNS": "100"})  # fmt: skip
    deadline = time.monotonic() + 60
    while not out.exists() and time.monotonic() < deadline:  # the run has started
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.rstrip().endswith("terminated") and "Traceback" not in err
    assert not out.exists()  # the folder it made, still empty, is removed


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--jobs", "30", "--oracle-rounding", "milp"], "--oracle-rounding milp: the MILP"),
        (["--jobs", "20000", "--utilisation", "1"], "the jobs cannot all finish"),
    ],
)
def test_the_oracle_refuses_before_the_other_policies_run(
    extra: list[str], message: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    # An oversized MILP (the limit lowered here) or jobs that cannot all fit are refused
    # before any other policy's work, which would otherwise be thrown away.
    import greendispatch.opt.milp as milp
    import greendispatch.sim.runner as runner

    monkeypatch.setattr(milp, "MILP_FORCED_LIMIT", 10)
    ran: list[str] = []
    real = runner.simulate

    def simulate(jobs, signals, net, policy, **kw):
        ran.append(policy.name)
        return real(jobs, signals, net, policy, **kw)

    monkeypatch.setattr(runner, "simulate", simulate)
    args = ["simulate", "--days", "2", *extra, "-p", "baseline,green-first,oracle"]
    code, _, err = run_cli([*args, "--out", str(tmp_path / "o")], capsys, monkeypatch)
    assert code == 2 and message in " ".join(err.split())
    assert ran == []


def test_sigterm_ends_a_long_solve_at_once(tmp_path: Path) -> None:
    # Python runs a signal handler only between its own steps: during a HiGHS solve (one C++
    # call, minutes for a year) SIGTERM takes its default action, as it did before the
    # clean-up handler, instead of waiting for the solve to end.
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import sys\n"
        "import greendispatch.opt.lp as lp\n"
        "real = lp.LinearProgram.solve\n"
        "def solve(self, *a, **k):\n"
        "    if self.n_cols > 10000: print('solving', flush=True)\n"
        "    return real(self, *a, **k)\n"
        "lp.LinearProgram.solve = solve\n"
        "from greendispatch.cli.main import main\n"
        "sys.argv = ['greendispatch', 'simulate', '--days', '3', '--jobs', '500', '-p', 'oracle',"
        " '--oracle-lp', 'presence', '--no-tables', '--out', sys.argv[1]]\n"
        "main()\n"
    )
    cmd = [sys.executable, "-c", script, str(tmp_path / "o")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    started = any(line.startswith("solving") for line in proc.stdout)  # the big LP began
    assert started
    time.sleep(0.5)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGTERM
    assert time.monotonic() - t0 < 5.0
