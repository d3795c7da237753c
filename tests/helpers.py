"""Shared test helpers: run the CLI in-process and build small scenario files."""

from __future__ import annotations

import copy
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from greendispatch.cli.main import main

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


def run_cli(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    """Run ``greendispatch ARGS`` through the real entry point; return (exit code, out, err)."""
    monkeypatch.setattr(sys, "argv", ["greendispatch", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def run_cli_ok(args: list[str | Path]) -> None:
    """Run ``greendispatch ARGS`` for a module-scoped fixture (no capsys there) and require exit
    code 0; ``sys.argv`` is restored whatever happens."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["greendispatch", *map(str, args)])
        with pytest.raises(SystemExit) as exc:
            main()
    assert exc.value.code == 0, f"greendispatch {' '.join(map(str, args))} failed"


SMALL: dict[str, Any] = {
    "name": "small",
    "title": "Two hubs",
    "time": {"start": "2023-01-01T00:00:00Z", "days": 1, "dt_h": 1.0},
    "regions": [{"id": "beijing", "name": "Beijing", "lat": 39.9, "lon": 116.4}],
    "hubs": [
        {
            "id": "west",
            "name": "West",
            "lat": 40.4,
            "lon": 111.8,
            "grid": {"zone": "CN-NM"},
            "pools": [
                {
                    "kind": "ai",
                    "device_model": "acc",
                    "devices": 100,
                    "pflops_per_device": 0.3,
                    "kw_per_device": 0.9,
                }
            ],
            "pue_target": 1.2,
            "assets": {"wind_mw": 10, "solar_mw": 5, "battery_mwh": 4, "battery_mw": 1},
        },
        {
            "id": "east",
            "name": "East",
            "lat": 31.2,
            "lon": 121.5,
            "grid": {"zone": "CN-SH"},
            "pools": [
                {
                    "kind": "general",
                    "device_model": "core",
                    "devices": 1000,
                    "pflops_per_device": 0.0001,
                    "kw_per_device": 0.006,
                }
            ],
        },
    ],
}


def small_scenario() -> dict[str, Any]:
    return copy.deepcopy(SMALL)


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def make_jobs(n: int, regions: tuple[str, ...] = ("beijing",), **cols: Any) -> Any:
    """A JobTable of ``n`` jobs with defaults (1 ai device, 1 h, submit 0, 24 h slack)."""
    import numpy as np

    from greendispatch.workload.jobs import JobTable

    base: dict[str, Any] = {
        "job_id": np.arange(n),
        "tenant": np.zeros(n),
        "kind": np.zeros(n),
        "pool": np.ones(n),
        "devices": np.ones(n),
        "duration_h": np.ones(n),
        "submit_h": np.zeros(n),
        "interruptible": np.zeros(n, dtype=bool),
        "checkpoint_h": np.zeros(n),
        "data_gb": np.zeros(n),
        "origin": np.zeros(n),
        "max_latency_ms": np.full(n, np.inf),
        "allowed_set": np.full(n, -1),
        "device_type": np.full(n, -1),
    }
    base.update(
        {
            k: np.broadcast_to(np.asarray(v), (n,)).copy()
            for k, v in cols.items()
            if k not in ("allowed_sets", "device_types", "tenants")
        }
    )
    if "deadline_h" not in cols:
        base["deadline_h"] = base["submit_h"] + base["duration_h"] + 24.0
    meta = {k: cols[k] for k in ("allowed_sets", "device_types", "tenants") if k in cols}
    return JobTable(**base, regions=regions, **meta)


@dataclass
class Rendered:
    """What a page did in a real browser: script errors, every URL it requested, its visible
    text, and the value of the expression asked for."""

    errors: list[str]
    requests: list[str]
    text: str
    value: Any


def chromium_path() -> str:
    """The headless browser for the rendering tests: installed by .ci/run, so in CI
    (GREENDISPATCH_CI set) a missing one fails the test; elsewhere it is skipped, saying why."""
    path = os.environ.get("GREENDISPATCH_CHROMIUM", "/usr/bin/chromium")
    missing = None
    if importlib.util.find_spec("playwright") is None:
        missing = "the playwright package (pip install -e '.[dev]')"
    elif not Path(path).is_file():
        missing = f"Chromium at {path} (apt-get install chromium fonts-noto-cjk)"
    if missing is not None:
        if os.environ.get("GREENDISPATCH_CI"):
            pytest.fail(f"CI must render pages in a browser but lacks {missing}")
        pytest.skip(f"no browser to render the page: needs {missing}; .ci/run installs it")
    return path


def render_in_browser(path: Path, expression: str = "null", *, media: str = "screen") -> Rendered:
    """Open a local HTML file in headless Chromium, wait for it to load and evaluate
    ``expression`` there."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.emulate_media(media=media)  # type: ignore[arg-type]
            seen = Rendered([], [], "", None)
            page.on("pageerror", lambda e: seen.errors.append(str(e)))
            page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
            page.on("request", lambda r: seen.requests.append(r.url))
            page.goto(path.resolve().as_uri())
            page.wait_for_load_state("load")
            seen.value = page.evaluate(expression)
            seen.text = page.inner_text("body")
        finally:
            browser.close()
    return seen
