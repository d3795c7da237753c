"""Synthetic workload: seeded, calibrated to utilisation per pool kind, mix and deadlines."""

from __future__ import annotations

import builtins
import itertools
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greendispatch.domain import Scenario
from greendispatch.errors import InputError
from greendispatch.scenario.loader import load_scenario
from greendispatch.workload.generator import (
    ARRIVAL_HOUR_PMF,
    DEFAULT_MIX,
    DURATION_H_Q,
    KIND_POOL,
    QUANTILES,
    SIZE_Q,
    TENANTS,
    generate_jobs,
    parse_mix,
    pool_devices,
)
from greendispatch.workload.jobs import ANY, JOB_KINDS, POOL_KINDS, JobKind, JobTable

ONLINE = JOB_KINDS.index(JobKind.ONLINE_INFERENCE)


@pytest.fixture(scope="module")
def jobs100k(china: Scenario) -> JobTable:
    return generate_jobs(china, 100_000, np.random.default_rng(42))


def same(a: JobTable, b: JobTable) -> bool:
    cols = all(np.array_equal(getattr(a, c), getattr(b, c)) for c in JobTable.columns())
    meta = (a.tenants, a.regions, a.allowed_sets) == (b.tenants, b.regions, b.allowed_sets)
    return cols and meta


def test_same_seed_same_table_and_different_seed_different(china: Scenario):
    a = generate_jobs(china, 20_000, np.random.default_rng(1))
    b = generate_jobs(china, 20_000, np.random.default_rng(1))
    c = generate_jobs(china, 20_000, np.random.default_rng(2))
    assert same(a, b)
    assert not same(a, c) and not np.array_equal(a.submit_h, c.submit_h)


@pytest.mark.parametrize("name", ["china-hubs", "global-16"])
def test_utilisation_per_pool_kind_within_5_percent(name: str):
    scenario = load_scenario(name).scenario
    total, _ = pool_devices(scenario)
    hours = scenario.time.days * 24
    for utilisation in (0.3, 0.6):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no shortfall warning at 100k jobs
            jobs = generate_jobs(
                scenario, 100_000, np.random.default_rng(3), utilisation=utilisation
            )
        dh = np.bincount(jobs.pool, weights=jobs.device_hours(), minlength=len(POOL_KINDS))
        for p in np.flatnonzero(total):
            if POOL_KINDS[p].value == "quantum":
                continue
            assert dh[p] / (total[p] * hours) == pytest.approx(utilisation, rel=0.05)


def test_mix_shares_are_exact_counts(jobs100k: JobTable):
    shares = np.bincount(jobs100k.kind, minlength=len(JOB_KINDS)) / len(jobs100k)
    for k, kind in enumerate(JOB_KINDS):
        assert shares[k] == pytest.approx(DEFAULT_MIX[kind.value], abs=1e-4)
    pools = [POOL_KINDS.index(KIND_POOL[JOB_KINDS[k]]) for k in jobs100k.kind[:1000]]
    np.testing.assert_array_equal(jobs100k.pool[:1000], pools)


def test_custom_mix_and_kinds_without_capacity(china: Scenario, global16: Scenario):
    jobs = generate_jobs(china, 10_000, np.random.default_rng(0), mix="training=3,batch_cpu=1")
    shares = np.bincount(jobs.kind, minlength=len(JOB_KINDS)) / len(jobs)
    assert shares[JOB_KINDS.index(JobKind.TRAINING)] == pytest.approx(0.75)
    assert shares[JOB_KINDS.index(JobKind.BATCH_CPU)] == pytest.approx(0.25)
    # global-16 has no hpc pool: hpc jobs are left out and the other shares renormalised.
    g = generate_jobs(global16, 10_000, np.random.default_rng(0))
    assert not np.any(g.kind == JOB_KINDS.index(JobKind.HPC)) and len(g) == 10_000
    with pytest.raises(InputError, match="no job kind in the mix has capacity"):
        generate_jobs(global16, 100, np.random.default_rng(0), mix="hpc=1")


def test_deadlines_slack_and_latency(jobs100k: JobTable, china: Scenario):
    j = jobs100k
    horizon = china.time.days * 24.0
    assert np.all(j.deadline_h >= j.submit_h + j.duration_h - 1e-9)
    assert np.all(j.submit_h >= 0) and np.all(j.deadline_h <= horizon + 1e-9)
    online = j.kind == ONLINE
    assert np.all(j.slack_h[online] == 0.0) and np.all(j.max_latency_ms[online] == 30.0)
    assert np.all(j.duration_h[online] == 1.0) and np.all(j.submit_h[online] % 1.0 == 0.0)
    assert np.all(np.isinf(j.max_latency_ms[~online]))
    train = j.kind == JOB_KINDS.index(JobKind.TRAINING)
    inside = j.slack_h[train][j.deadline_h[train] < horizon - 72]  # not trimmed at the end
    assert inside.min() >= 24 - 1e-9 and inside.max() <= 72 + 1e-9
    assert np.all(np.diff(j.submit_h) >= 0) and np.array_equal(j.job_id, np.arange(len(j)))


def test_no_arrival_burst_at_the_horizon_end(jobs100k: JobTable, china: Scenario):
    """Jobs that would end after the horizon are spread over the days they fit on, keeping
    their hour of day: a year's work arriving per day stays within 2.5x the median (moving
    them all to their latest day gave 12x on day 333)."""
    j = jobs100k
    day = (j.submit_h // 24).astype(int)
    per_day = np.bincount(day, weights=j.devices * j.duration_h, minlength=china.time.days)
    pool = np.array([POOL_KINDS.index(KIND_POOL[k]) for k in JOB_KINDS])[j.kind]
    for p in np.unique(pool):  # per pool kind: cores and accelerators do not add up
        m = pool == p
        w = np.bincount(day[m], weights=(j.devices * j.duration_h)[m], minlength=china.time.days)
        assert w.max() <= 2.5 * np.median(w), POOL_KINDS[p]
    # the last month still gets work, less of it as fewer long jobs fit
    assert per_day[-30:].sum() > 0 and per_day[-30:].mean() < per_day[:-30].mean()
    # late jobs keep their local hour of arrival: the hour-of-day pattern is the same late or not
    long = j.duration_h > 24 * 20
    hours = np.bincount((j.submit_h[long] % 24).astype(int), minlength=24) / long.sum()
    early = long & (j.deadline_h < 300 * 24)
    hours_early = np.bincount((j.submit_h[early] % 24).astype(int), minlength=24) / early.sum()
    assert np.abs(hours - hours_early).max() < 0.03


def test_interruptible_checkpoints_data_and_tenants(jobs100k: JobTable):
    j = jobs100k
    train = j.kind == JOB_KINDS.index(JobKind.TRAINING)
    assert j.interruptible[train].mean() == pytest.approx(0.8, abs=0.02)
    ck = j.checkpoint_h[train & j.interruptible]
    assert ck.min() >= 0.1 and ck.max() <= 0.25
    assert np.all(j.checkpoint_h[~j.interruptible] == 0.0)
    assert not j.interruptible[j.kind == ONLINE].any()
    assert np.median(j.data_gb[train]) == pytest.approx(500, rel=0.1)
    assert j.tenants == TENANTS and len(np.unique(j.tenant)) == len(TENANTS)


def test_data_residency_restricts_a_small_share_to_two_nearby_hubs(jobs100k, china):
    j = jobs100k
    restricted = j.allowed_set != ANY
    assert 0.02 < restricted.mean() < 0.25
    bank = j.tenant == TENANTS.index("bank")
    assert np.all(restricted[bank])
    hubs = {h.id: {p.kind for p in h.pools} for h in china.hubs}
    for code in np.unique(j.allowed_set[restricted]):
        allowed = j.allowed_sets[code]
        assert len(allowed) == 2
        kinds = {POOL_KINDS[p] for p in np.unique(j.pool[j.allowed_set == code])}
        assert all(kinds <= hubs[h] for h in allowed)


def test_origins_follow_region_weights_and_sizes_fit_every_hub(jobs100k, china):
    j = jobs100k
    assert j.regions == tuple(r.id for r in china.regions)
    got = np.bincount(j.origin, minlength=len(china.regions)) / len(j)
    np.testing.assert_allclose(got, [r.weight for r in china.regions], atol=0.01)
    _, smallest = pool_devices(china)
    assert np.all(j.devices >= 1)
    assert np.all(j.devices <= np.maximum(1, (0.1 * smallest[j.pool]).astype(int)))


def test_slack_override(china: Scenario):
    j = generate_jobs(china, 2000, np.random.default_rng(0), utilisation=0.01, slack_h=6.0,
                      days=30)  # fmt: skip
    late = j.deadline_h >= 30 * 24 - 1e-6  # slack trimmed only for the few at the very end
    np.testing.assert_allclose(j.slack_h[(j.kind != ONLINE) & ~late], 6.0, atol=1e-9)
    h = generate_jobs(china, 2000, np.random.default_rng(0), utilisation=0.01, slack_h={"hpc": 2})
    hpc = h.kind == JOB_KINDS.index(JobKind.HPC)
    assert np.all(h.slack_h[hpc] <= 2 + 1e-9)


def test_short_horizon_and_slot_length(china: Scenario):
    j = generate_jobs(china, 5_000, np.random.default_rng(5), days=7, dt_h=0.25)
    assert np.all(j.deadline_h <= 7 * 24 + 1e-9) and np.all(j.submit_h >= 0)
    online = j.kind == ONLINE
    assert np.all(j.duration_h[online] == 0.25) and np.all(j.submit_h[online] % 0.25 == 0)
    assert j.duration_h.max() <= 7 * 24 / 4 + 1e-9


def test_fitted_tables_are_well_formed():
    for table in (*SIZE_Q.values(), *DURATION_H_Q.values()):
        assert len(table) == len(QUANTILES) and min(table) > 0
        assert all(a <= b for a, b in itertools.pairwise(table))
    assert set(SIZE_Q) == set(DURATION_H_Q) == set(JOB_KINDS)
    assert len(ARRIVAL_HOUR_PMF) == 24 and sum(ARRIVAL_HOUR_PMF) == pytest.approx(1, abs=1e-3)


def test_generator_reads_no_file(china: Scenario, monkeypatch: pytest.MonkeyPatch):
    def no_open(*a: object, **k: object) -> None:
        raise AssertionError("the generator opened a file")

    monkeypatch.setattr(builtins, "open", no_open)
    assert len(generate_jobs(china, 1000, np.random.default_rng(0), utilisation=0.001)) == 1000


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("trainign=0.3", "did you mean 'training'"),
        ("training=lots", "must be a number"),
        ("training=-1", "must be >= 0"),
        ("training", "KIND=SHARE"),
        ("training=0,hpc=0", "not all 0"),
    ],
)
def test_parse_mix_errors(text: str, words: str):
    with pytest.raises(InputError, match=words):
        parse_mix(text)


def test_parse_mix_normalises():
    mix = parse_mix("training=0.3, finetune=0.2")
    assert mix["training"] == pytest.approx(0.6) and mix["finetune"] == pytest.approx(0.4)
    assert mix["hpc"] == 0 and set(mix) == {k.value for k in JOB_KINDS}


def test_bad_arguments(china: Scenario):
    rng = np.random.default_rng(0)
    for kw in (
        {"utilisation": 0},
        {"days": -1},
        {"cap_share": 2},
        {"slack_h": {"hpc": (5, 1)}},
        {"slack_h": {"gpu": 5}},
        {"slack_h": -1.0},
    ):
        with pytest.raises(InputError):
            generate_jobs(china, 10, rng, **kw)
    assert len(generate_jobs(china, 0, rng)) == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 3000),
    seed=st.integers(0, 2**32 - 1),
    days=st.integers(1, 60),
    utilisation=st.floats(0.01, 1.0),
)
def test_generated_jobs_always_fit_their_window(n, seed, days, utilisation):
    scenario = load_scenario("china-hubs").scenario
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # shortfall at few jobs is expected
        j = generate_jobs(
            scenario, n, np.random.default_rng(seed), days=days, utilisation=utilisation
        )
    horizon = days * 24.0
    assert len(j) == n
    assert np.all(j.duration_h > 0) and np.all(j.devices >= 1)
    assert np.all(j.submit_h >= 0) and np.all(j.submit_h < horizon)
    assert np.all(j.deadline_h >= j.submit_h + j.duration_h - 1e-9)
    assert np.all(j.deadline_h <= horizon + 1e-9)


def test_one_million_jobs(china: Scenario, capsys: pytest.CaptureFixture[str]):
    t0 = time.perf_counter()
    jobs = generate_jobs(china, 1_000_000, np.random.default_rng(0))
    elapsed = time.perf_counter() - t0
    with capsys.disabled():
        print(f"\n1,000,000 jobs generated in {elapsed:.2f} s")
    assert len(jobs) == 1_000_000


def test_scenario_without_regions():
    import yaml

    from greendispatch.scenario.loader import parse_scenario
    from tests.helpers import small_scenario

    data = small_scenario()
    data["regions"] = []
    scenario = parse_scenario(yaml.safe_dump(data), "<small>").scenario
    j = generate_jobs(scenario, 500, np.random.default_rng(0), utilisation=0.2)
    assert j.regions == () and np.all(j.origin == 0)
    assert not np.any(j.kind == JOB_KINDS.index(JobKind.HPC))
    restricted = j.allowed_set != ANY
    assert all(len(j.allowed_sets[c]) == 1 for c in np.unique(j.allowed_set[restricted]))


def test_a_missed_utilisation_target_says_which_cli_flag_helps(china: Scenario):
    """Too few jobs over a week stay under the target at their caps: more --jobs (the caps grow
    with the horizon, so more --days does not help);
    a pool given far more jobs than its target holds: fewer --jobs. No Python argument named."""
    with pytest.warns(RuntimeWarning) as few:
        generate_jobs(china, 200, np.random.default_rng(1), days=7)
    text = " ".join(str(w.message) for w in few)
    assert "so give more --jobs" in text and "a job)" in text
    assert "--days" not in text  # the caps grow with the horizon: more days never helps
    with warnings.catch_warnings():  # and the advice works: more jobs reach the target
        warnings.simplefilter("error")
        generate_jobs(china, 5_000, np.random.default_rng(1), days=7)
    assert "cap_share" not in text
    with pytest.warns(RuntimeWarning) as many:
        generate_jobs(china, 200_000, np.random.default_rng(1), days=1, utilisation=0.001)
    assert "even the smallest jobs exceed it, so give fewer --jobs" in str(many[0].message)
