"""The command line: list, show, export, validate, signals and demo, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.helpers import run_cli, small_scenario


def test_list_shows_builtins_and_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run_cli(["scenario", "list"], capsys, monkeypatch)
    assert code == 0
    assert "china-hubs (default)" in out and "global-16" in out


def test_show_table_has_chinese_names_and_totals(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run_cli(["scenario", "show", "china-hubs"], capsys, monkeypatch)
    assert code == 0
    for text in ("和林格尔", "10,321", "1,040", "9,084", "220,000", "CN-NM", "647.9*", "20 ms"):
        assert text in out, text


def test_export_builtin_keeps_citations_and_reloads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "mine.yaml"
    code, _, err = run_cli(
        ["scenario", "export", "china-hubs", "-o", str(target)], capsys, monkeypatch
    )
    assert code == 0, err
    text = target.read_text(encoding="utf-8")
    assert "[seed]" in text and "modelled" in text
    code, out, err = run_cli(["scenario", "validate", str(target)], capsys, monkeypatch)
    assert code == 0, err
    assert "10 hubs" in out


def test_export_of_a_file_writes_every_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "a.yaml"
    run_cli(["scenario", "export", "china-hubs", "-o", str(src)], capsys, monkeypatch)
    code, out, _ = run_cli(["scenario", "export", str(src)], capsys, monkeypatch)
    assert code == 0
    assert "idle_power_share" in out and "battery_rte" in out


def test_bad_flag_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run_cli(["scenario", "show", "--jsn"], capsys, monkeypatch)
    assert code == 2
    assert "--jsn" in err


def test_signals_command_writes_a_year_of_signals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run_cli(["signals", "--out", str(tmp_path)], capsys, monkeypatch)
    assert code == 0, err
    df = pd.read_csv(tmp_path / "china-hubs-signals.csv")
    assert len(df) == 10 * 8760
    assert df.groupby("hub")["ci_g_per_kwh"].mean()["horinger"] == pytest.approx(647.9, rel=1e-3)
    meta = json.loads((tmp_path / "china-hubs-signals-meta.json").read_text(encoding="utf-8"))
    assert meta["hubs"][0]["sources"]["ci_g_per_kwh"].startswith("modelled")


def test_signals_command_for_global16(
    tmp_path: Path,
    data_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = ["signals", "-s", "global-16", "--data-dir", str(data_dir), "--out", str(tmp_path)]
    code, _, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    df = pd.read_csv(tmp_path / "global-16-signals.csv")
    assert df["hub"].nunique() == 16


@pytest.mark.parametrize(
    ("raised", "code", "message"),
    [
        (OSError(28, "No space left on device", "/out/results.json"), 2,
         "error: No space left on device: /out/results.json"),
        (MemoryError(), 1, "error: out of memory: fewer jobs, days or hubs"),
    ],
)  # fmt: skip
def test_system_errors_end_in_a_message_not_a_traceback(
    raised: BaseException,
    code: int,
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def app() -> None:
        raise raised

    monkeypatch.setattr("greendispatch.cli.main.app", app)
    got, _, err = run_cli(["scenario", "list"], capsys, monkeypatch)
    assert got == code
    assert message in err and "Traceback" not in err


def test_error_lines_keep_their_number_whatever_it_is(tmp_path, capsys, monkeypatch) -> None:
    # rich reads ":100:" as an emoji code (and ":1234:"): the `file:LINE:` form must survive.
    text = "# c\n" * 99 + "bogus_key: 1\n" + yaml.safe_dump(small_scenario())
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert code == 2 and f"{path}:100: bogus_key: unknown key" in " ".join(err.split())
