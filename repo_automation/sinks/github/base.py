"""The base of the GitHub sinks: each is handed the run's one GitHubClient by the wiring (or None and why)."""

from __future__ import annotations

from repo_automation.errors import SourceSkipped
from repo_automation.github.client import GitHubClient
from repo_automation.stages import Sink

NO_CLIENT = "no GitHub repository or credentials"


class GitHubSink(Sink):
    """A sink that reads and writes through the run's GitHubClient (conditional GETs: a settled rerun reads
    for free).

    Built with `skip_reason` when it has nothing to do here, or without a client (`skip_reason` then says
    why there is none); delivering then reports it skipped."""

    def __init__(self, *, client: GitHubClient | None, repository: str | None, skip_reason: str | None = None
                 ) -> None:
        self.client = client
        self.repository = repository
        self.skip_reason = skip_reason

    def connected(self, reason: str | None = None) -> tuple[GitHubClient, str]:
        """The client and repository to work on; SourceSkipped with the reason when this sink has none."""
        why = self.skip_reason or reason
        if why or self.client is None or not self.repository:
            raise SourceSkipped(why or NO_CLIENT)
        return self.client, self.repository
