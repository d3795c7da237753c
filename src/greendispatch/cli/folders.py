"""The folders a command writes: named on the command line, checked against each other, made
and test-written before any long work, removed again (where the command made them and they
are still empty) if it fails, and checked afterwards for an earlier run's outputs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from greendispatch.errors import InputError
from greendispatch.paths import os_reason, remove_if_empty, resolved, writable_folder


def folder_arg(value: str, flag: str) -> Path:
    """A folder given on the command line; an empty one (an unset shell variable, say) is refused
    rather than read as the current folder."""
    if not value.strip():
        raise InputError(f"{flag}: expected a folder name (got an empty one)")
    return Path(value)


def check_overlap(out: Path, ledger: Path) -> None:
    """``--out`` and ``--ledger`` may be one folder, or the ledger a folder inside ``--out``
    under a name no output takes; anything else would have the two write over each other, and
    only after the run."""
    try:
        o, led = resolved(out), resolved(ledger)
    except OSError as exc:
        raise InputError(f"--out {out} or --ledger {ledger}: {os_reason(exc)}") from None
    if o == led:
        return
    if o.is_relative_to(led):
        raise InputError(f"--out {out} is inside --ledger {ledger}: give one folder or two apart")
    if led.is_relative_to(o):
        first = led.relative_to(o).parts[0]
        if first.endswith((".json", ".html", ".csv", ".tmp")) or first.startswith("."):
            raise InputError(f"--ledger {ledger} would take the place of {first} in --out {out}")


def out_folder(path: Path, flag: str = "--out") -> list[Path]:
    """Create an output folder now, before any long work, and check it can be written: a bad
    path is an input error at once, not a lost run. Returns the folders it created."""
    try:
        if path.exists() and not path.is_dir():
            raise InputError(f"{flag} {path} exists and is not a folder")
        return writable_folder(path)
    except OSError as exc:
        reason = os_reason(exc)
        raise InputError(f"{flag} {path}: cannot create or write the folder ({reason})") from None


@contextmanager
def removed_if_failed(made: list[Path]) -> Iterator[None]:
    """Remove the folders this command made (where still empty) if it fails: a failed command
    leaves no empty output folders behind."""
    try:
        yield
    except BaseException:
        remove_if_empty(made)
        raise


def earlier_outputs(folder: Path, written: list[Path]) -> list[str]:
    """The files in ``folder`` named as ``simulate`` names its per-policy tables
    (``jobs-POLICY.csv``, ``hub-slots-POLICY.csv`` for a known policy) that this run did not
    write (``written``): an earlier run's, which this command leaves in place."""
    from greendispatch.dispatch.policies import ORACLE, POLICIES
    from greendispatch.sim.runner import TABLE_STEMS

    ours = {f"{stem}-{name}.csv" for stem in TABLE_STEMS for name in (*POLICIES, ORACLE)}
    return sorted(n for n in ours - {p.name for p in written} if (folder / n).is_file())
