"""Secrets in findings are marked before the report is built (the values are built here, never literal)."""

from __future__ import annotations

import random
import string

from repo_automation import redaction
from repo_automation.core.secrets import redact_findings
from repo_automation.domain import Finding, Location, Severity

_R = random.Random(9)


def _rnd(alphabet: str, n: int) -> str:
    return "".join(_R.choice(alphabet) for _ in range(n))


GITHUB = "gh" + "p_" + _rnd(string.ascii_letters + string.digits, 36)
AWS = "AK" + "IA" + _rnd(string.ascii_uppercase + string.digits, 16)
SLACK = "xo" + "xb-" + _rnd(string.digits, 12) + "-" + _rnd(string.digits, 12) + "-" + _rnd("abcdef0123", 24)


def _finding(message: str, snippet: str, *, tool: str = "bandit", rule: str = "B105",
             cwe: tuple[str, ...] = ("CWE-259",)) -> Finding:
    return Finding(tool=tool, rule_id=rule, severity=Severity.LOW, title="hardcoded_password_string",
                   fingerprint="fp-1", message=message, cwe=cwe,
                   location=Location(path="app/settings.py", start_line=3, snippet=snippet))


def test_a_token_of_a_known_shape_is_marked_with_its_type_length_and_short_hash() -> None:
    f = _finding(f"Possible hardcoded password: '{GITHUB}'", f'TOKEN = "{GITHUB}"  # aws {AWS}')
    [out] = redact_findings([f], known=[])
    mark = redaction.marked(GITHUB, "github-token")
    assert out.message == f"Possible hardcoded password: '{mark}'"
    assert out.location is not None and out.location.snippet == \
        f'TOKEN = "{mark}"  # aws {redaction.marked(AWS, "aws-access-key")}'
    assert mark.startswith("[REDACTED github-token len=40 sha256:") and GITHUB not in mark
    assert out.fingerprint == f.fingerprint  # the identity does not change with the redaction


def test_the_literal_a_secret_rule_flags_is_marked_even_without_a_known_shape() -> None:
    f = _finding("Possible hardcoded password: 'hunter2'", 'PASSWORD = "hunter2"')
    [out] = redact_findings([f], known=[])
    assert "hunter2" not in out.message and "hunter2" not in (out.location.snippet or "")  # type: ignore[union-attr]
    assert "[REDACTED hardcoded-secret len=7 sha256:" in out.message


def test_what_trivy_masked_only_in_part_is_marked_whole() -> None:
    shown = "*" * 17 + SLACK[17:]
    f = _finding(f'SLACK_TOKEN = "{shown}"', shown, tool="trivy", rule="slack-access-token", cwe=("CWE-798",))
    [out] = redact_findings([f], known=[])
    assert SLACK[17:] not in out.message and SLACK[17:] not in (out.location.snippet or "")  # type: ignore[union-attr]


def test_a_private_key_is_marked_from_its_begin_to_its_end_line() -> None:
    body = "\n".join(_rnd(string.ascii_letters + string.digits, 64) for _ in range(3))
    key = "-----BEGIN " + "PRIVATE KEY-----\n" + body + "\n-----END " + "PRIVATE KEY-----"
    f = _finding("a key", f"before\n{key}\nafter", tool="semgrep", rule="detected-private-key", cwe=())
    [out] = redact_findings([f], known=[])
    assert out.location is not None and out.location.snippet == \
        f"before\n{redaction.marked(key, 'private-key')}\nafter"


def test_a_known_secret_of_the_run_is_marked_in_any_finding_and_found_values_join_the_registry() -> None:
    run = redaction.start_run(["s3cr3t-database-password"])
    f = _finding("connect with s3cr3t-database-password", "x = 1", tool="semgrep", rule="other", cwe=())
    [out] = redact_findings([f, _finding(f"'{GITHUB}'", "")])[:1]
    assert out.message == f"connect with {redaction.marked('s3cr3t-database-password', 'known-secret')}"
    assert GITHUB in run  # the logs mask it from now on
    assert run.redact(f"log {GITHUB}") == "log ***"
    redaction.start_run([])  # leave no registry behind for other tests


def test_a_finding_without_a_secret_is_the_same_value() -> None:
    f = _finding("subprocess call with shell=True", "subprocess.call(c, shell=True)", rule="B602", cwe=("CWE-78",))
    assert redact_findings([f], known=[]) == [f]


def test_a_token_a_failed_tool_echoed_is_marked_in_its_reason() -> None:
    from repo_automation.core.secrets import redact_sources
    from repo_automation.domain import SourceResult, Status

    redaction.start_run([])
    failed = SourceResult(name="trivy", kind="scanner", status=Status.FAILED, reason=f"bad token {GITHUB}")
    ok = SourceResult(name="bandit", kind="scanner", status=Status.OK)
    out = redact_sources([failed, ok])
    assert out[0].reason == f"bad token {redaction.marked(GITHUB, 'github-token')}" and out[1] is ok
