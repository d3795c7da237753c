"""An empty scenario, trace or data folder on the command line (an unset shell variable, say) is
refused by the flag or argument's name, not read as the current folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli

SCENARIO = "the value is empty; expected a built-in scenario name or a YAML file"
RUN = ["--days", "1", "--jobs", "10", "-p", "baseline"]
# (arguments, the one error line)
CASES = [
    (["simulate", "--scenario", "", *RUN], f"--scenario: {SCENARIO}"),
    (["simulate", "-s", " ", *RUN], f"--scenario: {SCENARIO}"),
    (["signals", "--scenario", ""], f"--scenario: {SCENARIO}"),
    (["scenario", "validate", ""], f"PATH: {SCENARIO}"),
    (["scenario", "show", ""], f"NAME_OR_PATH: {SCENARIO}"),
    (["scenario", "export", ""], f"NAME_OR_PATH: {SCENARIO}"),
    (
        ["simulate", "--days", "1", "--trace", "", "--trace-format", "gaia"],
        "--trace: the value is empty; expected a trace file (CSV)",
    ),
    (
        ["simulate", "--data-dir", "", *RUN],
        "--data-dir: the value is empty; expected the data folder",
    ),
    (
        ["scenario", "validate", "china-hubs", "--data-dir", ""],
        "--data-dir: the value is empty; expected the data folder",
    ),
]


@pytest.mark.parametrize(
    ("args", "message"),
    CASES,
    ids=["simulate", "simulate-blank", "signals", "validate", "show", "export", "trace",
         "data-dir", "validate-data-dir"],
)  # fmt: skip
def test_an_empty_value_is_refused_by_its_name(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # a run that read "" as "." would find a folder here
    out = ["-o", str(tmp_path / "out")] if args[0] in ("simulate", "signals") else []
    code, _, err = run_cli([*args, *out], capsys, monkeypatch)
    assert code == 2, err
    assert err.splitlines() == [f"error: {message}"]
    assert not (tmp_path / "out").exists()
