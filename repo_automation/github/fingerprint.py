"""Stable fingerprints and the hidden markers that carry them in issue and comment bodies.

Everything the action writes on GitHub carries `<!-- repo-automation:fingerprint=… -->` so the next run
finds it again (and updates, closes or reopens it) instead of writing a duplicate. Outside text that goes
into a body is escaped (`<` becomes `&lt;`), so nobody can smuggle a marker in through a finding's title.
"""

from __future__ import annotations

import hashlib
import re

PREFIX = "<!-- repo-automation:fingerprint="
_MARKER = re.compile(r"<!-- repo-automation:fingerprint=([A-Za-z0-9._:/@+=-]{1,200}) -->")
_UNSAFE = re.compile(r"[^A-Za-z0-9._:/@+=-]+")
MAX_LEN = 120


def make_fingerprint(*parts: object) -> str:
    """A readable, marker-safe key from parts, e.g. ("code", "bandit", "B602", "app.py").

    Characters a marker cannot hold become '_'; a key longer than 120 characters keeps its start and ends
    with a hash of the whole, so it stays unique and stable.
    """
    raw = ":".join(str(p) for p in parts)
    safe = _UNSAFE.sub("_", raw).strip("_") or "empty"
    if len(safe) > MAX_LEN:
        digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]
        safe = safe[: MAX_LEN - 17] + "-" + digest
    return safe


def marker(fingerprint: str) -> str:
    if not _MARKER.fullmatch(f"{PREFIX}{fingerprint} -->"):
        raise ValueError(f"not a marker-safe fingerprint: {fingerprint!r}")
    return f"{PREFIX}{fingerprint} -->"


def find_fingerprint(body: str | None) -> str | None:
    """The fingerprint in a body (the last marker wins: ours is appended at the end), or None."""
    if not body:
        return None
    found = _MARKER.findall(body)
    return found[-1] if found else None


def with_marker(body: str, fingerprint: str) -> str:
    return f"{body.rstrip()}\n\n{marker(fingerprint)}\n"
