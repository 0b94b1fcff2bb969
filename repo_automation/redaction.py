"""Secrets: the one type, the run's one registry, the one place they are gathered and the one redaction.

- `Secret`: a string that never shows itself (masked in repr/str), revealed only on purpose.
- `gather`: every secret of a run, from the environment variables that hold one (the secret action inputs
  and variables the settings declare, the variables the configuration names), from the settings and the
  configuration (every `Secret`, every password in a URL) and, for each value that is a URL, its password
  as written and percent-decoded.
- `Secrets`: the registry of the run's secrets. The CLI starts one per run (`start_run`); what is learnt
  later (a GitHub App installation token) joins it with `register`, and, on a runner, is announced with
  ::add-mask::. The logging `MaskingFilter` reads it, the sinks redact what they write with it.
- `redact`: the one function that replaces secrets in text; `redact_url` shows a URL with its password
  replaced through it.
- `redact_marked`: secrets inside outside text (a finding's message or snippet) — every value of a known
  token shape (detect-secrets' plugins) and every value known to be secret — replaced by a marked redaction
  that names the type, length and a short hash (`marked`), so a reader can tell two secrets apart.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import fields, is_dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"
MIN_LENGTH = 4  # shorter values are not replaced in text (they would shred it), but still masked on a runner


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _in_json(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def redact(text: str, secrets: Iterable[str], *, forms: Iterable[Callable[[str], str]] = ()) -> str:
    """`text` with every secret replaced by ***: as it is, inside a JSON string, and in each of `forms` (e.g.
    escaped for Markdown or a workflow command). Longer values first, so no part of one is left showing."""
    return _replace(text, _variants(secrets, forms))


def _variants(secrets: Iterable[str], forms: Iterable[Callable[[str], str]]) -> list[str]:
    every: tuple[Callable[[str], str], ...] = (str, _in_json, *forms)
    return sorted({v for s in secrets if s for form in every if (v := form(s))}, key=len, reverse=True)


def _replace(text: str, variants: Iterable[str]) -> str:
    for v in variants:
        text = text.replace(v, MASK)
    return text


def url_passwords(url: str) -> list[str]:
    """The password inside a URL, as written and percent-decoded (none when it has none or is no URL)."""
    if "://" not in url:
        return []
    try:
        password = urlsplit(url).password
    except ValueError:  # not a URL after all (e.g. a bad port or bracket)
        return []
    return list(dict.fromkeys((password, unquote(password)))) if password else []


def with_passwords(value: str) -> list[str]:
    """A secret value and, when it is a URL, the password inside it (as written and percent-decoded)."""
    return list(dict.fromkeys((value, *url_passwords(value))))


def redact_url(url: str) -> str:
    """The URL as it may be shown: its password replaced by *** (user name, host and path kept)."""
    passwords = url_passwords(url)
    if not passwords:
        return url
    parts = urlsplit(url)
    userinfo, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{redact(userinfo, passwords)}@{host}"))


def gather(env: Mapping[str, str], variables: Iterable[str] = (), within: Iterable[object] = ()) -> list[str]:
    """Every secret value of a run, each once: the values of the environment `variables` that hold one, and
    every `Secret` and every password in a URL found `within` the given values (the settings, the
    configuration: dataclass fields, mappings and sequences are searched)."""
    values = [env[name] for name in variables if env.get(name)]
    for holder in within:
        values.extend(_found(holder))
    return list(dict.fromkeys(form for v in values for form in with_passwords(v)))


def _found(value: object) -> Iterator[str]:
    if isinstance(value, Secret):
        if value:
            yield value.reveal()
    elif isinstance(value, str):
        yield from url_passwords(value)
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _found(getattr(value, f.name))
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _found(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _found(v)


class Secrets:
    """The registry of a run's secrets. `announce` is told each value added after construction (on a runner:
    print its ::add-mask:: lines). Values shorter than MIN_LENGTH are not kept for redaction."""

    def __init__(self, values: Iterable[str] = (), *, announce: Callable[[str], None] | None = None) -> None:
        self._values: list[str] = []
        self._plain: list[str] = []  # their variants for `redact` without extra forms, longest first
        self._seen: set[str] = set()
        self._lock = threading.Lock()  # a token may be learnt in a stage's thread
        self._announce: Callable[[str], None] | None = None
        self.add(*values)
        self._announce = announce

    def add(self, *values: str) -> None:
        with self._lock:
            for v in values:
                if v and v not in self._seen:
                    self._seen.add(v)
                    if self._announce is not None:
                        self._announce(v)
                    if len(v) >= MIN_LENGTH:
                        self._values = [*self._values, v]  # new lists: a reader never sees one change
                        self._plain = _variants(self._values, ())

    def redact(self, text: str, *, forms: Iterable[Callable[[str], str]] = ()) -> str:
        """`redact(text, these secrets, forms=forms)`; without forms (every log record) from a cached list."""
        return redact(text, self._values, forms=forms) if forms else _replace(text, self._plain)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._values))

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def __repr__(self) -> str:
        return f"Secrets({len(self._values)} values)"

    __str__ = __repr__


_run = Secrets()


def run_secrets() -> Secrets:
    """The registry of the current run (an empty one before a run starts)."""
    return _run


def start_run(values: Iterable[str], *, announce: Callable[[str], None] | None = None) -> Secrets:
    """A new registry for a run, seeded with `values` (not announced: they were masked at start-up)."""
    global _run
    _run = Secrets(values, announce=announce)
    return _run


def register(*values: str) -> None:
    """A secret learnt during the run (an installation token) joins the run's registry."""
    _run.add(*values)


class MaskingFilter(logging.Filter):
    """Replaces every secret of the registry (by default the current run's) in log records with ***."""

    def __init__(self, secrets: Secrets | None = None) -> None:
        super().__init__()
        self._secrets = secrets

    def redact(self, text: str) -> str:
        return (self._secrets if self._secrets is not None else run_secrets()).redact(text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        shown = self.redact(message)
        if shown != message:
            record.msg, record.args = shown, None
        if record.exc_info and not record.exc_text:  # a traceback's text may name a secret too
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


# -- secrets inside outside text (a finding's message or snippet) ---------------------------------------
# Known token shapes come from detect-secrets' own plugins (maintained upstream), not from a list of ours.
_NOT_SECRETS = frozenset({"Public IP (ipv4)"})  # an address is not a credential
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----")
_EDGE = " \t\"'=:"  # what some detect-secrets patterns take in around the value
KNOWN = "known-secret"


def marked(value: str, kind: str) -> str:
    """The marked redaction of one secret: its type, length and a short hash, e.g.
    `[REDACTED github-token len=40 sha256:1a2b3c]` (the same value always gives the same mark)."""
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:6]
    return f"[REDACTED {kind} len={len(value)} sha256:{digest}]"


def _kind(secret_type: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-") or "secret"


@functools.cache
def _shapes() -> tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]:
    """(kind, patterns) of every regex-based detect-secrets plugin (imported on first use: start-up time)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    out = []
    plugins: dict[str, type[object]] = dict(get_mapping_from_secret_type_to_class())
    for secret_type, plugin in sorted(plugins.items()):
        if issubclass(plugin, RegexBasedDetector) and secret_type not in _NOT_SECRETS:
            out.append((_kind(secret_type), tuple(plugin().denylist)))
    return tuple(out)


def _span(text: str, m: re.Match[str], kind: str) -> tuple[int, int]:
    """The secret inside a match: a capture group that holds the value (AWS secret key, a URL password),
    else the whole match without the separators some patterns take in; a private key to its END line."""
    start, end = m.span()
    if m.lastindex and len(m.group(m.lastindex) or "") >= 8:
        start, end = m.span(m.lastindex)
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    if kind == "private-key":
        begin = text.rfind("-----", 0, start)
        start = begin if begin >= 0 and "\n" not in text[begin:start] else start
        found = _PEM_END.search(text, end)
        end = found.end() if found else len(text)  # a cut-off key: the rest of the text is key material
    return start, end


def secret_spans(text: str, known: Iterable[str] = ()) -> list[tuple[int, int, str]]:
    """Where secrets stand in `text`: (start, end, kind), sorted and not overlapping. `known` are values
    known to be secret (the run's registry, a literal a scanner flagged) and are found wherever they stand."""
    spans: list[tuple[int, int, str]] = []
    for kind, patterns in _shapes():
        for pattern in patterns:
            for m in pattern.finditer(text):
                start, end = _span(text, m, kind)
                if end - start >= MIN_LENGTH:
                    spans.append((start, end, kind))
    for value in sorted({v for v in known if len(v) >= MIN_LENGTH}, key=len, reverse=True):
        at = text.find(value)
        while at >= 0:
            spans.append((at, at + len(value), KNOWN))
            at = text.find(value, at + len(value))
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(spans, key=lambda s: (s[0], -s[1])):
        if merged and start < merged[-1][1]:
            prev = merged[-1]
            merged[-1] = (prev[0], max(prev[1], end), prev[2])
        else:
            merged.append((start, end, kind))
    return merged


def redact_marked(text: str, known: Iterable[str] = ()) -> tuple[str, list[str]]:
    """`text` with every secret of a known shape and every `known` value replaced by its marked redaction,
    and the secret values it replaced (for the run's registry)."""
    spans = secret_spans(text, known)
    if not spans:
        return text, []
    parts: list[str] = []
    values: list[str] = []
    at = 0
    for start, end, kind in spans:
        value = text[start:end]
        parts += [text[at:start], marked(value, kind)]
        values.append(value)
        at = end
    parts.append(text[at:])
    return "".join(parts), values
