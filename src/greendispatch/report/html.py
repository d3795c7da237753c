"""``report.html``: one self-contained page of a simulation's results that opens offline.

plotly.js is embedded once, inline. Each figure is a JSON spec in a
``<script type="application/json" data-plot>`` element that a few lines of inline script draw
with ``Plotly.newPlot``: the page loads nothing from the network (no CDN, no web fonts).

Text from scenario files (scenario and hub names) is escaped three ways: by jinja2's autoescape
in HTML, as ``\\u003c``/``\\u003e``/``\\u0026`` inside the embedded JSON, and as HTML entities
in plotly labels (plotly renders a subset of HTML tags in trace names and titles).

The page is assembled here from the daily series (``daily.py``), the plotly specs
(``figures.py``), the table rows (``tables.py``) and the labels they share (``labels.py``).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

# Names that moved out of this module are imported back, for code that imports them from here.
from greendispatch.report.daily import (  # noqa: F401
    daily_mean,
    daily_starts,
    daily_sum,
    daily_supply,
    slots_per_day,
)
from greendispatch.report.figures import (  # noqa: F401
    BAR_FORMATS,
    DAY_MS,
    FONT,
    HUB_LEGEND,
    PALETTE,
    POLICY_COLOURS,
    _esc,
    _layout,
    _line,
    _note,
    _r,
    _x0,
    comparison_figure,
    intensity_figure,
    starts_figure,
    supply_figure,
)
from greendispatch.report.labels import (  # noqa: F401
    CURTAILED,
    METRIC_LABELS,
    SIGNAL_LABELS,
    SUPPLY_KEYS,
    SUPPLY_STACK,
)
from greendispatch.report.summary import scenario_summary
from greendispatch.report.tables import (  # noqa: F401
    _comparison_rows,
    _fmt,
    _modelled_summary,
    _oracle_rows,
    _scalar,
    _signal_rows,
    _tenant_rows,
    _utilisation_rows,
    metric_keys,
)

if TYPE_CHECKING:
    from greendispatch.sim.runner import Simulation

PLOT_CONFIG = {"displaylogo": False, "responsive": True, "showLink": False}
BOUND_COLUMN = "下界 bound"


def _json_for_html(obj: Any) -> Markup:
    """Compact JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, rep in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, rep)
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _hub_label(name_zh: str, name: str) -> str:
    return f"{name_zh} {name}" if name_zh else name


def report_context(sim: Simulation, doc: dict[str, Any]) -> dict[str, Any]:
    """Everything the template shows: texts, table rows and figure specs (JSON-ready)."""
    scenario = sim.loaded.scenario
    summary = scenario_summary(scenario, sim.signals)
    hubs = summary["hubs"]
    labels = [_hub_label(h["name_zh"], h["name"]) for h in hubs]
    policies: dict[str, dict[str, Any]] = doc.get("policies", {})
    columns = list(policies.items())
    oracle = doc.get("oracle")
    if isinstance(oracle, dict):
        # The bound as a column of its own; the rounded schedule is the policy "oracle".
        columns.append((BOUND_COLUMN, {"carbon_t": oracle.get("bound_t"), "captured_share": 1.0}))
    keys = metric_keys(columns)
    bar_keys = [
        k for k in ("carbon_t", "green_share", "wait_mean_h", "captured_share") if k in keys
    ]
    chosen = "green-first" if "green-first" in sim.runs else next(iter(sim.runs), None)
    figures: dict[str, Markup] = {}
    if columns and bar_keys:
        figures["comparison"] = _json_for_html(comparison_figure(columns, bar_keys))
    figures["intensity"] = _json_for_html(intensity_figure(sim, labels))
    if chosen is not None:
        run = sim.runs[chosen]
        figures["supply"] = _json_for_html(supply_figure(sim, run, labels))
        shown = [run] + (
            [sim.runs["baseline"]] if "baseline" in sim.runs and chosen != "baseline" else []
        )
        figures["starts"] = _json_for_html(starts_figure(sim, shown, labels))
    sig_cols, sig_rows, sig_notes = _signal_rows(sim, hubs)
    modelled, from_files = _modelled_summary(sim)
    from greendispatch.sim.runner import run_currency

    currency = run_currency(sim)
    cfg = doc.get("config", {})
    config_items = [
        (label, f"{cfg[k]:,}" if k == "jobs" else _shown(cfg[k]))
        for k, label in (
            ("jobs", "作业 Jobs"),
            ("days", "天数 Days"),
            ("dt_h", "时间步长 Slot (h)"),
            ("forecast", "预测 Forecast"),
            ("seed", "随机种子 Seed"),
            ("carbon_weight", "碳权重 Carbon weight"),
            ("trace", "轨迹 Trace"),
            ("trace_format", "轨迹格式 Trace format"),
            ("trace_offset_h", "轨迹时间偏移 Trace offset (h)"),
            ("trace_pool", "轨迹资源池 Trace pool"),
            ("trace_any_device", "轨迹不限设备型号 Trace on any device"),
            ("utilisation_target", "目标利用率 Utilisation target"),
            ("grid_charge", "储能电网充电 Batteries charge from the grid"),
        )
        if cfg.get(k) is not None
    ]
    return {
        "scenario": doc.get("scenario", scenario.name),
        "title": scenario.title,
        "title_zh": scenario.title_zh,
        "config": config_items,
        "carbon_basis": doc.get("carbon_basis", summary["carbon_basis"]),
        "modelled": modelled,
        "from_files": from_files,
        "machine": doc.get("machine", ""),
        "notes": list(doc.get("notes", [])),
        "hubs": hubs,
        "columns": [name for name, _ in columns],
        "has_oracle": isinstance(oracle, dict),
        "oracle_scalar": None if isinstance(oracle, dict) or oracle is None else oracle,
        "oracle_rows": _oracle_rows(oracle) if isinstance(oracle, dict) else [],
        "captured_label": METRIC_LABELS["captured_share"],
        "rounded_captured_label": METRIC_LABELS["rounded_captured_share"],
        "rows": _comparison_rows(columns, keys, currency),
        "policies": list(policies),
        "utilisation": _utilisation_rows(doc, hubs),
        "tenant_rows": _tenant_rows(doc),
        "chosen": chosen,
        "has_baseline": "baseline" in sim.runs and chosen != "baseline",
        "signal_columns": sig_cols,
        "signal_rows": sig_rows,
        "signal_notes": sig_notes,
        "figures": figures,
        "plot_config": _json_for_html(PLOT_CONFIG),
        "dt_h": sim.signals.grid.dt_h,
        "days": sim.signals.grid.n_slots * sim.signals.grid.dt_h / 24,
    }


def _shown(value: object) -> object:
    """A configuration value for the page: yes/no in both languages for a flag."""
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    return value


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("greendispatch.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_report(sim: Simulation, doc: dict[str, Any]) -> str:
    """The report page as a string, with plotly.js inline."""
    from plotly.offline import get_plotlyjs

    ctx = report_context(sim, doc)
    return (
        _environment()
        .get_template("report.html.j2")
        .render(plotly_js=Markup(get_plotlyjs()), **ctx)
    )


def write_report(path: Path, sim: Simulation, doc: dict[str, Any]) -> Path:
    """Write the report to ``path`` atomically (a temporary file, then a rename); return it."""
    path = Path(path)
    text = render_report(sim, doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
