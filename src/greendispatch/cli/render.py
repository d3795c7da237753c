"""Rich rendering of summaries for the terminal (Chinese names shown beside English ones)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _n(x: float, nd: int = 0) -> str:
    return f"{x:,.{nd}f}"


def print_summary(console: Console, s: dict[str, Any]) -> None:
    """Per-hub table, totals, and the inter-hub latency check."""
    console.print(f"[bold]{s['title']}[/bold]  {s['title_zh']}", highlight=False)
    t = Table(title=f"scenario {s['scenario']} — carbon basis: {s['carbon_basis']}")
    for col, just in [
        ("hub", "left"),
        ("名称", "left"),
        ("general P", "right"),
        ("hpc P", "right"),
        ("ai P", "right"),
        ("total P", "right"),
        ("racks", "right"),
        ("IT MW", "right"),
        ("wind/solar MW", "right"),
        ("battery MWh/MW", "right"),
        ("zone", "left"),
        ("mean gCO2/kWh", "right"),
        ("PUE", "right"),
    ]:
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for h in s["hubs"]:
        p = h["pflops"]
        ci = h.get("mean_ci_g_per_kwh")
        modelled = "ci_g_per_kwh" in h.get("modelled", [])
        t.add_row(
            h["id"],
            h["name_zh"],
            _n(p["general"]),
            _n(p["hpc"]),
            _n(p["ai"]),
            _n(p["total"]),
            _n(h["racks"]),
            _n(h["it_mw"], 1),
            f"{_n(h['wind_mw'])}/{_n(h['solar_mw'])}",
            f"{_n(h['battery_mwh'], 1)}/{_n(h['battery_mw'], 1)}",
            h["grid_zone"],
            "" if ci is None else f"{ci:.1f}{'*' if modelled else ''}",
            "" if "annual_pue" not in h else f"{h['annual_pue']:.3f}",
        )
    tot = s["totals"]
    t.add_section()
    t.add_row(
        "total",
        "合计",
        _n(tot["pflops"]["general"]),
        _n(tot["pflops"]["hpc"]),
        _n(tot["pflops"]["ai"]),
        _n(tot["pflops"]["total"]),
        _n(tot["racks"]),
        _n(tot["it_mw"], 1),
        "",
        "",
        "",
        "",
        "",
    )
    console.print(t)
    for h in s["hubs"]:
        for pc in h["planned"]:
            console.print(
                f"planned at {h['id']}: {pc['name']} ({pc['name_zh']}), {pc['cabinets']} cabinets "
                f"at {pc['cabinet_kw'][0]:g}-{pc['cabinet_kw'][1]:g} kW, {_n(pc['pflops'])}P "
                f"{pc['kind']}, online {pc['online']} — not counted in the totals above",
                highlight=False,
            )
    lat = s["latency"]
    console.print(
        f"inter-hub latency ({lat['model']}, route factor {lat['route_factor']:g}): "
        f"{lat['inter_hub_pairs_meeting_target']} of {lat['inter_hub_pairs']} hub pairs meet the "
        f"{lat['inter_hub_target_ms']:g} ms target",
        highlight=False,
    )
    worst = sorted((lk for lk in s["links"] if lk["inter_hub"]), key=lambda lk: -lk["latency_ms"])
    missing = [lk for lk in worst if not lk["meets_target"]]
    for lk in missing[:10]:
        console.print(
            f"  over target: {lk['a']} - {lk['b']} {lk['latency_ms']:.1f} ms", highlight=False
        )
    if any("ci_g_per_kwh" in h.get("modelled", []) for h in s["hubs"]):
        console.print(
            "* modelled hourly intensity; its annual mean is the official 2023 provincial factor"
        )
    modelled = sorted({m for h in s["hubs"] for m in h.get("modelled", [])})
    if modelled:
        console.print(
            f"modelled signals: {', '.join(modelled)} (see sources in --json)", highlight=False
        )


_COLUMNS = [
    ("policy", None, ""),
    ("carbon t", "carbon_t", ",.1f"),
    ("energy MWh", "energy_mwh", ",.0f"),
    ("cost", "cost", ",.0f"),
    ("green %", "green_share", ".1%"),
    ("CFE %", "cfe_share", ".1%"),
    ("curtailed MWh", "curtailed_mwh", ",.0f"),
    ("wait mean h", "wait_mean_h", ".2f"),
    ("wait p95 h", "wait_p95_h", ".2f"),
    ("missed", "deadline_misses", ",d"),
    ("unplaced", "unplaced", ",d"),
    ("latency viol.", "latency_violations", ",d"),
    ("data TB", "data_moved_tb", ",.1f"),
    ("run s", "runtime_s", ".2f"),
]


def print_results(console: Console, doc: dict[str, Any]) -> None:
    """Comparison table of the policies in a results document."""
    cfg = doc["config"]
    t = Table(
        title=(
            f"{doc['scenario']}: {cfg['jobs']:,} jobs, {cfg['days']} days, forecast "
            f"{cfg['forecast']}, seed {cfg['seed']} — carbon {doc['carbon_basis'].split(':')[0]}"
        )
    )
    columns = list(_COLUMNS)
    oracle = doc.get("oracle")
    if oracle is not None:
        columns.insert(2, ("captured", "captured_share", ".1%"))
        columns.insert(3, ("of oracle", "rounded_captured_share", ".1%"))
    for title, _, _ in columns:
        t.add_column(title, justify="left" if title == "policy" else "right")
    base = doc["policies"].get("baseline")
    for name, m in doc["policies"].items():
        cells = [name]
        for _, key, fmt in columns[1:]:
            cells.append("—" if m.get(key) is None else format(m[key], fmt))
        if base is not None and name != "baseline" and base["carbon_t"] > 0:
            cells[1] += f" ({m['carbon_t'] / base['carbon_t'] - 1:+.1%})"
        t.add_row(*cells)
    console.print(t)
    dropped = {name: m["unplaced"] for name, m in doc["policies"].items() if m.get("unplaced")}
    if dropped:
        console.print(
            "unplaced: jobs never run ("
            + ", ".join(f"{name} {n:,}" for name, n in dropped.items())
            + "); they count as missed, and their energy and carbon are in no total",
            highlight=False,
        )
    if oracle is not None:
        console.print(
            f"oracle: LP lower bound {oracle['bound_t']:,.1f} t CO2 "
            f"(build {oracle['build_s']:.1f} s,"
            f" solve {oracle['solve_s']:.1f} s, {oracle['lp']['mode']} LP); rounded schedule "
            f"{oracle['rounded_t']:,.1f} t"
            f"{' (MILP)' if oracle.get('rounding', {}).get('method') == 'milp' else ''}; "
            "captured = (baseline - policy) / (baseline - bound); of oracle = (baseline - "
            "policy) / (baseline - rounded schedule)",
            highlight=False,
        )
    for name, p in doc.get("planning", {}).items():
        if p["unsolved"]:
            console.print(
                f"{name}: {p['unsolved']:,} of {p['cycles']:,} cycles placed their jobs by "
                f"marginal carbon (LP not solved in {p['iteration_limit']:,} iterations)",
                highlight=False,
            )
