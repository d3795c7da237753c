"""Folders a command writes, made and checked before its long work; OS errors as reasons."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def os_reason(exc: OSError) -> str:
    """Why the system refused, without repeating the file name the caller already shows."""
    return exc.strerror or str(exc)


def resolved(path: Path) -> Path:
    """``path`` made absolute, symlinks and ".." resolved as the system will ("typo/../keep" is
    keep); OSError for a symlink loop (Python 3.11 raises RuntimeError there)."""
    try:
        return path.resolve()
    except RuntimeError:
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path)) from None


def writable_folder(path: Path) -> list[Path]:
    """Create ``path`` (and its missing parents) and check that a file can be written there.
    Returns the folders it created, outermost first, so that a command failing later can
    remove them (:func:`remove_if_empty`). Raises OSError, having removed what it made."""
    target = resolved(path)  # "typo/../keep" is keep: never count a folder that was there
    made: list[Path] = []
    p = target
    while not p.exists() and p != p.parent:
        made.insert(0, p)
        p = p.parent
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=target):
            pass
    except OSError:
        remove_if_empty(made)
        raise
    return made


def remove_if_empty(folders: Iterable[Path]) -> None:
    """Remove these folders, innermost first, where they are still empty."""
    for folder in reversed(list(folders)):
        with contextlib.suppress(OSError):
            folder.rmdir()
