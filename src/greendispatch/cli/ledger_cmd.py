"""``greendispatch ledger``: show, verify, statements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from greendispatch.errors import InputError, Problem
from greendispatch.paths import os_reason

ledger_app = typer.Typer(
    help="Green-power ledger: show, verify, statements (绿电溯源账本).", no_args_is_help=True
)
out_console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)

DirArg = Annotated[Path, typer.Argument(help="Ledger folder (written by simulate --ledger DIR).")]


def _require_dir(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError(Problem(str(folder), None, "", "is a file; expected a ledger folder"))
    if not folder.is_dir():
        raise InputError(Problem(str(folder), None, "", "ledger folder not found"))


def _require_ledger_file(folder: Path) -> Path:
    from greendispatch.ledger.chain import LEDGER_FILE

    _require_dir(folder)
    path = folder / LEDGER_FILE
    if not path.exists():
        raise InputError(Problem(str(path), None, "", "ledger file not found"))
    if not path.is_file():
        raise InputError(
            Problem(str(path), None, "", "is a folder; expected the ledger's JSON-lines file")
        )
    return path


def _failed(message: str) -> None:
    err_console.print(f"[red]FAILED[/red]: {escape(message)}", highlight=False, soft_wrap=True)


@ledger_app.command("verify")
def verify_cmd(folder: DirArg) -> None:
    """Recompute the hash chain and check the signed head; name any entry that was tampered."""
    from greendispatch.ledger.chain import fingerprint, load_public_key, verify_ledger

    _require_ledger_file(folder)
    report = verify_ledger(folder)
    if not report.ok:
        for p in report.problems:
            _failed(p)
        raise typer.Exit(2 if report.unverifiable else 1)
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
    """Summarise a ledger: entries by type, period, hubs, beneficiaries and certificate totals.
    It reads the entries as they are and does not verify them: `ledger verify` does."""
    from greendispatch.ledger.reader import STORAGE, summarise

    led = summarise(_require_ledger_file(folder))
    kinds, genesis, first, last = led.kinds, led.genesis, led.first, led.last
    claimed, hubs = led.claimed_wh, led.hubs
    verify = f"greendispatch ledger verify {folder}"
    doc = {
        "entries": dict(kinds),
        "scenario": genesis.get("scenario") if genesis else None,
        "policy": genesis.get("policy") if genesis else None,
        "period": [first, last],
        "hubs": sorted(hubs),
        "issued_mwh": led.issued_wh / 1e6,
        "issued_generation_mwh": led.generation_wh / 1e6,
        "issued_from_storage_mwh": led.from_storage_wh / 1e6,
        "issued_by_technology_mwh": {
            k: v / 1e6 for k, v in sorted(led.issued_by_technology_wh.items())
        },
        "cancelled_into_storage_mwh": led.into_storage_wh / 1e6,
        "claimed_mwh": {k: v / 1e6 for k, v in sorted(claimed.items())},
        "verified": False,
        "verify_with": verify,
    }
    if as_json:
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return

    def say(text: str) -> None:
        out_console.print(text, highlight=False, markup=False, soft_wrap=True)

    say(
        f"ledger {folder}: scenario {doc['scenario']}, policy {doc['policy']}, "
        f"{sum(kinds.values()):,} entries ({', '.join(f'{k} {v:,}' for k, v in kinds.items())})"
    )
    say(f"period {first} — {last}; hubs: {', '.join(doc['hubs'])}")
    by_tech = led.issued_by_technology_wh
    made = ", ".join(f"{k} {v / 1e6:,.3f}" for k, v in sorted(by_tech.items()) if k != STORAGE)
    say(f"green certificates issued: {led.issued_wh / 1e6:,.3f} MWh, of which")
    say(
        f"  generation: {led.generation_wh / 1e6:,.3f} MWh ({made or 'none'}); "
        f"{led.into_storage_wh / 1e6:,.3f} MWh of it cancelled into storage"
    )
    say(
        f"  re-issued from storage: {led.from_storage_wh / 1e6:,.3f} MWh (battery output of "
        "stored green, already certified as generation: the total counts it twice)"
    )
    for who, wh in sorted(claimed.items(), key=lambda kv: -kv[1]):
        say(f"claimed by {who}: {wh / 1e6:,.3f} MWh")
    say(
        "not verified: show reads the entries as they are, without checking the hash chain or "
        f"the signed head; run `{verify}` to verify the ledger"
    )


def _read_statement(path: Path) -> dict[str, Any]:
    """A statement file's JSON object with a ``signature`` object; InputError when it is not one
    (a changed signature or content is not an input error: the signature check reports it)."""

    def bad(message: str, line: int | None = None, field: str = "") -> InputError:
        return InputError(Problem(str(path), line, field, message))

    if path.is_dir():
        raise bad("is a folder; expected a statement JSON file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise bad("file not found") from None
    except OSError as exc:
        raise bad(f"cannot read: {os_reason(exc)}") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise bad("not UTF-8 text; expected a statement JSON file") from None
    except json.JSONDecodeError as exc:
        raise bad(f"not JSON: {exc.msg}", exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        raise bad(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise bad("not a signed statement: expected a JSON object")
    if "signature" not in doc:
        raise bad("not a signed statement: no 'signature'")
    sig = doc["signature"]
    fields = ("public_key", "ledger_head", "value")
    if not isinstance(sig, dict):
        raise bad(f"not a signed statement: expected an object with {', '.join(fields)}", None,
                  "signature")  # fmt: skip
    for key in fields:
        if key not in sig:
            raise bad("missing: not a signed statement", None, f"signature.{key}")
    return doc


@ledger_app.command("check-statement")
def check_statement_cmd(
    path: Annotated[Path, typer.Argument(help="A statement JSON file.")],
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="Ledger folder whose public key must have signed it."),
    ] = None,
) -> None:
    """Check a statement's Ed25519 signature (and, with --ledger, that the ledger's key made it)."""
    from greendispatch.ledger.chain import fingerprint, load_public_key, statement_signer

    doc = _read_statement(path)
    fp, why = statement_signer(doc)
    if fp is None:
        _failed(f"{path}: {why}")
        raise typer.Exit(1)
    sig = doc["signature"]
    if ledger is not None:
        _require_dir(ledger)
        expected = fingerprint(load_public_key(ledger))
        if fp != expected:
            _failed(f"{path}: signed with key {fp}, not the ledger's key {expected}")
            raise typer.Exit(1)
    out_console.print(
        f"[green]valid signature[/green]: key {fp}, ledger head {escape(str(sig['ledger_head']))}",
        highlight=False,
    )


@ledger_app.command("statement")
def statement_cmd(
    folder: DirArg,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Tenant name.")] = None,
    job: Annotated[int | None, typer.Option("--job", help="Job id.")] = None,
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Folder for the JSON and HTML files.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the statement JSON.")] = False,
) -> None:
    """A signed statement (JSON + printable bilingual HTML) for a tenant or a job."""
    from greendispatch.ledger.record import STATEMENTS, slug, statement_for, write_signed

    _require_dir(folder)
    if (tenant is None) == (job is None):
        raise InputError("give exactly one of --tenant T or --job J")
    from greendispatch.cli.folders import folder_arg

    out_dir = folder_arg(out, "--out") if out is not None else None
    with err_console.status("verifying the ledger and building the statement..."):
        doc = statement_for(folder, tenant=tenant, job=job)
    target = out_dir or folder / STATEMENTS
    if target.exists() and not target.is_dir():
        what = "--out" if out is not None else "the statements folder"
        raise InputError(Problem(str(target), None, "", f"exists and is not a folder ({what})"))
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Problem(str(target), None, "", f"cannot create: {exc}")) from None
    stem = target / (f"tenant-{slug(tenant)}" if tenant is not None else f"job-{job}")
    try:
        path = write_signed(doc, stem)
    except OSError as exc:
        raise InputError(
            Problem(str(target), None, "", f"cannot write: {os_reason(exc)}")
        ) from None
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
        markup=False,
    )
