"""No secret leaves in a finding: every finding's text is redacted once, where findings enter the report.

A scanner that finds a hard-coded secret quotes it (bandit's B105 message "Possible hardcoded password:
'…'", the snippet of the offending line), and other findings may quote a token by chance. Before the report
is built, each finding's title, message, snippet and note are redacted (`redaction.redact_marked`):
- every value of a known token shape (detect-secrets' plugins: GitHub, AWS, Slack, private keys, …);
- every value of the run's registry (the tokens and passwords of this run);
- for a secret finding (bandit B105/B106/B107, a CWE for hard-coded credentials, a trivy or semgrep secret
  rule), the string literals it quotes, since the tool says they are the secret.
Each value is replaced by `[REDACTED <kind> len=<n> sha256:<6 hex>]` everywhere it appears in the finding,
and (from 8 characters on) joins the run's registry so the logs mask it too. Fingerprints are left as the
scanners made them (from the source, before redaction), so they stay stable across runs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence

from repo_automation import redaction
from repo_automation.domain import Finding, SourceResult

SECRET_RULES = frozenset({"B105", "B106", "B107"})  # bandit's hard-coded password checks
SECRET_CWES = frozenset({"CWE-259", "CWE-321", "CWE-798", "CWE-522"})  # hard-coded passwords, keys, credentials
_SECRET_WORDS = re.compile(r"secret|password|passwd|token|credential|api[-_]?key|private[-_]?key", re.IGNORECASE)
_LITERAL = re.compile(r"'([^'\n]+)'|\"([^\"\n]+)\"")
_MASKED = re.compile(r"[^\s'\"`]*\*{4,}[^\s'\"`]*")  # a value the tool masked, maybe only in part (trivy)
LITERAL_KIND = "hardcoded-secret"
# A flagged literal joins the run's registry (the logs mask it) from this length on: bandit also flags
# `token_type = "bearer"`, and masking every "bearer" in the log would help nobody.
REGISTERED_LENGTH = 8


def is_secret_finding(f: Finding) -> bool:
    """A finding whose tool says it found a secret (so what it quotes is the secret)."""
    if f.package:
        return False
    by_rule = f.rule_id in SECRET_RULES and f.tool.startswith("bandit")
    by_name = bool(_SECRET_WORDS.search(f.rule_id)) and f.tool.split("+")[0] in ("trivy", "semgrep")
    return by_rule or by_name or bool(SECRET_CWES & set(f.cwe))


def _literals(texts: Iterable[str]) -> list[str]:
    """What a secret finding quotes: its string literals, and any value the tool masked (trivy leaves part
    of some tokens showing: `*****-7975…`), longest first."""
    found = [v for text in texts for m in _LITERAL.finditer(text) if (v := m.group(1) or m.group(2))]
    found += [m.group(0) for text in texts for m in _MASKED.finditer(text)]
    return sorted(set(found), key=len, reverse=True)


def _texts(f: Finding) -> list[str]:
    return [f.title, f.message, f.note or "", (f.location.snippet or "") if f.location else ""]


def redact_finding(f: Finding, known: Sequence[str] = ()) -> tuple[Finding, list[str]]:
    """The finding with every secret in its text marked, and the secret values found."""
    texts = _texts(f)
    literals = _literals(texts[1:2] + texts[3:]) if is_secret_finding(f) else []
    values: list[str] = []
    for text in texts:  # first pass: what the shapes find, so every field hides the same values
        values += redaction.redact_marked(text, ())[1]
    everything = [*known, *values]
    kinds = {v: LITERAL_KIND for v in literals if len(v) >= redaction.MIN_LENGTH and v not in values}

    def clean(text: str) -> str:
        out, _ = redaction.redact_marked(text, everything)
        for value, kind in kinds.items():  # a flagged literal is named as what the tool said it is
            out = out.replace(value, redaction.marked(value, kind))
        return out

    if not values and not kinds and not any(k and k in t for k in known for t in texts):
        return f, []
    loc = f.location
    if loc is not None and loc.snippet is not None:
        loc = dataclasses.replace(loc, snippet=clean(loc.snippet))
    return dataclasses.replace(f, title=clean(f.title), message=clean(f.message),
                               note=clean(f.note) if f.note else f.note, location=loc), [*values, *kinds]


def redact_findings(findings: Sequence[Finding], known: Iterable[str] | None = None) -> list[Finding]:
    """Every finding with its secrets marked (order kept); the values found join the run's registry."""
    secrets = list(known) if known is not None else list(redaction.run_secrets())
    out: list[Finding] = []
    found: list[str] = []
    for f in findings:
        clean, values = redact_finding(f, secrets)
        out.append(clean)
        found += values
    kept = [v for v in found if len(v) >= REGISTERED_LENGTH]
    if kept:
        redaction.register(*kept)
    return out


def redact_sources(sources: Sequence[SourceResult]) -> list[SourceResult]:
    """The stage results with any secret in their reasons and notices marked (a tool's stderr may echo one)."""
    known = list(redaction.run_secrets())

    def clean(text: str) -> str:
        return redaction.redact_marked(text, known)[0]

    out = []
    for s in sources:
        reason, notices = clean(s.reason), tuple(clean(n) for n in s.notices)
        out.append(s if (reason, notices) == (s.reason, s.notices) else
                   dataclasses.replace(s, reason=reason, notices=notices))
    return out
