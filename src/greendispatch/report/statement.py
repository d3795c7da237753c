"""Printable bilingual HTML of a signed green-power statement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

BASIS_LABELS = {
    "location_based": ("基于位置的碳排放", "Location-based CO₂"),
    "market_based": ("基于市场的碳排放", "Market-based CO₂"),
}


def render_statement(
    statement: dict[str, Any], *, hours_shown: int = 500, json_name: str | None = None
) -> str:
    """The printable page of a statement (``json_name``: the signed JSON file it copies). Its
    GEC row counts the statement's own GECs (``gec``); a job's statement shows its tenant's
    (``gec_of_tenant``) in a row of its own."""
    env = Environment(
        loader=PackageLoader("greendispatch.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    s = dict(statement)
    s.setdefault("job_id", None)
    totals = s["totals"]
    energy = totals["energy_mwh"]
    gec_list = list(s.get("gec") or [])
    tenant_gec = list(s.get("gec_of_tenant") or [])
    basis_zh = s.get("basis_zh") or {}
    basis = [
        (*BASIS_LABELS.get(key, ("", key)), basis_zh.get(key, ""), text)
        for key, text in (s.get("basis") or {}).items()
    ]
    notes_zh = list(s.get("notes_zh") or [])
    notes = [
        (notes_zh[i] if i < len(notes_zh) else "", n) for i, n in enumerate(s.get("notes") or [])
    ]
    return env.get_template("statement.html.j2").render(
        s=s,
        green_share=totals["green_mwh"]["total"] / energy if energy > 0 else 0.0,
        gec_list=gec_list,
        gec_count=_count(gec_list),
        tenant_gec_count=_count(tenant_gec) if "gec_of_tenant" in s else None,
        basis=basis,
        notes=notes,
        months=monthly_rows(s.get("hours") or []),
        hours_shown=hours_shown,
        json_name=json_name,
        certs_shown=500,
        gec_shown=200,
    )


def monthly_rows(hours: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The hub-hour rows summed per UTC month and hub, in the order they first appear: energy,
    certified green, uncertified battery output, grid (MWh) and both carbon figures (t)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for h in hours:
        key = (str(h["hour_start"])[:7], str(h["hub"]))
        r = rows.setdefault(
            key,
            {"month": key[0], "hub": key[1], "hours": 0, "energy_mwh": 0.0, "green_mwh": 0.0,
             "battery_uncertified_mwh": 0.0, "grid_mwh": 0.0, "location_based_t": 0.0,
             "market_based_t": 0.0},
        )  # fmt: skip
        r["hours"] += 1
        r["energy_mwh"] += h["energy_mwh"]
        r["green_mwh"] += sum(h["green_mwh"].values())
        for k in ("battery_uncertified_mwh", "grid_mwh", "location_based_t", "market_based_t"):
            r[k] += h.get(k) or 0.0
    return list(rows.values())


def _count(gecs: list[dict[str, Any]]) -> int:
    return sum(int(g.get("count", 1)) for g in gecs)


def write_statement_html(statement: dict[str, Any], path: Path) -> Path:
    tmp = path.with_suffix(path.suffix + ".tmp")
    html = render_statement(statement, json_name=path.with_suffix(".json").name)
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
