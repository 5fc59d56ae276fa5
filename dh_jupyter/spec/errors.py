"""The error a bad run spec raises, carrying every problem at once.

A user who fixes one field only to be told about the next is a user who
stops trusting the tool, so parsing collects every problem into one
``SpecError``. Each problem is itself a ``SpecError`` with the dotted path of
the field (``volumes[1].mount_path``) and one sentence naming the bad value
and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dh_jupyter.errors import DhJupyterError


class SpecError(ValueError, DhJupyterError):
    """A run spec, flag or form value that cannot be used as it is.

    ``field`` is the dotted path of the first offending place, with list
    indices in brackets; ``problem`` is the sentence about it; ``errors``
    holds every problem found, each a ``SpecError`` of its own.
    """

    def __init__(
        self, field: str, problem: str, errors: Sequence[SpecError] = ()
    ) -> None:
        self.field = field
        self.problem = problem
        self.errors: tuple[SpecError, ...] = tuple(errors) or (self,)
        super().__init__(self._text())

    @classmethod
    def combine(cls, errors: Iterable[SpecError]) -> SpecError:
        """One error holding all of ``errors`` (flattened), first one leading."""
        flat = [inner for error in errors for inner in error.errors]
        first = flat[0]
        return cls(first.field, first.problem, flat)

    def _text(self) -> str:
        lines = [
            f"{error.field}: {error.problem}" if error.field else error.problem
            for error in self.errors
        ]
        if len(lines) == 1:
            return lines[0]
        return f"{len(lines)} problems in the run spec:\n" + "\n".join(
            f"- {line}" for line in lines
        )
