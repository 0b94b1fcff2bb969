#!/usr/bin/env python3
"""What the Docker action runs: mask secrets, trust the workspace, then `repo-automation <command>`.

Inputs arrive as INPUT_<NAME> (hyphens kept). Every secret is masked (::add-mask::) before anything else
is printed, from the raw inputs, so even a bad input cannot echo one. A bad input ends the step with exit
status 2, an error annotation and a message on stderr, before anything is written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

EXIT_USAGE = 2


def main(env: Mapping[str, str] | None = None) -> int:
    environ = dict(os.environ if env is None else env)
    from repo_automation import runner
    from repo_automation.errors import RepoAutomationError
    from repo_automation.redaction import gather
    from repo_automation.settings import SECRET_VARIABLES, from_environment

    raw = gather(environ, SECRET_VARIABLES)  # as given, before any parsing
    for line in runner.mask_lines(raw):
        print(line)
    sys.stdout.flush()
    try:
        settings = from_environment(environ)
    except RepoAutomationError as e:
        message = e.diagnostics()
        print(runner.command("error", message, title="repo-automation: invalid input"), flush=True)
        print(f"repo-automation: error: {message}", file=sys.stderr, flush=True)
        return EXIT_USAGE
    derived = [v for v in gather(environ, SECRET_VARIABLES, [settings]) if v not in raw]  # e.g. history-db's password
    for line in runner.mask_lines(derived):
        print(line, flush=True)
    runner.add_safe_directory(settings.workspace, env=environ)

    from repo_automation.cli import main as cli_main

    return cli_main([settings.command], environ)


if __name__ == "__main__":
    sys.exit(main())
