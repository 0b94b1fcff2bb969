"""What a ratchet gate compares with: the last stored run of the metrics history.

`history_baseline(...)` reads, read-only, each metric's most recent value stored before this run (a store
that does not exist yet answers nothing, and is not created). A gate calls it only when its threshold is
missed in ratchet mode, so a run that meets its thresholds never opens the store. On a pull request the
complexity ratchet compares with the pull request's base instead (collectors/complexity_change.py), and
the coverage ratchet with the last stored run (in the usual set-up, the default branch's scheduled runs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from repo_automation.history import open_store


@dataclass(frozen=True, slots=True, kw_only=True)
class Baseline:
    """The values a ratchet compares with, and where they come from (shown in the gate's message)."""

    label: str  # e.g. "the last stored run (2026-05-01 06:00 UTC)"
    values: Mapping[str, float]


BaselineReader = Callable[[Sequence[str]], Baseline | None]  # None: nothing stored yet (raises HistoryError)


def history_baseline(target: str, workspace: Path, *, repository: str, now: datetime) -> BaselineReader:
    """The last stored run of `repository` before `now`, in the history store `target`."""
    def read(names: Sequence[str]) -> Baseline | None:
        with open_store(target, workspace, readonly=True) as store:
            stored = store.latest_before(list(names), now, repository=repository)
        if not stored:
            return None
        when = max(v.timestamp for v in stored.values())
        return Baseline(label=f"the last stored run ({when:%Y-%m-%d %H:%M} UTC)",
                        values={name: v.value for name, v in stored.items()})

    return read


def no_baseline(names: Sequence[str]) -> Baseline | None:
    """A reader with nothing stored (tests, and a run without a history target)."""
    return None
