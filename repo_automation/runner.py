"""The GitHub Actions runner contract: workflow commands, $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, safe.directory.

Pure helpers build the text; the few I/O functions only append to the files the runner names. Escaping
follows GitHub's toolkit (@actions/core): in a command's message `%`, CR and LF become %25, %0D, %0A; in a
property value also `:` and `,` become %3A and %2C. Multi-line outputs use `name<<DELIMITER` with a random
delimiter that cannot occur in the value.
"""

from __future__ import annotations

import logging
import secrets
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

log = logging.getLogger(__name__)

SUMMARY_LIMIT_BYTES = 1024 * 1024  # the runner refuses a step summary above 1 MiB
TRUNCATION_NOTE = ("\n\n---\n\n> [!WARNING]\n> This summary was cut to stay under GitHub's 1 MiB limit. "
                   "The full report is in the report files (upload them with actions/upload-artifact).\n")
SHORT_TRUNCATION_NOTE = "\n(summary cut at 1 MiB: see the report files)\n"


def escape_data(value: object) -> str:
    """Escape a workflow command's message."""
    s = "" if value is None else str(value)
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: object) -> str:
    """Escape a workflow command's property value."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: object = "", **properties: object) -> str:
    """`::name k=v,k=v::message`, escaped; properties whose value is None are left out."""
    props = ",".join(f"{k}={escape_property(v)}" for k, v in properties.items() if v is not None and v != "")
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotation(level: str, message: str, *, file: str | None = None, line: int | None = None,
               end_line: int | None = None, col: int | None = None, title: str | None = None) -> str:
    """An ::error / ::warning / ::notice annotation, attached to a file and line when given."""
    if level not in ("error", "warning", "notice"):
        raise ValueError(f"annotation level must be error, warning or notice, not {level!r}")
    return command(level, message, file=file, line=line, endLine=end_line, col=col, title=title)


def add_mask(value: str) -> list[str]:
    """::add-mask:: lines for a secret: the whole value and, for a multi-line one (a PEM key), each line."""
    if not value:
        return []
    out = [command("add-mask", value)]
    if "\n" in value or "\r" in value:
        for line in value.replace("\r", "\n").split("\n"):
            if line.strip():
                out.append(command("add-mask", line.strip()))
    return out


def group(title: str) -> str:
    return command("group", title)


def endgroup() -> str:
    return command("endgroup")


def format_output(name: str, value: object, *, delimiter: str | None = None) -> str:
    """One entry for $GITHUB_OUTPUT in the delimiter form, which carries any value (multi-line too)."""
    if not name or any(c in name for c in "\r\n=<"):
        raise ValueError(f"invalid output name {name!r}")
    text = "" if value is None else str(value)
    delim = delimiter or f"ghadelimiter_{secrets.token_hex(16)}"
    while delim in text or delim in name:  # an attacker-chosen value cannot end the block early
        delim = f"ghadelimiter_{secrets.token_hex(16)}"
    return f"{name}<<{delim}\n{text}\n{delim}\n"


def write_outputs(path: Path, outputs: Mapping[str, object]) -> None:
    """Append every output to the $GITHUB_OUTPUT file."""
    text = "".join(format_output(k, v) for k, v in outputs.items())
    with path.open("a", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def fit_summary(markdown: str, *, limit: int = SUMMARY_LIMIT_BYTES, note: str = TRUNCATION_NOTE) -> str:
    """The summary cut at a line boundary so that it (with the note) stays within `limit` UTF-8 bytes."""
    data = markdown.encode("utf-8")
    if len(data) <= limit:
        return markdown
    if len(note.encode("utf-8")) > limit:  # almost nothing left: the short note alone, or nothing
        note = SHORT_TRUNCATION_NOTE if len(SHORT_TRUNCATION_NOTE.encode("utf-8")) <= limit else ""
    budget = max(0, limit - len(note.encode("utf-8")))
    head = data[:budget].decode("utf-8", errors="ignore")
    cut = head.rfind("\n")
    head = head[:cut] if cut > 0 else head
    if head.count("```") % 2:  # do not leave a code fence (the trend chart) open
        head = head[: head.rfind("```")]
    still_open = head.count("<details>") - head.count("</details>")
    closing = "\n\n</details>" * max(0, still_open)  # the note outside every folded block
    if closing and len((head + closing + note).encode("utf-8")) > limit:
        head = head[: max(0, len(head) - len(closing))]
        head = head[: head.rfind("\n")] if "\n" in head else head
        closing = "\n\n</details>" * max(0, head.count("<details>") - head.count("</details>"))
    return head + closing + note


def write_summary(path: Path, markdown: str, *, limit: int = SUMMARY_LIMIT_BYTES) -> int:
    """Append the summary to $GITHUB_STEP_SUMMARY within what is left of the limit; returns bytes written."""
    used = path.stat().st_size if path.exists() else 0
    text = fit_summary(markdown, limit=max(0, limit - used))
    if not text:
        return 0
    data = text.encode("utf-8")
    with path.open("ab") as fh:
        fh.write(data)
    return len(data)


def add_safe_directory(workspace: Path, *, timeout: float = 10.0, env: Mapping[str, str] | None = None) -> bool:
    """`git config --global --add safe.directory <workspace>` unless already there. False if git failed.

    The workspace of a Docker action is owned by another uid, and git refuses to work in it otherwise.
    """
    target = str(workspace)
    run_env = dict(env) if env is not None else None
    try:
        have = subprocess.run(["git", "config", "--global", "--get-all", "safe.directory"], capture_output=True,
                              text=True, timeout=timeout, check=False, env=run_env)
        if target in have.stdout.splitlines():
            return True
        proc = subprocess.run(["git", "config", "--global", "--add", "safe.directory", target],
                              capture_output=True, text=True, timeout=timeout, check=False, env=run_env)
    except (OSError, subprocess.TimeoutExpired) as e:
        log.warning("could not mark %s as a git safe.directory: %s", target, e)
        return False
    if proc.returncode != 0:
        log.warning("could not mark %s as a git safe.directory: %s", target, proc.stderr.strip())
        return False
    return True


def mask_lines(values: Iterable[str]) -> list[str]:
    """::add-mask:: lines for every secret value."""
    return [line for v in values for line in add_mask(v)]


def is_actions(env: Mapping[str, str]) -> bool:
    """True inside a GitHub Actions job (or anything that gave us an outputs file)."""
    return env.get("GITHUB_ACTIONS", "").lower() == "true" or bool(env.get("GITHUB_OUTPUT"))


def run_link(env: Mapping[str, str]) -> str | None:
    """The URL of this workflow run (GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID), None outside Actions."""
    server, repo, run = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
    if server and repo and run:
        return f"{server.rstrip('/')}/{repo}/actions/runs/{run}"
    return None
