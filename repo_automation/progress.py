"""What a person watching a run sees while it runs: each stage (collector, scanner, gate, sink) as it starts and
ends, with its status and how long it took.

- On a terminal: a live view drawn with `rich` (imported only then, so `--help` stays fast).
- In GitHub Actions: a `::group::` per stage when it ends (stages run concurrently, so a group is printed
  whole), holding its status, time and reason; the job summary has the step-timing table.
- Otherwise (a pipe, a file, cron): nothing.

The pipeline calls `started` and `finished` from its worker threads; every implementation is thread-safe.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from repo_automation import runner
from repo_automation.domain import SourceResult, Status
from repo_automation.redaction import run_secrets


class Progress:
    """Sees nothing and shows nothing: the default, and what a run without a terminal gets."""

    def started(self, kind: str, name: str) -> None:
        """A stage began."""

    def finished(self, result: SourceResult) -> None:
        """A stage ended (ok, skipped or failed, with its time)."""

    def close(self) -> None:
        """The run is over: leave the screen as it should stay."""


NO_PROGRESS = Progress()


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def _inert(line: str) -> str:
    """A line of a tool's text that the runner cannot take for a workflow command (`::set-env::…`)."""
    return line.replace("::", ": :")


class ActionsProgress(Progress):
    """`::group::` per stage in the Actions log, printed when the stage ends."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def finished(self, result: SourceResult) -> None:
        # the log group has room for the full text behind the one-line reason (a tool's stderr)
        text = [f"{result.status.value}: {result.detail or result.reason}"] if result.reason else []
        text += [f"notice: {n}" for n in result.notices]
        lines = [runner.group(f"{result.kind} {result.name}: {result.status.value} in "
                              f"{_seconds(result.duration_s)}")]
        lines += [_inert(line) for t in text for line in run_secrets().redact(t).splitlines()]
        lines.append(f"took {_seconds(result.duration_s)}")
        lines.append(runner.endgroup())
        with self.lock:
            self.stream.write("".join(line + "\n" for line in lines))
            self.stream.flush()


@dataclass(slots=True)
class _Row:
    kind: str
    name: str
    start: float
    result: SourceResult | None = None


_MARK = {Status.OK: ("done", "green"), Status.SKIPPED: ("skipped", "yellow"), Status.FAILED: ("failed", "red")}


class LiveProgress(Progress):
    """A table of the stages on the terminal, redrawn a few times a second until the run ends."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.rows: list[_Row] = []
        self.live: Any = None
        self.began = False
        self.moved: list[tuple[logging.StreamHandler[Any], Any]] = []

    def _table(self) -> Any:
        from rich.table import Table  # lazily: rich is only needed on a terminal

        table = Table(title="repo-automation", title_justify="left", show_edge=False, pad_edge=False)
        for column in ("stage", "name", "status", "time"):
            table.add_column(column, justify="right" if column == "time" else "left")
        now = time.monotonic()
        with self.lock:
            rows = list(self.rows)
        for row in rows:
            if row.result is None:
                status, took = "[cyan]running[/]", now - row.start
            else:
                word, colour = _MARK[row.result.status]
                status, took = f"[{colour}]{word}[/]", row.result.duration_s
            table.add_row(row.kind, row.name, status, _seconds(took))
        return table

    def _start_live(self) -> None:
        from rich.console import Console  # lazily: rich is only needed on a terminal
        from rich.live import Live

        self.live = Live(console=Console(file=self.stream), get_renderable=self._table, refresh_per_second=8,
                         transient=False, redirect_stdout=True, redirect_stderr=True)
        self.live.start()
        # Log lines written while the view is up go through rich too, above the table, not across it.
        for handler in logging.getLogger("repo_automation").handlers:
            if type(handler) is logging.StreamHandler and handler.stream in (sys.__stderr__, self.stream):
                self.moved.append((handler, handler.setStream(sys.stderr)))

    def started(self, kind: str, name: str) -> None:
        with self.lock:
            self.rows.append(_Row(kind=kind, name=name, start=time.monotonic()))
            first, self.began = not self.began, True
        if first:
            self._start_live()

    def finished(self, result: SourceResult) -> None:
        with self.lock:
            row = next((r for r in self.rows if r.kind == result.kind and r.name == result.name and r.result is None),
                       None)
            if row is None:
                self.rows.append(_Row(kind=result.kind, name=result.name, start=time.monotonic(), result=result))
            else:
                row.result = result

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
        for handler, stream in self.moved:
            handler.setStream(stream)
        self.moved.clear()


def for_output(stream: TextIO, env: Mapping[str, str]) -> Progress:
    """The view this output can show: Actions' groups in a job, a live view on a terminal, else none."""
    if runner.is_actions(env):
        return ActionsProgress(sys.stdout)
    if stream.isatty() and env.get("TERM") != "dumb":
        return LiveProgress(stream)
    return NO_PROGRESS
