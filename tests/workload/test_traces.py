"""Trace readers: the real files read in place, unit detection, and bad files named by line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from greendispatch.domain import PoolKind, Scenario
from greendispatch.errors import DataFileError, InputError
from greendispatch.sim.network import job_windows
from greendispatch.workload import trace_table
from greendispatch.workload.jobs import ANY, JOB_KINDS, POOL_KINDS, JobKind
from greendispatch.workload.traces import (
    READERS,
    classify_ai,
    read_alibaba_gpu,
    read_azure_llm,
    read_gaia,
    read_trace,
    trace_options,
)

AI, GENERAL = POOL_KINDS.index(PoolKind.AI), POOL_KINDS.index(PoolKind.GENERAL)
ONLINE = JOB_KINDS.index(JobKind.ONLINE_INFERENCE)
BATCH_CPU = JOB_KINDS.index(JobKind.BATCH_CPU)


def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def with_days(s: Scenario, days: int) -> Scenario:
    return dataclasses.replace(s, time=dataclasses.replace(s.time, days=days))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------ real traces


def test_alibaba_default_reads_every_pod_but_the_zero_length_one(data_dir: Path, china: Scenario):
    path = data_dir / "traces/alibaba-gpu-2023/openb_pod_list_default.csv"
    res = read_alibaba_gpu(path, china, rng())
    jobs = res.jobs
    assert res.rows == 8152 and res.dropped == 1 and len(jobs) == 8151
    assert any("dropped 1 job(s) with zero duration" in n for n in res.notes)
    # 1,088 CPU-only pods go to the general pool as batch_cpu, the rest to ai.
    assert int((jobs.pool == GENERAL).sum()) == 1088
    assert np.all(jobs.kind[jobs.pool == GENERAL] == BATCH_CPU)
    ai_kinds = set(np.unique(jobs.kind[jobs.pool == AI]).tolist())
    assert ai_kinds == {JOB_KINDS.index(JobKind.TRAINING), JOB_KINDS.index(JobKind.FINETUNE)}
    assert jobs.regions == tuple(r.id for r in china.regions)
    assert jobs.device_types == () and np.all(jobs.device_type == ANY)
    assert np.all(jobs.devices >= 1) and jobs.devices[jobs.pool == AI].max() == 8
    np.testing.assert_allclose(jobs.slack_h, 24.0, atol=1e-6)
    assert np.all(np.diff(jobs.submit_h) >= 0)
    # pod 0: 12 cores, 1 GPU, created 0, deleted 12,537,496 s: the first job, 3482.6 h long
    first = jobs.take(np.flatnonzero(jobs.job_id == 0))
    assert first.devices[0] == 1 and first.duration_h[0] == pytest.approx(12537496 / 3600)


def test_alibaba_gpuspec_becomes_a_device_type_constraint(data_dir: Path, china: Scenario):
    path = data_dir / "traces/alibaba-gpu-2023/openb_pod_list_gpuspec33.csv"
    res = read_alibaba_gpu(path, china, rng())
    jobs = res.jobs
    assert int((jobs.device_type != ANY).sum()) == 2388
    assert "T4" in jobs.device_types and "V100M16|V100M32" in jobs.device_types
    assert all(len(t.split("|")) == len(set(t.split("|"))) for t in jobs.device_types)
    assert np.all(jobs.pool[jobs.device_type != ANY] == AI)
    # No pool of china-hubs has a GPU model: the note says so, with what a CLI user can do.
    (note,) = [n for n in res.notes if "require a GPU type" in n]
    assert note.startswith("2,388 job(s) require a GPU type (")
    assert "2,388 of them need one that no ai pool of the scenario has" in note
    assert "give --trace-any-device" in note and "device_model" in note
    assert not any("device_constraints" in n for n in res.notes)
    free = read_trace(path, "alibaba", china, rng(), **trace_options("alibaba", any_device=True))
    assert free.jobs.device_types == () and np.all(free.jobs.device_type == ANY)
    assert any("--trace-any-device" in n for n in free.notes)


def test_alibaba_gpu_types_a_pool_has_are_not_reported_lost(tmp_path: Path, china: Scenario):
    pools = [dataclasses.replace(p, device_model="T4") if p.kind is PoolKind.AI else p
             for p in china.hubs[0].pools]  # fmt: skip
    hubs = (dataclasses.replace(china.hubs[0], pools=tuple(pools)), *china.hubs[1:])
    rows = "p0,1000,1,1000,T4,LS,0,3600,0\np1,1000,1,1000,V100M16|T4,LS,0,3600,0\n"
    path = write(tmp_path, "a.csv", ALI + rows)
    res = read_alibaba_gpu(path, dataclasses.replace(china, hubs=hubs), rng())
    assert "2 job(s) require a GPU type (T4, T4|V100M16); the scenario's ai pools have them" in (
        res.notes
    )


def test_gaia_pai_100k_fits_a_365_day_scenario_in_hours(data_dir: Path, global16: Scenario):
    res = read_trace(data_dir / "traces/gaia/pai_100k.csv", "gaia", global16, rng())
    jobs = res.jobs
    # Five jobs cannot run in the year's hourly slots: dropped, with a note for each reason.
    assert len(jobs) == 99_993 and res.dropped == 5
    assert "dropped 1 job(s) that cannot finish before the scenario's end (8760 h)" in res.notes
    assert any(
        n.startswith("dropped 3 job(s) arriving after the last slot began") for n in res.notes
    )
    assert any("times in hours" in n and "'ai' pool" in n for n in res.notes)
    assert np.all(jobs.submit_h + jobs.duration_h <= 8760)
    assert jobs.duration_h.max() == pytest.approx(71.136944, abs=1e-5)
    assert np.all(jobs.pool == AI)
    assert int((jobs.devices >= 1).sum()) == len(jobs)
    assert jobs.regions == tuple(r.id for r in global16.regions)


def test_gaia_pai_1k_is_detected_as_seconds(data_dir: Path, china: Scenario):
    path = data_dir / "traces/gaia/pai_1k.csv"
    res = read_gaia(path, china, rng())
    assert "times in seconds" in res.notes[0] and len(res.jobs) == 1000
    assert res.jobs.submit_h.max() == pytest.approx(604756 / 3600)
    assert res.jobs.duration_h.max() == pytest.approx(214787 / 3600)
    # Forcing hours: arrivals up to 604,756 "hours" fall after the year and are dropped.
    forced = read_gaia(path, china, rng(), time_unit="hours")
    assert "times in hours" in forced.notes[0]
    assert forced.dropped > 900 and any("after the scenario's end" in n for n in forced.notes)


@pytest.mark.parametrize(
    ("rows", "unit", "submit"),
    [
        ("0,1,1\n8784,2,1\n", "hours", 8784.0),  # 8,784 h (a leap year) still reads as hours
        ("0,3600,1\n8785,7200,1\n", "seconds", 8785 / 3600),
    ],
)
def test_gaia_unit_detection_threshold(tmp_path: Path, china, rows, unit, submit):
    path = write(tmp_path, "t.csv", "arrival_time,length,cpus\n" + rows)
    res = read_gaia(path, with_days(china, 367), rng())
    assert f"times in {unit}" in res.notes[0]
    assert res.jobs.submit_h.max() == pytest.approx(submit)


def test_gaia_pool_choice_and_kinds(tmp_path: Path, china: Scenario):
    path = write(tmp_path, "g.csv", "arrival_time,length,cpus\n0,1,1\n1,5,1\n2,1,8\n")
    ai = read_gaia(path, china, rng()).jobs  # auto: ai has more PFLOPS in china-hubs
    assert np.all(ai.pool == AI)
    assert [JOB_KINDS[k] for k in ai.kind] == ["finetune", "training", "training"]
    general = read_gaia(path, china, rng(), pool="general", device_scale=1000).jobs
    assert np.all(general.kind == BATCH_CPU) and np.all(general.pool == GENERAL)
    np.testing.assert_array_equal(general.devices, [1000, 1000, 8000])
    with pytest.raises(InputError, match="pool must be"):
        read_gaia(path, china, rng(), pool="gpu")
    with pytest.raises(InputError, match="time_unit"):
        read_gaia(path, china, rng(), time_unit="minutes")


def test_jobs_after_the_end_or_longer_than_the_scenario_are_dropped(tmp_path: Path, china):
    path = write(tmp_path, "g.csv", "arrival_time,length,cpus\n0,1,1\n10,30,1\n30,1,1\n5,0,1\n")
    res = read_gaia(path, with_days(china, 1), rng())
    assert len(res.jobs) == 1 and res.dropped == 3
    text = " ".join(res.notes)
    for why in ("1 job(s) with zero duration", "1 job(s) arriving after", "1 job(s) longer than"):
        assert why in text


@pytest.mark.filterwarnings("error")
def test_absurd_hours_are_dropped_without_a_warning(tmp_path: Path, china):
    """Hours far past any horizon (1e300 s) are dropped, counted, and cast no garbage slots."""
    path = write(tmp_path, "g.csv", "arrival_time,length,cpus\n0,1e300,1\n1e300,1,1\n0,1,1\n")
    res = read_gaia(path, with_days(china, 1), rng())
    assert len(res.jobs) == 1 and res.dropped == 2


def _fits_its_slots(jobs, scenario: Scenario) -> bool:
    """Every job is released before the last slot ends and has its whole slots before the end,
    as the engine counts them."""
    n_slots = round(scenario.time.days * 24 / scenario.time.dt_h)
    release, d, _ = job_windows(jobs, n_slots, scenario.time.dt_h)
    return bool(np.all(release + d <= n_slots))


@pytest.mark.parametrize(("dt_h", "kept"), [(1.0, [0.0, 23.0]), (0.25, [0.0, 22.5, 23.0, 23.2])])
def test_jobs_that_cannot_run_in_whole_slots_are_dropped_and_counted(tmp_path, china, dt_h, kept):
    # 23.2 h + 0.5 h ends before 24 h, but the engine releases it at the next slot boundary:
    # 24 h with hourly slots (after the end), 23.25 h with 15-minute ones. 22.5 h + 1.2 h needs
    # two hourly slots from 23 h: 25 h; with 15-minute slots five from 22.5 h: 23.75 h.
    rows = "0,1,1\n23.2,0.5,1\n22.5,1.2,1\n23,1,1\n"
    day = with_days(china, 1)
    scenario = dataclasses.replace(day, time=dataclasses.replace(day.time, dt_h=dt_h))
    res = read_gaia(write(tmp_path, "g.csv", GAIA + rows), scenario, rng())
    assert sorted(res.jobs.submit_h.tolist()) == kept and res.dropped == 4 - len(kept)
    assert _fits_its_slots(res.jobs, scenario)
    if dt_h == 1.0:
        assert "dropped 1 job(s) arriving after the last slot began (23 h)" in " ".join(res.notes)
        assert any(n.startswith("dropped 1 job(s) that cannot finish before the scenario's end "
                                "in whole slots of 1 h") for n in res.notes)  # fmt: skip


def test_pai_100k_jobs_arriving_in_the_last_slot_of_a_week_are_dropped(data_dir, china):
    # Jobs 1442-1444 arrive at 167.39-167.49 h: released at 168 h, after a week's last slot.
    week = with_days(china, 7)
    res = read_gaia(data_dir / "traces/gaia/pai_100k.csv", week, rng())
    assert not set(res.jobs.job_id.tolist()) & {1442, 1443, 1444}
    assert 1441 not in res.jobs.job_id  # 167.0 h + 13.3 h: cannot finish in the week
    assert any(n.startswith("dropped 3 job(s) arriving after the last slot began (167 h)")
               for n in res.notes)  # fmt: skip
    assert len(res.jobs) + res.dropped == res.rows == 99_998
    assert _fits_its_slots(res.jobs, week)


def test_a_trace_with_no_job_in_the_horizon_is_refused_saying_when_it_arrives(data_dir, china):
    path = data_dir / "traces/alibaba-gpu-2023/openb_pod_list_default.csv"
    week = with_days(china, 7)
    with pytest.raises(DataFileError) as info:
        read_alibaba_gpu(path, week, rng())
    msg = str(info.value)
    assert info.value.exit_code == 2
    assert msg.startswith(f"{path}: no job of the trace can run in the scenario's 7 day(s): ")
    assert "dropped 8,149 job(s) arriving after the scenario's end (168 h)" in msg
    assert "between 0.0 h and 3,583.8 h of trace time (day 0.0 to 149.3; 98 % of them from " in msg
    assert msg.endswith(
        "give --trace-offset-h 2782 to move them to the scenario's start, or more --days"
    )
    # With that offset, trace time 2,782 h is the scenario's start.
    res = read_alibaba_gpu(path, week, rng(), offset_h=2782)
    assert len(res.jobs) == 1441 and np.all(res.jobs.submit_h >= 0)
    assert "arrivals shifted -2782 h (--trace-offset-h 2782)" in res.notes
    assert any(
        n.startswith("dropped 82 job(s) arriving before the scenario's start") for n in res.notes
    )
    assert len(res.jobs) + res.dropped == res.rows
    assert _fits_its_slots(res.jobs, week)


def test_offset_shifts_every_arrival_and_a_late_one_moves_in(tmp_path: Path, china: Scenario):
    path = write(tmp_path, "g.csv", GAIA + "100,1,1\n110,2,1\n")
    with pytest.raises(DataFileError, match="give --trace-offset-h 100 to move them"):
        read_gaia(path, with_days(china, 1), rng())
    res = read_gaia(path, with_days(china, 1), rng(), offset_h=100)
    np.testing.assert_allclose(np.sort(res.jobs.submit_h), [0.0, 10.0])
    np.testing.assert_allclose(np.sort(res.jobs.deadline_h), [25.0, 36.0])  # + 24 h slack
    early = write(tmp_path, "e.csv", GAIA + "0,1,1\n")
    later = read_gaia(early, with_days(china, 1), rng(), offset_h=-5)  # a negative one delays
    assert later.jobs.submit_h.tolist() == [5.0]
    with pytest.raises(InputError, match="offset_h must be a finite number"):
        read_gaia(path, china, rng(), offset_h=float("nan"))


@pytest.mark.parametrize("name", ["code.csv", "conv.csv"])
def test_azure_llm_gives_hourly_online_inference_per_region(data_dir, china, name):
    res = read_azure_llm(data_dir / "traces/azure-llm-2023" / name, china, rng())
    jobs = res.jobs
    assert len(jobs) > 0 and np.all(jobs.kind == ONLINE) and np.all(jobs.pool == AI)
    assert np.all(np.isfinite(jobs.max_latency_ms)) and np.all(jobs.max_latency_ms == 30.0)
    np.testing.assert_array_equal(jobs.deadline_h, jobs.submit_h + jobs.duration_h)
    assert np.all(jobs.duration_h == 1.0) and np.all(jobs.submit_h == np.floor(jobs.submit_h))
    assert jobs.submit_h.max() <= 8759
    assert set(np.unique(jobs.origin).tolist()) == set(range(len(china.regions)))
    # The yearly GPU-hours match the hourly mean in the note (random rounding keeps the mean).
    per_hour = float(res.notes[0].split("-> ")[1].split(" GPU-h")[0])
    assert jobs.device_hours().sum() / 8760 == pytest.approx(per_hour, rel=0.03)


def test_azure_llm_throughput_and_scale_assumptions(tmp_path: Path, china: Scenario):
    body = "TIMESTAMP,ContextTokens,GeneratedTokens\n"
    body += "2023-11-16 18:00:00.0000000,3600000,0\n2023-11-16 19:00:00.0000000,0,450000\n"
    path = write(tmp_path, "llm.csv", body)
    # 3.6M prompt tokens / 2,000 + 450k generated / 250 = 3,600 GPU-s over 1 h: 1 GPU-h per
    # hour at full use; at 50 % serving use 2 GPU-h per hour, x 10 with scale.
    res = read_azure_llm(path, china, rng(), scale=10.0, latency_ms=15.0)
    assert "20.00 GPU-h per hour" in res.notes[0]
    assert res.jobs.device_hours().sum() / 8760 == pytest.approx(20.0, rel=0.01)
    assert np.all(res.jobs.max_latency_ms == 15.0)


def test_read_trace_unknown_format_lists_the_valid_ones(china: Scenario):
    with pytest.raises(InputError) as info:
        read_trace("x.csv", "gaai", china, rng())
    msg = str(info.value)
    assert all(name in msg for name in READERS) and "did you mean 'gaia'" in msg


def test_classify_ai_rule():
    kinds = classify_ai(np.array([1, 8, 1, 2]), np.array([0.5, 0.1, 4.0, 3.9]))
    assert [JOB_KINDS[k].value for k in kinds] == ["finetune", "training", "training", "finetune"]


# ------------------------------------------------------------------------ bad traces

GAIA = "arrival_time,length,cpus\n"
ALI = "name,cpu_milli,num_gpu,gpu_milli,gpu_spec,qos,creation_time,deletion_time,scheduled_time\n"
LLM = "TIMESTAMP,ContextTokens,GeneratedTokens\n"
BAD = [
    # (format, file text, line, column, words in the message)
    ("gaia", "arrival_time,length\n0,1\n", 1, "cpus", "missing column"),
    ("gaia", GAIA + "0,1,1\n1,-2,1\n", 3, "length", "negative duration"),
    ("gaia", GAIA + "0,1,1\n1,2,1\n2,3,four\n", 4, "cpus", "not a number: 'four'"),
    ("gaia", GAIA + "0,1,1\n\n2,x3,1\n", 4, "length", "not a number"),  # after a blank line
    ("gaia", GAIA + "0,1,1\n1,,1\n", 3, "length", "missing value"),
    ("gaia", GAIA + "0,1,1.5\n", 2, "cpus", "whole number"),
    ("gaia", GAIA + "0,1,1\n1,2,3,4\n", 3, "", "Expected 3 fields"),
    ("gaia", "", 1, "", "empty"),
    ("gaia", GAIA.strip() + ",cpus\n0,1,1,2\n", 1, "cpus", "appears twice in the header"),
    ("gaia", GAIA, 2, "", "no data rows"),
    ("alibaba", ALI.replace("deletion_time", "deleted"), 1, "deletion_time", "did you mean"),
    (
        "alibaba",
        ALI + "p0,1000,1,1000,,LS,0,10,5\np1,1000,1,1000,,LS,0,10,20\n",
        3,
        "deletion_time",
        "negative duration",
    ),
    ("alibaba", ALI + "p0,1000,one,1000,,LS,0,10,5\n", 2, "num_gpu", "not a number"),
    (
        "alibaba",
        ALI + "p0,1000,1,1000,,LS,0,10,5\np1,1000,1,5000,,LS,0,10,5\n",
        3,
        "gpu_milli",
        "at most 1000",
    ),
    ("alibaba", "", 1, "", "empty"),
    ("azure-llm", LLM + "2023-11-16 18:00:00,10,5\nyesterday,10,5\n", 3, "TIMESTAMP", "date"),
    ("azure-llm", LLM + "2023-11-16 18:00:00,10,-5\n", 2, "GeneratedTokens", ">= 0"),
    ("azure-llm", "TIMESTAMP,ContextTokens\n2023-11-16 18:00:00,10\n", 1, "GeneratedTokens", ""),
]


@pytest.mark.parametrize(("fmt", "text", "line", "column", "words"), BAD)
def test_bad_trace_names_file_line_and_column(tmp_path, china, monkeypatch, fmt, text, line,
                                              column, words):  # fmt: skip
    def no_table(*a: object, **k: object) -> None:
        raise AssertionError("a job table was built from a bad file")

    monkeypatch.setattr(trace_table, "JobTable", no_table)
    path = write(tmp_path, "bad-trace.csv", text)
    with pytest.raises(DataFileError) as info:
        read_trace(path, fmt, china, rng())
    err = info.value
    assert err.exit_code == 2 and err.line == line and err.column == column
    msg = str(err)
    assert "bad-trace.csv" in msg and f"bad-trace.csv:{line}" in msg and words in msg
    if column:
        assert f": {column}:" in msg


@pytest.mark.parametrize("fmt", list(READERS))
def test_missing_file_names_the_file(tmp_path: Path, china: Scenario, fmt: str):
    with pytest.raises(DataFileError, match=r"no-such-trace\.csv.*file not found") as info:
        read_trace(tmp_path / "no-such-trace.csv", fmt, china, rng())
    assert info.value.exit_code == 2


def test_a_folder_is_not_a_trace(tmp_path: Path, china: Scenario):
    with pytest.raises(DataFileError, match="is a folder"):
        read_trace(tmp_path, "gaia", china, rng())


def test_scenario_without_regions_and_missing_pool_kind(tmp_path: Path):
    import yaml

    from greendispatch.scenario.loader import parse_scenario
    from tests.helpers import small_scenario

    data = small_scenario()
    data["regions"] = []
    scenario = parse_scenario(yaml.safe_dump(data), "<small>").scenario
    path = write(tmp_path, "g.csv", "arrival_time,length,cpus\n0,1,1\n2,3,4\n")
    res = read_gaia(path, scenario, rng())
    assert res.jobs.regions == () and np.all(res.jobs.origin == 0) and len(res.jobs) == 2
    with pytest.raises(DataFileError) as info:  # no hpc pool: no job is left
        read_gaia(path, scenario, rng(), pool="hpc")
    msg = str(info.value)
    assert msg.startswith(f"{path}: no job of the trace can run in the scenario's 1 day(s)")
    assert "dropped 2 job(s) needing a pool kind the scenario lacks" in msg
    assert "arrivals" not in msg  # their timing is not the trouble


# ------------------------------------------------------------------------ command-line options


def test_trace_options_map_the_flags_to_reader_arguments():
    assert trace_options("gaia") == {}
    assert trace_options("gaia", offset_h=5, pool="general") == {"offset_h": 5.0, "pool": "general"}
    assert trace_options("alibaba", offset_h=-2, any_device=True) == {
        "offset_h": -2.0,
        "device_constraints": False,
    }


@pytest.mark.parametrize(
    ("fmt", "kw", "words"),
    [
        ("gaia", {"offset_h": float("inf")}, "--trace-offset-h: expected a number of hours"),
        ("azure-llm", {"offset_h": 3.0}, "--trace-offset-h applies to alibaba and gaia traces"),
        ("gaia", {"pool": "gpu"}, "--trace-pool: expected one of auto|general|ai|hpc (got 'gpu')"),
        ("alibaba", {"pool": "general"}, "--trace-pool applies to --trace-format gaia"),
        ("gaia", {"any_device": True}, "--trace-any-device applies to --trace-format alibaba"),
    ],
)
def test_trace_options_name_the_flag_that_does_not_apply(fmt, kw, words):
    with pytest.raises(InputError) as info:
        trace_options(fmt, **kw)
    assert words in str(info.value)


def test_gaia_pool_from_the_command_line(data_dir: Path, china: Scenario):
    # azure_100k.csv holds VMs: --trace-pool general puts them on the general pool.
    path = data_dir / "traces/gaia/azure_100k.csv"
    res = read_trace(
        path, "gaia", with_days(china, 2), rng(), **trace_options("gaia", pool="general")
    )
    assert np.all(res.jobs.pool == GENERAL) and np.all(res.jobs.kind == BATCH_CPU)
    assert "cpus -> devices of the 'general' pool" in res.notes[0]
    auto = read_trace(path, "gaia", with_days(china, 2), rng())
    assert np.all(auto.jobs.pool == AI)  # today's default: the pool with more PFLOPS
