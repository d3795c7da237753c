"""Printable bilingual HTML of a signed green-power statement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape


def render_statement(statement: dict[str, Any], *, hours_shown: int = 500) -> str:
    """The printable page of a statement. Its GEC row counts the statement's own GECs (``gec``);
    a job's statement shows its tenant's (``gec_of_tenant``) in a row of its own."""
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
    return env.get_template("statement.html.j2").render(
        s=s,
        green_share=totals["green_mwh"]["total"] / energy if energy > 0 else 0.0,
        gec_list=gec_list,
        gec_count=_count(gec_list),
        tenant_gec_count=_count(tenant_gec) if "gec_of_tenant" in s else None,
        hours_shown=hours_shown,
        certs_shown=500,
        gec_shown=200,
    )


def _count(gecs: list[dict[str, Any]]) -> int:
    return sum(int(g.get("count", 1)) for g in gecs)


def write_statement_html(statement: dict[str, Any], path: Path) -> Path:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(render_statement(statement), encoding="utf-8")
    tmp.replace(path)
    return path
