"""Project errors. Every error a user can cause is one of these, never a bare traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class GreenDispatchError(Exception):
    """Base class for errors that are reported to the user as a message."""

    exit_code: int = 1


@dataclass(frozen=True)
class Problem:
    """One problem in an input file: where it is and what was expected.

    ``str(problem)`` gives ``path:LINE: field.path: message``.
    """

    path: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class InputError(GreenDispatchError):
    """Bad user input (scenario, data file, trace, flag): one or more problems; exit code 2."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("<input>", None, "", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ScenarioError(InputError):
    """A scenario file or built-in scenario that does not validate."""


class DataFileError(InputError):
    """A data file (grid CSV, price CSV, weather JSON, trace) that is missing or malformed."""

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        column: str = "",
    ):
        super().__init__(Problem(str(path), line, column, message))
        self.path = str(path)
        self.line = line
        self.column = column


class ModelError(GreenDispatchError):
    """An internal consistency check failed (a bug or an impossible configuration)."""
