"""The report's figures as plain plotly specs (JSON-ready dicts): the policy comparison, the
daily supply stack of each hub, the grid's daily carbon intensity and the jobs started per day.
Text from scenario files is escaped as HTML entities in labels, since plotly renders a subset of
HTML tags in trace names and titles."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

from greendispatch.report.daily import daily_mean, daily_starts, daily_supply, slots_per_day
from greendispatch.report.labels import CURTAILED, METRIC_LABELS, SUPPLY_STACK
from greendispatch.sim.engine import SimRun

if TYPE_CHECKING:
    from greendispatch.sim.runner import Simulation

FONT = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", '
    '"Microsoft YaHei", "WenQuanYi Micro Hei", system-ui, sans-serif'
)
DAY_MS = 86_400_000
HUB_LEGEND = {"orientation": "h", "y": -0.1, "entrywidth": 0.5, "entrywidthmode": "fraction"}
BAR_FORMATS = {
    "carbon_t": ",.0f",
    "wait_mean_h": ".2f",
    "green_share": ".1%",
    "captured_share": ".1%",
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
