"""One error base for everything the user can get wrong; the CLI catches it once (exit status 2)."""

from __future__ import annotations


class RepoAutomationError(Exception):
    """Base of every error this package raises on purpose."""

    def diagnostics(self) -> str:
        """Human-readable help: what went wrong and how to fix it."""
        return str(self)


class ConfigError(RepoAutomationError):
    """The configuration file (or an input) is invalid. Carries one line per problem."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])

    def diagnostics(self) -> str:
        lines = [str(self)]
        lines.extend(f"  - {p}" for p in self.problems)
        return "\n".join(lines)


class UsageError(RepoAutomationError):
    """A command-line flag or an action input is invalid."""


class SourceSkipped(RepoAutomationError):
    """Raised by a collector, scanner or gate that has nothing to do here (not a failure)."""


class NothingToScan(SourceSkipped):
    """A skip with nothing missed: the stage looked and its scope was empty (no Python files, no manifests,
    a pull request that changed none). A required scanner that skips this way has not left a gap."""


class SourceFailed(RepoAutomationError):
    """Raised by a stage that tried and failed, with a reason fit for the report (one line) and, optionally,
    the full text behind it (`detail`: a tool's stderr, every failed part), which only the JSON report holds."""

    def __init__(self, reason: str, *, detail: str = "") -> None:
        super().__init__(reason)
        self.detail = detail
