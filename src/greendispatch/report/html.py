"""``report.html``: one self-contained page of a simulation's results that opens offline.

plotly.js is embedded once, inline. Each figure is a JSON spec in a
``<script type="application/json" data-plot>`` element that a few lines of inline script draw
with ``Plotly.newPlot``: the page loads nothing from the network (no CDN, no web fonts).

Text from scenario files (scenario and hub names) is escaped three ways: by jinja2's autoescape
in HTML, as ``\\u003c``/``\\u003e``/``\\u0026`` inside the embedded JSON, and as HTML entities
in plotly labels (plotly renders a subset of HTML tags in trace names and titles).

Daily series are blocks of ``24 / dt_h`` slots counted from the scenario start (UTC): energies
are summed (MWh per day), intensities averaged (g CO2/kWh); a partial last day covers the slots
that remain.
"""

from __future__ import annotations

import functools
import html
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from greendispatch.report.summary import scenario_summary
from greendispatch.sim.engine import SimRun
from greendispatch.sim.metrics import METRIC_KEYS

if TYPE_CHECKING:
    from greendispatch.sim.runner import Simulation

FONT = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", '
    '"Microsoft YaHei", "WenQuanYi Micro Hei", system-ui, sans-serif'
)
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "showLink": False}
DAY_MS = 86_400_000
HUB_LEGEND = {"orientation": "h", "y": -0.1, "entrywidth": 0.5, "entrywidthmode": "fraction"}
BAR_FORMATS = {
    "carbon_t": ",.0f",
    "wait_mean_h": ".2f",
    "green_share": ".1%",
    "captured_share": ".1%",
}

BOUND_COLUMN = "下界 bound"

# Supply stack, bottom to top: (SupplyResult field, label, colour).
SUPPLY_STACK = (
    ("own_used_mwh", "自有风光 Own wind/solar used", "#2ca02c"),
    ("discharge_mwh", "储能放电 Battery discharge", "#17becf"),
    ("contracted_used_mwh", "合约绿电 Contracted green", "#98df8a"),
    ("grid_mwh", "电网 Grid", "#7f7f7f"),
)
CURTAILED = ("curtailed_mwh", "弃风弃光 Curtailed (below zero)", "#ff7f0e")
SUPPLY_KEYS = (*(k for k, _, _ in SUPPLY_STACK), CURTAILED[0], "load_mwh")

METRIC_LABELS = {
    "carbon_t": "碳排放 Carbon (t CO₂)",
    "energy_mwh": "设施能耗 Facility energy (MWh)",
    "it_energy_mwh": "IT 能耗 IT energy (MWh)",
    "jobs_carbon_t": "作业分摊碳排 Carbon attributed to jobs (t CO₂)",
    "cost": "成本 Cost",
    "green_share": "绿电占比 Green share",
    "cfe_share": "无碳电力占比 CFE share",
    "curtailed_mwh": "弃风弃光 Curtailed (MWh)",
    "wait_mean_h": "平均等待 Mean wait (h)",
    "wait_p95_h": "P95 等待 Wait p95 (h)",
    "wait_max_h": "最长等待 Max wait (h)",
    "deadline_misses": "错过截止 Deadline misses",
    "unplaced": "未调度 Unplaced jobs",
    "latency_violations": "时延超限 Latency violations",
    "data_moved_tb": "数据迁移 Data moved (TB)",
    "jobs": "作业数 Jobs",
    "runtime_s": "仿真耗时 Runtime (s)",
    "captured_share": "捕获占比 Captured share",
    "rounded_captured_share": "占取整调度节省比 Share of the oracle's saving",
}
SIGNAL_LABELS = {
    "ci_g_per_kwh": "电网碳强度 Grid intensity",
    "renewable_share": "可再生占比 Renewable share",
    "price_per_mwh": "电价 Price",
    "temp_c": "气温 Temperature",
    "solar_pu": "光伏出力 Solar output",
    "wind_pu": "风电出力 Wind output",
    "pue": "PUE",
}
POLICY_COLOURS = {
    "baseline": "#7f7f7f",
    "lowest-carbon": "#1f77b4",
    "wait-awhile": "#ff7f0e",
    "carbon-time": "#9467bd",
    "cost": "#d62728",
    "green-first": "#2ca02c",
    "oracle": "#000000",
    "mpc": "#8c564b",
}
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#8c6d31", "#7b4173", "#3182bd",
)  # fmt: skip


# ---------------------------------------------------------------- daily series (pure numpy)


def slots_per_day(dt_h: float) -> int:
    """Slots in 24 h for a slot length of ``dt_h`` hours."""
    return round(24.0 / dt_h)


def daily_sum(arr: np.ndarray, spd: int) -> np.ndarray:
    """(H, T) per slot -> (H, D) per day, D = ceil(T / spd); the last day may be partial."""
    a = np.asarray(arr, dtype=np.float64)
    n_h, n_t = a.shape
    n_d = -(-n_t // spd)
    full = (n_t // spd) * spd
    out = np.empty((n_h, n_d))
    out[:, : n_t // spd] = a[:, :full].reshape(n_h, -1, spd).sum(axis=2)
    if full < n_t:
        out[:, -1] = a[:, full:].sum(axis=1)
    return out


def daily_mean(arr: np.ndarray, spd: int) -> np.ndarray:
    """(H, T) -> (H, D) mean over each day's slots (a partial last day over those it has)."""
    n_t = np.shape(arr)[1]
    counts = np.full(-(-n_t // spd), float(spd))
    if n_t % spd:
        counts[-1] = n_t % spd
    return daily_sum(arr, spd) / counts


def daily_supply(run: SimRun) -> dict[str, np.ndarray]:
    """Daily sums (MWh, shape (H, D)) of the supply stack of a run: own wind/solar used,
    battery discharge, contracted green used, grid, curtailed, and the load they serve."""
    spd = slots_per_day(run.signals.grid.dt_h)
    return {key: daily_sum(getattr(run.supply, key), spd) for key in SUPPLY_KEYS}


def daily_starts(run: SimRun) -> np.ndarray:
    """Jobs started per hub and day, shape (H, D) (a split job counts on its first slot)."""
    n_h, n_t = run.it_mw.shape
    spd = slots_per_day(run.signals.grid.dt_h)
    n_d = -(-n_t // spd)
    p = run.placements
    placed = p.hub >= 0
    idx = p.hub[placed].astype(np.int64) * n_d + p.start[placed] // spd
    return np.bincount(idx, minlength=n_h * n_d).reshape(n_h, n_d)


# ---------------------------------------------------------------- figures (plain plotly specs)


def _esc(text: str) -> str:
    """Text for a plotly label: plotly reads a subset of HTML there, so escape it."""
    return html.escape(str(text), quote=False)


def _r(a: np.ndarray, nd: int) -> list[float]:
    return np.round(a, nd).tolist()


def _layout(title: str, **kw: Any) -> dict[str, Any]:
    return {
        "title": {"text": _esc(title), "x": 0.01, "xanchor": "left"},
        "font": {"family": FONT, "size": 13},
        "margin": {"l": 70, "r": 20, "t": 70, "b": 50},
        "legend": HUB_LEGEND,
        **kw,
    }


def _x0(sim: Simulation) -> str:
    return sim.signals.grid.start.strftime("%Y-%m-%d %H:%M")


def _line(sim: Simulation, name: str, y: list, colour: str, hover: str, **kw: Any) -> dict:
    """A daily time-series trace (x from the scenario start in steps of one day)."""
    line = {"width": kw.pop("width", 0.5), "color": colour}
    return {"type": "scatter", "mode": "lines", "name": _esc(name), "y": y, "x0": _x0(sim),
            "dx": DAY_MS, "line": line, "hovertemplate": hover, **kw}  # fmt: skip


def _note(text: str, x: float, y: float, xanchor: str = "center") -> dict:
    return {"text": _esc(text), "x": x, "y": y, "xref": "paper", "yref": "paper",
            "xanchor": xanchor, "yanchor": "bottom", "showarrow": False}  # fmt: skip


def comparison_figure(columns: list[tuple[str, dict[str, Any]]], keys: list[str]) -> dict:
    """Side-by-side bar panels of ``keys`` per policy (and oracle, when present)."""
    gap = 0.06
    width = (1.0 - gap * (len(keys) - 1)) / len(keys)
    data, notes = [], []
    layout = _layout("策略对比 Policy comparison", showlegend=False, height=420)
    layout["margin"] = {"l": 60, "r": 20, "t": 80, "b": 90}
    for i, key in enumerate(keys):
        sfx, lo = ("" if i == 0 else str(i + 1)), i * (width + gap)
        cols = [(name, m[key]) for name, m in columns if isinstance(m.get(key), int | float)]
        colours = [
            POLICY_COLOURS.get(n, PALETTE[j % len(PALETTE)]) for j, (n, _) in enumerate(cols)
        ]
        fmt = BAR_FORMATS.get(key, ",.3~r")
        data.append(
            {
                "type": "bar",
                "x": [_esc(name) for name, _ in cols],
                "y": [float(v) for _, v in cols],
                "xaxis": f"x{sfx}",
                "yaxis": f"y{sfx}",
                "marker": {"color": colours},
                "texttemplate": f"%{{y:{fmt}}}",
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": f"%{{x}}: %{{y:{fmt}}}<extra></extra>",
            }
        )
        layout[f"xaxis{sfx}"] = {"domain": [lo, lo + width], "anchor": f"y{sfx}", "tickangle": -30}
        layout[f"yaxis{sfx}"] = {"anchor": f"x{sfx}", "rangemode": "tozero"}
        if key.endswith("_share"):
            layout[f"yaxis{sfx}"]["tickformat"] = ".0%"
        notes.append(_note(METRIC_LABELS.get(key, key), lo + width / 2, 1.02))
    layout["annotations"] = notes
    return {"data": data, "layout": layout}


def supply_figure(sim: Simulation, run: SimRun, labels: list[str]) -> dict:
    """Daily supply stack of every hub, one hub shown at a time (picked from a dropdown);
    curtailed own renewables drawn below zero."""
    days = daily_supply(run)
    n_h, per_hub = len(labels), len(SUPPLY_STACK) + 1
    data = []
    for h in range(n_h):
        for key, label, colour in SUPPLY_STACK:
            y = _r(days[key][h], 3)
            data.append(
                _line(sim, label, y, colour, "%{y:,.1f} MWh", stackgroup=f"h{h}", fillcolor=colour)
            )
        key, label, colour = CURTAILED
        data.append(
            _line(sim, label, _r(-days[key][h], 3), colour, "%{y:,.1f} MWh", fill="tozeroy")
        )
    for i, trace in enumerate(data):
        trace["visible"] = i < per_hub
    layout = _layout(
        f"供电结构 Supply stack — {run.policy}",
        xaxis={"type": "date"},
        yaxis={"title": {"text": "MWh / 日 day"}},
        hovermode="x unified",
        height=480,
    )
    if n_h > 1:
        buttons = [
            {
                "label": _esc(labels[h]),
                "method": "restyle",
                "args": [{"visible": [i // per_hub == h for i in range(n_h * per_hub)]}],
            }
            for h in range(n_h)
        ]
        layout["updatemenus"] = [{"buttons": buttons, "x": 1.0, "xanchor": "right", "y": 1.14}]
    return {"data": data, "layout": layout}


def intensity_figure(sim: Simulation, labels: list[str]) -> dict:
    """Daily mean grid carbon intensity per hub."""
    ci = daily_mean(sim.signals.ci_g_per_kwh, slots_per_day(sim.signals.grid.dt_h))
    data = [
        _line(sim, label, _r(ci[h], 1), PALETTE[h % len(PALETTE)], "%{y:.0f} g/kWh", width=1.2)
        for h, label in enumerate(labels)
    ]
    layout = _layout(
        "电网碳强度（日均）Grid carbon intensity, daily mean",
        xaxis={"type": "date"},
        yaxis={"title": {"text": "g CO₂/kWh"}, "rangemode": "tozero"},
        hovermode="x unified",
        height=440,
    )
    return {"data": data, "layout": layout}


def starts_figure(sim: Simulation, runs: list[SimRun], labels: list[str]) -> dict:
    """Jobs started per day, stacked by hub, one row per run (chosen policy, then baseline)."""
    n = len(runs)
    data: list[dict[str, Any]] = []
    title = "作业启动（每日，按枢纽）Job starts per day by hub"
    layout = _layout(title, hovermode="x unified", height=300 + 240 * n)
    notes = []
    for r, run in enumerate(runs):
        sfx = "" if r == 0 else str(r + 1)
        starts = daily_starts(run)
        for h, label in enumerate(labels):
            kw = {"stackgroup": f"r{r}", "legendgroup": f"hub{h}", "showlegend": r == 0}
            colour = PALETTE[h % len(PALETTE)]
            trace = _line(sim, label, starts[h].tolist(), colour, "%{y:,d}", **kw)
            data.append(trace | {"xaxis": f"x{sfx}", "yaxis": f"y{sfx}"})
        top = 1.0 - r / n
        dom = [max(0.0, top - 1.0 / n + 0.12), top]
        layout[f"yaxis{sfx}"] = {
            "domain": dom,
            "anchor": f"x{sfx}",
            "title": {"text": "作业数 jobs"},
        }
        layout[f"xaxis{sfx}"] = {"type": "date", "anchor": f"y{sfx}"} | (
            {"matches": "x"} if r else {}
        )
        notes.append(_note(f"策略 Policy: {run.policy}", 0, dom[1], "left"))
    layout["annotations"] = notes
    layout["legend"] = HUB_LEGEND | {"traceorder": "normal", "y": -0.06}  # not grouped by row
    return {"data": data, "layout": layout}


def _json_for_html(obj: Any) -> Markup:
    """Compact JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, rep in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, rep)
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# ---------------------------------------------------------------- tables


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, int):
        return f"{value:,d}"
    if not isinstance(value, float):
        return str(value)
    if not np.isfinite(value):
        return str(value)
    if key.endswith("_share"):
        return f"{value:.1%}"
    if key in ("cost", "energy_mwh", "it_energy_mwh"):
        return f"{value:,.0f}"
    if key.endswith(("_h", "_s", "_tb")):
        return f"{value:,.2f}"
    return f"{value:,.1f}"


def _scalar(v: Any) -> bool:
    return isinstance(v, int | float | bool) or v is None


def metric_keys(columns: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The documented metric keys first, then every other scalar key, in order of appearance."""
    keys = [k for k in METRIC_KEYS if any(k in m for _, m in columns)]
    for _, m in columns:
        keys += [k for k, v in m.items() if k not in keys and _scalar(v)]
    return keys


def _comparison_rows(
    columns: list[tuple[str, dict[str, Any]]], keys: list[str], units: dict[str, str]
) -> list[dict[str, Any]]:
    rows = []
    base = next((m for name, m in columns if name == "baseline"), None)
    for key in keys:
        label = METRIC_LABELS.get(key, key)
        if key == "cost" and units.get("cost"):
            label += f" ({units['cost']})"
        rows.append(
            {"label": label, "key": key, "cells": [_fmt(key, m.get(key)) for _, m in columns]}
        )
        if key == "carbon_t" and base and base.get("carbon_t"):
            cells = []
            for name, m in columns:
                v = m.get("carbon_t")
                ok = name != "baseline" and isinstance(v, int | float)
                cells.append(f"{v / base['carbon_t'] - 1:+.1%}" if ok else "—")
            rows.append(
                {"label": "相对基线 Carbon vs baseline", "key": "carbon_change", "cells": cells}
            )
    return rows


def _utilisation_rows(doc: dict[str, Any], hubs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pols = doc.get("policies", {})
    rows = []
    for hub in hubs:
        hub_id = hub["id"]
        kinds: list[str] = []
        for m in pols.values():
            kinds += [k for k in m.get("utilisation", {}).get(hub_id, {}) if k not in kinds]
        for kind in kinds:
            cells = []
            for m in pols.values():
                v = m.get("utilisation", {}).get(hub_id, {}).get(kind)
                cells.append("—" if v is None else f"{v:.1%}")
            rows.append({"hub": hub, "first": kind == kinds[0], "pool": kind, "cells": cells})
    return rows


def _signal_rows(sim: Simulation, hubs: list[dict]) -> tuple[list[str], list[dict], list[str]]:
    meta = sim.signals.meta
    names = [k for k in SIGNAL_LABELS if any(k in m.sources for m in meta)]
    names += [k for m in meta for k in m.sources if k not in names]
    rows = []
    for m, hub in zip(meta, hubs, strict=False):
        cells = []
        for k in names:
            src = m.sources.get(k, "")
            kind = "file" if src.startswith("file") else "modelled" if src else ""
            cells.append({"kind": kind, "text": src})
        rows.append({"hub": hub, "cells": cells})
    notes = list(dict.fromkeys(n for m in meta for n in m.notes))
    return [SIGNAL_LABELS.get(k, k) for k in names], rows, notes


def _modelled_summary(sim: Simulation) -> str:
    meta = sim.signals.meta
    if not meta:
        return ""
    names = list(dict.fromkeys(k for m in meta for k in m.sources))
    everywhere = [k for k in names if all(k in m.modelled for m in meta)]
    somewhere = [k for k in names if k not in everywhere and any(k in m.modelled for m in meta)]
    parts = []
    if everywhere:
        parts.append("所有枢纽 all hubs: " + ", ".join(SIGNAL_LABELS.get(k, k) for k in everywhere))
    for k in somewhere:
        n = sum(k in m.modelled for m in meta)
        parts.append(f"{SIGNAL_LABELS.get(k, k)} ({n} / {len(meta)} hubs)")
    return "; ".join(parts) if parts else "none (every signal read from files)"


# ---------------------------------------------------------------- page


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
    oracle_extra: list[tuple[str, str]] = []
    if isinstance(oracle, dict):
        # The bound as a column of its own; the rounded schedule is the policy "oracle".
        columns.append((BOUND_COLUMN, {"carbon_t": oracle.get("bound_t"), "captured_share": 1.0}))
        oracle_extra = [
            (k, json.dumps(v, ensure_ascii=False)) for k, v in oracle.items() if k != "bound_t"
        ]
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
    cfg = doc.get("config", {})
    config_items = [
        (label, f"{cfg[k]:,}" if k == "jobs" else cfg[k])
        for k, label in (
            ("jobs", "作业 Jobs"),
            ("days", "天数 Days"),
            ("dt_h", "时间步长 Slot (h)"),
            ("forecast", "预测 Forecast"),
            ("seed", "随机种子 Seed"),
            ("carbon_weight", "碳权重 Carbon weight"),
            ("trace", "轨迹 Trace"),
            ("trace_format", "轨迹格式 Trace format"),
            ("utilisation_target", "目标利用率 Utilisation target"),
        )
        if cfg.get(k) is not None
    ]
    return {
        "scenario": doc.get("scenario", scenario.name),
        "title": scenario.title,
        "title_zh": scenario.title_zh,
        "config": config_items,
        "carbon_basis": doc.get("carbon_basis", summary["carbon_basis"]),
        "modelled": _modelled_summary(sim),
        "machine": doc.get("machine", ""),
        "notes": list(doc.get("notes", [])),
        "hubs": hubs,
        "columns": [name for name, _ in columns],
        "has_oracle": isinstance(oracle, dict),
        "oracle_scalar": None if isinstance(oracle, dict) or oracle is None else oracle,
        "oracle_extra": oracle_extra,
        "rows": _comparison_rows(columns, keys, doc.get("units", {})),
        "policies": list(policies),
        "utilisation": _utilisation_rows(doc, hubs),
        "chosen": chosen,
        "has_baseline": "baseline" in sim.runs and chosen != "baseline",
        "signal_columns": sig_cols,
        "signal_rows": sig_rows,
        "signal_notes": sig_notes,
        "figures": figures,
        "plot_config": _json_for_html(PLOT_CONFIG),
        "dt_h": sim.signals.grid.dt_h,
    }


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
