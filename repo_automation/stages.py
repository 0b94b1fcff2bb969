"""The plug-in interfaces of the pipeline: collectors, scanners, gates and sinks.

Each has one required method. A stage with nothing to do raises SourceSkipped(reason); one that tried and
failed raises SourceFailed(reason) (any other exception is also reported as failed, with its type). The
pipeline turns both into a SourceResult: partial failure is data, never a crash. A collector or scanner
with something to tell the reader (a query that failed while others worked, files a tool could not read)
returns its items as `Noted(items, notices)`; the pipeline puts the notices on its SourceResult.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar, TypeVar

from repo_automation.context import RunContext
from repo_automation.domain import Action, Finding, GateResult, Metric, RunReport

T = TypeVar("T")


class Noted(list[T]):
    """A stage's items and the notices it wants the report to show, returned together (the pipeline never
    reads notices off the stage object). Equal to a plain list of the same items.

    `partial`: why the items are incomplete, when some parts of the stage failed while others worked (its
    first line is the reason, e.g. "2 of 12 queries failed: app.a, app.b"; the rest, each failed part with
    its error, the detail); the source is then `partial`, its items kept."""

    __slots__ = ("notices", "partial")

    def __init__(self, items: Iterable[T] = (), notices: Iterable[str] = (), *, partial: str = "") -> None:
        super().__init__(items)
        self.notices: tuple[str, ...] = tuple(notices)
        self.partial = partial


def notices_of(items: Sequence[object]) -> tuple[str, ...]:
    """The notices returned with `items` (none for a plain sequence)."""
    return items.notices if isinstance(items, Noted) else ()


def partial_of(items: Sequence[object]) -> str:
    """Why `items` are incomplete ("" when they are not, or for a plain sequence)."""
    return items.partial if isinstance(items, Noted) else ""


class Collector(ABC):
    """Reads one source and returns metrics. Never writes anywhere."""

    name: ClassVar[str]

    @abstractmethod
    def collect(self, ctx: RunContext) -> Sequence[Metric]: ...


class Scanner(ABC):
    """Runs one tool and returns normalised findings. Never writes anywhere but temp files."""

    name: ClassVar[str]

    @abstractmethod
    def scan(self, ctx: RunContext) -> Sequence[Finding]: ...


class Gate(ABC):
    """A policy over the collected metrics. A failed gate is a result, not an exception. A ratchet gate also
    reads its baseline, the last stored run of the metrics history (gates/baseline.py), and nothing else."""

    name: ClassVar[str]

    @abstractmethod
    def evaluate(self, metrics: Mapping[str, Metric], ctx: RunContext) -> GateResult: ...


class Sink(ABC):
    """The only code with side effects. In a dry run it performs nothing and describes what it would do."""

    name: ClassVar[str]

    @abstractmethod
    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]: ...
