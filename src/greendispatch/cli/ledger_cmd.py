"""``greendispatch ledger``: show, verify, statements."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from greendispatch.errors import InputError, Problem

ledger_app = typer.Typer(
    help="Green-power ledger: show, verify, statements (绿电溯源账本).", no_args_is_help=True
)
out_console = Console()
err_console = Console(stderr=True)

DirArg = Annotated[Path, typer.Argument(help="Ledger folder (written by simulate --ledger DIR).")]


def _require_dir(folder: Path) -> None:
    if not folder.is_dir():
        raise InputError(Problem(str(folder), None, "", "ledger folder not found"))


@ledger_app.command("verify")
def verify_cmd(folder: DirArg) -> None:
    """Recompute the hash chain and check the signed head; name any entry that was tampered."""
    from greendispatch.ledger.chain import LEDGER_FILE, fingerprint, load_public_key, verify_ledger

    _require_dir(folder)
    if not (folder / LEDGER_FILE).exists():
        raise InputError(Problem(str(folder / LEDGER_FILE), None, "", "ledger file not found"))
    report = verify_ledger(folder)
    if not report.ok:
        for p in report.problems:
            err_console.print(f"[red]FAILED[/red]: {p}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    fp = fingerprint(load_public_key(folder))
    out_console.print(
        f"[green]verified[/green]: {report.entries:,} entries, head {report.head_hash}, "
        f"key fingerprint {fp}",
        highlight=False,
    )


@ledger_app.command("show")
def show_cmd(
    folder: DirArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Summarise a ledger: entries by type, period, hubs, beneficiaries and certificate totals."""
    from greendispatch.ledger.chain import LEDGER_FILE, iter_entries

    _require_dir(folder)
    path = folder / LEDGER_FILE
    if not path.exists():
        raise InputError(Problem(str(path), None, "", "ledger file not found"))
    kinds: Counter[str] = Counter()
    hubs: set[str] = set()
    claimed: Counter[str] = Counter()
    issued_wh = 0
    first = last = None
    genesis: dict | None = None
    for line_no, raw in iter_entries(path):
        try:
            body = json.loads(raw)["body"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise InputError(
                Problem(str(path), line_no, "", "not a ledger entry (run ledger verify)")
            ) from None
        kinds[body.get("type", "?")] += 1
        if body.get("type") == "genesis":
            genesis = body
        if body.get("type") == "hour":
            hubs.add(body["hub"])
            first = first or body["hour_start"]
            last = body["hour_end"]
            for c in body.get("certificates", []):
                issued_wh += int(c.get("energy_wh", 0))
            for c in body.get("claims", []):
                claimed[c["beneficiary"]] += int(c["wh"])
    doc = {
        "entries": dict(kinds),
        "scenario": genesis.get("scenario") if genesis else None,
        "policy": genesis.get("policy") if genesis else None,
        "period": [first, last],
        "hubs": sorted(hubs),
        "issued_mwh": issued_wh / 1e6,
        "claimed_mwh": {k: v / 1e6 for k, v in sorted(claimed.items())},
    }
    if as_json:
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    out_console.print(
        f"ledger {folder}: scenario {doc['scenario']}, policy {doc['policy']}, "
        f"{sum(kinds.values()):,} entries ({', '.join(f'{k} {v:,}' for k, v in kinds.items())})",
        highlight=False,
    )
    out_console.print(f"period {first} — {last}; hubs: {', '.join(doc['hubs'])}", highlight=False)
    out_console.print(f"green certificates issued: {issued_wh / 1e6:,.3f} MWh", highlight=False)
    for who, wh in sorted(claimed.items(), key=lambda kv: -kv[1]):
        out_console.print(f"  claimed by {who}: {wh / 1e6:,.3f} MWh", highlight=False)


@ledger_app.command("check-statement")
def check_statement_cmd(
    path: Annotated[Path, typer.Argument(help="A statement JSON file.")],
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="Ledger folder whose public key must have signed it."),
    ] = None,
) -> None:
    """Check a statement's Ed25519 signature (and, with --ledger, that the ledger's key made it)."""
    from greendispatch.ledger.chain import fingerprint, load_public_key, verify_document

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(Problem(str(path), None, "", "file not found")) from None
    except json.JSONDecodeError as exc:
        raise InputError(Problem(str(path), exc.lineno, "", f"not JSON: {exc.msg}")) from None
    if not verify_document(doc):
        err_console.print(f"[red]FAILED[/red]: {path}: the signature does not match the content")
        raise typer.Exit(1)
    sig = doc["signature"]
    if ledger is not None:
        _require_dir(ledger)
        expected = fingerprint(load_public_key(ledger))
        if sig.get("key_fingerprint") != expected:
            err_console.print(
                f"[red]FAILED[/red]: {path}: signed with key {sig.get('key_fingerprint')}, not the "
                f"ledger's key {expected}"
            )
            raise typer.Exit(1)
    out_console.print(
        f"[green]valid signature[/green]: key {sig['key_fingerprint']}, ledger head "
        f"{sig['ledger_head']}",
        highlight=False,
    )


@ledger_app.command("statement")
def statement_cmd(
    folder: DirArg,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Tenant name.")] = None,
    job: Annotated[int | None, typer.Option("--job", help="Job id.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for the JSON and HTML files.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the statement JSON.")] = False,
) -> None:
    """A signed statement (JSON + printable bilingual HTML) for a tenant or a job."""
    from greendispatch.ledger.record import STATEMENTS, slug, statement_for, write_signed

    _require_dir(folder)
    if (tenant is None) == (job is None):
        raise InputError("give exactly one of --tenant T or --job J")
    with err_console.status("verifying the ledger and building the statement..."):
        doc = statement_for(folder, tenant=tenant, job=job)
    target = out or folder / STATEMENTS
    if target.exists() and not target.is_dir():
        raise InputError(Problem(str(target), None, "", "--out must be a folder"))
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Problem(str(target), None, "", f"cannot create: {exc}")) from None
    stem = target / (f"tenant-{slug(tenant)}" if tenant is not None else f"job-{job}")
    path = write_signed(doc, stem)
    if as_json:
        typer.echo(json.dumps(doc, indent=1, ensure_ascii=False))
        return
    t = doc["totals"]
    green = t["green_mwh"]["total"]
    share = green / t["energy_mwh"] if t["energy_mwh"] > 0 else 0.0
    out_console.print(
        f"{doc['beneficiary']}{'' if job is None else f' job {job}'}: {t['energy_mwh']:,.3f} MWh, "
        f"green {green:,.3f} MWh ({share:.1%}), location-based {t['location_based_t']:,.3f} t, "
        f"market-based {t['market_based_t']:,.3f} t; wrote {path} and {path.with_suffix('.html')}",
        highlight=False,
    )
