"""Absurd values in a trace (huge device or token counts, arrivals no offset can reach) are
refused through the command line as ``file:LINE: column: message``, naming the column as the
file writes it and the line the value is on, with exit code 2 and no numpy warning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from greendispatch.domain import Scenario
from greendispatch.errors import DataFileError
from greendispatch.workload.traces import read_azure_llm, read_gaia
from tests.helpers import run_cli

GAIA = "arrival_time,length,cpus\n"
ALI = "cpu_milli,num_gpu,gpu_milli,creation_time,deletion_time\n"
LLM = "TIMESTAMP,ContextTokens,GeneratedTokens\n"

# (format, file text, line, column, words in the message)
HUGE = [
    ("gaia", GAIA + "0,2,1\n1,2,1e300\n", 3, "cpus", "must be at most 1,000,000,000 devices"),
    ("gaia", GAIA + "\n\n\n0,2,1\n1,2,3e9\n", 6, "cpus", "(got 3e+09)"),  # after blank lines
    ("alibaba", ALI + "1000,1,0,0,100\n1000,1e20,0,0,100\n", 3, "num_gpu", "at most 1,000,000,000"),
    ("alibaba", ALI + "\n1e300,0,0,0,100\n", 3, "cpu_milli", "1,000,000,000 cores"),
    (
        "azure-llm",
        LLM + "2023-11-16 18:17:03,100,10\n2023-11-16 18:18:03,1e300,10\n",
        3,
        "ContextTokens",
        "must be at most 100,000,000 tokens per request (got 1e+300)",
    ),
    (
        "azure-llm",
        LLM + "\n\n2023-11-16 18:17:03,1e17,10\n2023-11-16 18:18:03,100,10\n",
        4,
        "ContextTokens",
        "at most 100,000,000 tokens",
    ),
    (
        "azure-llm",
        LLM + "2023-11-16 18:17:03,100,10\n2023-11-16 18:18:03,100,1e20\n",
        3,
        "GeneratedTokens",
        "at most 100,000,000 tokens",
    ),
]


def _simulate(
    trace: Path, fmt: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    args = ["simulate", "--days", "2", "--trace", str(trace), "--trace-format", fmt]
    return run_cli([*args, "-p", "baseline", "-o", str(trace.parent / "out")], capsys, monkeypatch)


def _refused(
    tmp_path: Path, text: str, fmt: str, capsys: pytest.CaptureFixture[str], monkeypatch
) -> str:
    """Simulate on a trace file ``t.csv`` of ``text``; require exit code 2; return stderr."""
    trace = tmp_path / "t.csv"
    trace.write_text(text, encoding="utf-8")
    code, _, err = _simulate(trace, fmt, capsys, monkeypatch)
    assert code == 2, err
    return err


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    ("fmt", "text", "line", "column", "words"),
    HUGE,
    ids=["gaia-cpus", "gaia-after-blank-lines", "alibaba-num_gpu", "alibaba-cpu_milli",
         "azure-context", "azure-after-blank-lines", "azure-generated"],
)  # fmt: skip
def test_a_huge_count_is_refused_by_its_column_and_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    text: str,
    line: int,
    column: str,
    words: str,
) -> None:
    err = _refused(tmp_path, text, fmt, capsys, monkeypatch)
    assert f"t.csv:{line}: {column}: " in err and words in err, err
    assert "Warning" not in err and "Traceback" not in err and "devices:" not in err


QUOTED = ALI.replace("cpu_milli", "name,cpu_milli") + '"pod\nzero",1000,1,0,0,100\n'
# (format, file text, line, column, words): a quoted line break inside a field moves every
# later row one line down
AFTER_A_QUOTED_BREAK = [
    ("alibaba", QUOTED + "p1,1000,1e20,0,0,100\n", 4, "num_gpu", "at most 1,000,000,000"),
    ("alibaba", QUOTED + "p1,1000,two,0,0,100\n", 4, "num_gpu", "not a number: 'two'"),
    ("alibaba", QUOTED + "p1,1000,1,0,0,100,7\n", 4, "", "malformed row: Expected 6 fields, saw 7"),
]


@pytest.mark.parametrize(
    ("fmt", "text", "line", "column", "words"),
    AFTER_A_QUOTED_BREAK,
    ids=["too-many", "not-a-number", "malformed"],
)
def test_a_row_after_a_quoted_line_break_is_named_by_its_own_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    text: str,
    line: int,
    column: str,
    words: str,
) -> None:
    err = _refused(tmp_path, text, fmt, capsys, monkeypatch)
    where = f"t.csv:{line}: {column}: " if column else f"t.csv:{line}: "
    assert where in err and words in err, err


@pytest.mark.filterwarnings("error")
def test_azure_llm_load_beyond_the_largest_job_is_refused(tmp_path: Path, china: Scenario):
    """Every request within bounds, but scaled to more devices than a job may have."""
    path = tmp_path / "t.csv"
    path.write_text(LLM + "2023-11-16 18:17:03,100,10\n2023-11-16 18:18:03,100,10\n")
    with pytest.raises(DataFileError) as info:
        read_azure_llm(path, china, np.random.default_rng(1), scale=1e15)
    msg = str(info.value)
    assert msg.startswith(f"{path}: the 2 requests over 0.02 h add up to ") and msg.endswith(
        "expected at most 1,000,000,000 per job"
    ), msg


@pytest.mark.filterwarnings("error")
def test_a_device_scale_past_the_largest_job_is_refused_by_line(tmp_path: Path, china: Scenario):
    path = tmp_path / "t.csv"
    path.write_text(GAIA + "0,2,1\n1,2,3\n")
    with pytest.raises(DataFileError) as info:
        read_gaia(path, china, np.random.default_rng(1), device_scale=5e8)
    assert str(info.value) == (
        f"{path}:3: cpus: needs 1.5e+09 devices with device_scale 5e+08; expected at most "
        "1,000,000,000 per job"
    )


# (format, file text, line, column): every arrival beyond what --trace-offset-h can reach
FAR = [
    ("gaia", GAIA + "\n1e18,2,3\n2e18,1,1\n", 3, "arrival_time"),
    ("alibaba", ALI + "1000,1,0,1e30,2e30\n", 2, "creation_time"),
]


@pytest.mark.parametrize(("fmt", "text", "line", "column"), FAR, ids=["gaia", "alibaba"])
def test_arrivals_no_offset_can_reach_are_out_of_range(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    text: str,
    line: int,
    column: str,
) -> None:
    """Not advice to give a --trace-offset-h that the tool refuses (at most 10,000,000 h)."""
    err = _refused(tmp_path, text, fmt, capsys, monkeypatch)
    assert f"t.csv:{line}: {column}: out of range: " in err, err
    assert "more than the 10,000,000 h by which --trace-offset-h can move arrivals" in err
    assert "no job of the trace can run in the scenario's 2 day(s)" in err
    assert "give --trace-offset-h" not in err
