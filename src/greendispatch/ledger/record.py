"""Write a run's green-power ledger and signed statements; rebuild a run for job statements.

``simulate --ledger DIR`` records one policy's run (``green-first`` if it ran, else the first):
a genesis entry with everything needed to reproduce the run, one entry per hub-hour (issued
certificates with their status, storage, claims), one per hub-month (GECs), then signed tenant
statements in ``DIR/statements/``. The genesis lists the tenants and records, beside the
request, the SHA-256 of its scenario (and trace) file. ``ledger statement --job J`` refuses when
one of those files is missing or its SHA-256 differs from the recorded one, re-runs the recorded
request (the simulator is deterministic), checks that the re-computed claims equal the ledger's
(when they do not, the data folder or the program changed), takes the GECs the ledger records,
and signs the job's statement.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greendispatch.errors import InputError, Problem
from greendispatch.ledger.accounting import Accounting, account
from greendispatch.ledger.chain import (
    HEAD_FILE,
    KEY_FILE,
    LEDGER_FILE,
    PUB_FILE,
    LedgerWriter,
    fingerprint,
    iter_entries,
    load_key,
    load_or_create_key,
    load_public_key,
    sign_document,
    statement_signer,
    verify_ledger,
)
from greendispatch.ledger.gec import recorded_registry
from greendispatch.ledger.matching import FACILITY, check_beneficiary
from greendispatch.ledger.reader import entry_body
from greendispatch.ledger.statements import job_statement, tenant_statement
from greendispatch.paths import os_reason, resolved, writable_folder
from greendispatch.report.statement import write_statement_html

if TYPE_CHECKING:
    from greendispatch.workload.jobs import JobTable

STATEMENTS = "statements"


def slug(name: str) -> str:
    """A file-name-safe form of a beneficiary name (keeps CJK letters)."""
    return re.sub(r"[^\w.-]+", "_", name).strip("_") or "unnamed"


def request_record(req: Any) -> dict[str, Any]:
    """The simulation request as JSON, with paths made absolute so it can be re-run."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(req):
        v = getattr(req, f.name)
        if isinstance(v, Path):
            v = str(v.resolve())
        elif f.name == "scenario" and Path(str(v)).exists():
            v = str(Path(str(v)).resolve())
        if f.name in ("out", "extra"):
            continue
        out[f.name] = v
    return out


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_INPUTS = ("scenario", "trace")


def _sha256_now(key: str, name: str) -> str | None:
    """SHA-256 of the scenario or trace ``name`` as it is now: of a file's bytes, or of a
    built-in scenario's text; None when the file is missing (or cannot be read)."""
    from greendispatch.scenario.loader import builtin_names, builtin_text

    if key == "scenario" and not Path(name).is_absolute() and name in builtin_names():
        return hashlib.sha256(builtin_text(name).encode("utf-8")).hexdigest()
    try:
        return file_sha256(Path(name))
    except OSError:
        return None


def input_hashes(record: dict[str, Any]) -> dict[str, str | None]:
    """``scenario_sha256`` (and ``trace_sha256`` with a trace) of a recorded request, now."""
    return {
        f"{key}_sha256": _sha256_now(key, str(record[key])) for key in _INPUTS if record.get(key)
    }


def check_inputs_as_recorded(folder: Path, request: dict[str, Any]) -> None:
    """Before a re-run: InputError when an input file of the recorded request (the scenario, a
    trace) is missing, or when its SHA-256 differs from the one recorded. A changed scenario
    can give the same claims (under ``baseline`` they do not depend on intensity) and other
    carbon, so a re-run from it is refused whatever it would give. A ledger recorded before the
    hashes were kept is checked only for missing files."""
    for key in _INPUTS:
        name = str(request.get(key) or "")
        if not name:
            continue
        was, is_now = request.get(f"{key}_sha256"), _sha256_now(key, name)
        label, fix = f"the {key} file {name}", "restore it as recorded"
        if not Path(name).is_absolute():  # a built-in's text comes with the program
            label, fix = f"the built-in {key} {name}", "use the version that recorded it"
        if is_now is None:
            recorded = f" (recorded SHA-256 {was})" if isinstance(was, str) else ""
            why = f"{label} the ledger was recorded from is missing{recorded}"
        elif isinstance(was, str) and is_now != was:
            why = (
                f"{label} changed since the ledger was written (SHA-256 recorded {was}, now "
                f"{is_now}): {fix}"
            )
        else:
            continue
        raise InputError(
            Problem(
                str(folder / LEDGER_FILE),
                1,
                f"body.request.{key}",
                f"{why}; a statement re-runs the recorded request",
            )
        )


def changed_inputs(request: dict[str, Any]) -> str:
    """Why a re-run gives other claims than the ledger: the recorded input files were checked
    before it (:func:`check_inputs_as_recorded`), so the data folder or the program changed;
    ledgers recorded before input hashes were kept cannot tell which input."""
    if not isinstance(request.get("scenario_sha256"), str):
        return (
            "inputs changed since it was written; this ledger was recorded before input hashes "
            "were kept, so which one (scenario, trace, data folder, program) cannot be told"
        )
    return (
        "the scenario and trace are as recorded (same SHA-256), so the data folder or the "
        "program changed since the ledger was written"
    )


def check_new_ledger_folder(folder: Path) -> list[Path]:
    """A ledger folder records one run: a second would issue the same asset-hours and GEC ids
    again. Raise InputError for a file, a folder that holds a ledger's files from another run
    (a recorded ledger, a head, statements; an empty ledger or statements folder a failed
    attempt left is fine, and so are other files: it may be the --out folder), a broken key
    pair, or a folder that cannot be created (parents too) or written to. Call it before a long
    run: it creates the folder and writes (and deletes) a temporary file there; returns the
    folders it created."""
    try:
        folder = resolved(folder)  # what the system will write to ("typo/../keep" is keep)
        _check_new_ledger_folder(folder)
        return writable_folder(folder)
    except OSError as exc:
        raise InputError(
            Problem(str(folder), None, "", f"cannot create or write: {os_reason(exc)}")
        ) from None


def _check_new_ledger_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError(Problem(str(folder), None, "", "exists and is not a folder"))
    if not folder.exists():
        return
    existing = folder / LEDGER_FILE
    if existing.exists() and not existing.is_file():
        raise InputError(Problem(str(existing), None, "", "exists and is not a file"))
    if existing.exists() and existing.stat().st_size:
        raise InputError(
            Problem(str(folder), None, "", "already holds a recorded run; give a new folder")
        )
    statements = folder / STATEMENTS
    if statements.exists() and not statements.is_dir():
        raise InputError(Problem(str(statements), None, "", "exists and is not a folder"))
    clash = [name for name in (HEAD_FILE, f"{HEAD_FILE}.tmp") if (folder / name).exists()]
    if statements.is_dir() and any(statements.iterdir()):
        clash.append(f"{STATEMENTS}/")
    if clash:
        raise InputError(
            Problem(str(folder), None, "", f"holds {', '.join(clash)} of another run; give a "
                    "new folder")
        )  # fmt: skip
    if (folder / KEY_FILE).exists() or (folder / PUB_FILE).exists():
        load_key(folder)  # a key left there must be whole and match: it will sign this run


def check_priority_tenants(jobs: JobTable, priority: frozenset[str]) -> None:
    """Raise InputError when a priority tenant is not a tenant of ``jobs`` (a JobTable): the
    ledger's accounting would refuse it after the run. Call it before a long run."""
    tenants = tuple(jobs.tenants)
    unknown = sorted(set(priority) - set(tenants))
    if unknown:
        raise InputError(
            f"priority tenants {', '.join(unknown)} are not in the job table (tenants: "
            f"{', '.join(tenants)})"
        )


def chosen_policy(runs: dict[str, Any], wanted: str | None) -> str:
    if wanted is not None:
        if wanted not in runs:
            raise InputError(
                f"--ledger-policy '{wanted}' was not simulated (ran: {', '.join(runs)})"
            )
        return wanted
    return "green-first" if "green-first" in runs else next(iter(runs))


def record_run(sim: Any, req: Any, folder: Path, *, policy: str | None = None,
               priority_tenants: frozenset[str] = frozenset()) -> dict[str, Any]:  # fmt: skip
    """Account one run of ``sim``, append it to the ledger in ``folder`` and write signed tenant
    statements (JSON and HTML). Returns a summary for the caller to print."""
    name = chosen_policy(sim.runs, policy)
    check_new_ledger_folder(folder)
    run = sim.runs[name]
    check_priority_tenants(run.jobs, priority_tenants)
    acct = account(
        run,
        scenario_name=sim.loaded.scenario.name,
        priority_tenants=priority_tenants,
        hubs=sim.loaded.scenario.hubs,
    )
    genesis = {
        "type": "genesis",
        "scenario": sim.loaded.scenario.name,
        "policy": name,
        "issuer": acct.issuer,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "request": (rec := request_record(req)) | input_hashes(rec) | {"ledger_policy": name},
        "priority_tenants": sorted(priority_tenants),
        "tenants": list(acct.tenants),
        "basis": "hourly matching; location-based and market-based carbon",
    }
    with LedgerWriter(folder) as writer:
        writer.append(genesis)
        n = writer.extend(acct.entries())
    head = writer.last
    key = load_or_create_key(folder)
    out = folder / STATEMENTS
    out.mkdir(exist_ok=True)
    written = []
    for tenant in acct.tenants:
        doc = sign_document(tenant_statement(acct, tenant), key, head)
        written.append(write_signed(doc, out / f"tenant-{slug(tenant)}"))
    return {"policy": name, "entries": n + 1, "head": head, "statements": written, "acct": acct}


def write_signed(doc: dict[str, Any], stem: Path) -> Path:
    """Write ``stem.json`` (the signed statement) and ``stem.html`` (printable, bilingual)."""
    path = stem.with_suffix(".json")
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    write_statement_html(doc, stem.with_suffix(".html"))
    return path


def read_genesis(folder: Path) -> dict[str, Any]:
    path = folder / LEDGER_FILE
    for line_no, raw in iter_entries(path):
        body = entry_body(path, line_no, raw)
        if body.get("type") != "genesis":
            raise InputError(Problem(str(path), line_no, "", "the first entry is not a genesis"))
        request = body.get("request")
        if not isinstance(request, dict) or not isinstance(request.get("ledger_policy"), str):
            raise InputError(
                Problem(
                    str(path),
                    line_no,
                    "body.request",
                    "expected the recorded simulation request with its ledger_policy",
                )
            )
        return body
    raise InputError(Problem(str(path), None, "", "the ledger is empty"))


@dataclasses.dataclass
class Recorded:
    """What a ledger records that statements are checked against: Wh claimed per beneficiary
    (summed from every entry that holds claims: any claim in the ledger must be one the re-run
    makes) and the ``gec-month`` entries as (line number, body)."""

    claims: Counter[str]
    gec_months: list[tuple[int, dict[str, Any]]]
    # Per ``hour`` entry, in ledger order: (line, hub, hour start, load Wh, grid Wh, intensity).
    hours: list[tuple[int, str, str, Any, Any, Any]] = dataclasses.field(default_factory=list)


def read_recorded(folder: Path) -> Recorded:
    """The claims and GEC months of the ledger in ``folder``; InputError naming a bad line."""
    path = folder / LEDGER_FILE
    out = Recorded(Counter(), [])
    for line_no, raw in iter_entries(path):
        body = entry_body(path, line_no, raw)
        if body.get("type") == "gec-month":
            out.gec_months.append((line_no, body))
        elif body.get("type") == "hour":
            out.hours.append(
                (line_no, *(body.get(k) for k in ("hub", "hour_start", "load_wh", "grid_wh",
                                                   "ci_g_per_kwh")))
            )  # fmt: skip
        try:
            for c in body.get("claims", ()):
                out.claims[str(c["beneficiary"])] += int(c["wh"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InputError(
                Problem(str(path), line_no, "body.claims", "expected a list of {beneficiary, wh}")
            ) from None
    return out


def _check_hours_as_recorded(
    acct: Accounting, recorded: Recorded, path: Path, request: dict[str, Any]
) -> None:
    """The re-run's load, grid import and intensity of every hub-hour must be the ledger's:
    the claims alone do not show an edited data file (a baseline run's claims do not depend on
    the grid's intensity, which the statement's carbon does). InputError at the first that
    differs."""
    hh, n_h = acct.hub_hours, len(acct.hub_ids)
    n_t = hh["load_wh"].shape[1] if n_h else 0
    if len(recorded.hours) != n_h * n_t:
        raise InputError(
            Problem(str(path), None, "", f"the ledger holds {len(recorded.hours):,} hub-hours, "
                    f"the re-run {n_h * n_t:,}: {changed_inputs(request)}")
        )  # fmt: skip
    starts = acct.axis.start
    for i, (line, hub, start, load, grid, ci) in enumerate(recorded.hours):
        t, h = divmod(i, n_h)  # written hour by hour, every hub in each
        now = (acct.hub_ids[h], starts[t], int(hh["load_wh"][h, t]), int(hh["grid_wh"][h, t]))
        ci_now = float(hh["ci_g_per_kwh"][h, t])
        same_ci = isinstance(ci, int | float) and abs(ci - ci_now) <= 1e-9 * max(1.0, abs(ci))
        if (hub, start, load, grid) != now or not same_ci:
            raise InputError(
                Problem(str(path), line, "body", f"hub {hub} at {start}: the ledger records "
                        f"load {load} Wh, grid {grid} Wh, {ci} g/kWh; the re-run gives "
                        f"{now[2]} Wh, {now[3]} Wh, {ci_now} g/kWh at hub {now[0]}, {now[1]}: "
                        f"{changed_inputs(request)}")
            )  # fmt: skip


def rebuild(folder: Path) -> tuple[Accounting, dict[str, Any]]:
    """Re-run the recorded request and account it again (deterministic)."""
    from greendispatch.sim.runner import SimulationRequest, prepare, run_policies

    genesis = read_genesis(folder)
    rec = dict(genesis["request"])
    policy = rec.pop("ledger_policy")
    fields = {f.name for f in dataclasses.fields(SimulationRequest)}
    kw = {k: v for k, v in rec.items() if k in fields}
    kw["policies"] = policy
    try:
        for key in ("trace", "data_dir"):
            if kw.get(key):
                kw[key] = Path(kw[key])
        req = SimulationRequest(**kw)
    except (TypeError, ValueError) as exc:
        raise InputError(
            Problem(str(folder / LEDGER_FILE), 1, "body.request", f"cannot be re-run: {exc}")
        ) from None
    priority = genesis.get("priority_tenants", [])
    if not isinstance(priority, list) or not all(isinstance(t, str) for t in priority):
        raise InputError(
            Problem(
                str(folder / LEDGER_FILE), 1, "body.priority_tenants", "expected a list of names"
            )
        )
    try:
        sim = prepare(req)
        run_policies(sim, req)
        run = sim.runs[policy]
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        # The chain verified, so these bytes were signed; still a value of the wrong type there
        # (an old or hand-made ledger) is bad input, not a crash.
        raise InputError(
            Problem(str(folder / LEDGER_FILE), 1, "body.request", f"cannot be re-run: {exc!r}")
        ) from None
    acct = account(
        run,
        scenario_name=sim.loaded.scenario.name,
        priority_tenants=frozenset(priority),
        hubs=sim.loaded.scenario.hubs,
    )
    return acct, genesis


def _saved_statement(path: Path, folder: Path) -> dict[str, Any] | None:
    """A statement written before, when it is intact and signed by the ledger's key; else None
    (the caller builds and signs it again)."""
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    signer, _ = statement_signer(doc)
    try:
        ours = fingerprint(load_public_key(folder))
    except InputError:
        return None
    return doc if signer is not None and signer == ours else None


def statement_for(folder: Path, *, tenant: str | None, job: int | None) -> dict[str, Any]:
    """A signed statement for a tenant or a job, checked against the verified ledger. Its GECs
    are the ones the ledger records."""
    report = verify_ledger(folder)
    if not report.ok:
        raise InputError(
            Problem(str(folder), None, "", f"ledger does not verify: {report.problems[0]}")
        )
    if tenant is not None:
        doc = _saved_statement(folder / STATEMENTS / f"tenant-{slug(tenant)}.json", folder)
        if (
            doc is not None
            and doc.get("beneficiary") == tenant
            and doc["signature"]["ledger_head"] == report.head_hash
        ):
            return doc
    genesis = read_genesis(folder)
    listed = genesis.get("tenants")
    if tenant is not None and isinstance(listed, list) and all(isinstance(t, str) for t in listed):
        # Said before the re-run; a ledger recorded before the genesis listed its tenants is
        # checked by the statement (the same check, on the re-run's beneficiaries).
        check_beneficiary(tenant, [*listed, FACILITY])
    check_inputs_as_recorded(folder, genesis["request"])
    acct, _ = rebuild(folder)
    recorded = read_recorded(folder)
    recomputed = Counter(
        {
            acct.beneficiaries[b]: int(w)
            for b, w in acct.claims.groupby("beneficiary")["wh"].sum().items()
        }
    )
    if +recorded.claims != +recomputed:
        raise InputError(
            Problem(
                str(folder),
                None,
                "",
                "re-running the recorded request gives other claims than the ledger holds: "
                + changed_inputs(genesis["request"]),
            )
        )
    _check_hours_as_recorded(acct, recorded, folder / LEDGER_FILE, genesis["request"])
    gec = None
    if recorded.gec_months:
        gec = recorded_registry(acct.hub_ids, recorded.gec_months, str(folder / LEDGER_FILE))
    acct = dataclasses.replace(acct, gec=gec)
    # The statements raise InputError for an unknown tenant or job id.
    doc = (
        tenant_statement(acct, tenant) if tenant is not None else job_statement(acct, int(job or 0))
    )
    return sign_document(doc, load_key(folder), report.head_hash)
