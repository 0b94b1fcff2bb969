"""Fingerprints: stable when code moves, distinct for identical snippets, tool-independent for advisories."""

from __future__ import annotations

from repo_automation.domain import Finding, Location, Severity
from repo_automation.scanners.fingerprint import (
    canonical_id,
    dependency_fingerprint,
    normalise_snippet,
    snippet_from_lines,
    with_code_fingerprints,
)


def code(line: int, snippet: str, path: str = "app/x.py", rule: str = "B602") -> Finding:
    return Finding(tool="bandit", rule_id=rule, severity=Severity.HIGH, title="t", fingerprint="",
                   location=Location(path=path, start_line=line, snippet=snippet))


def test_moving_code_keeps_the_fingerprint() -> None:
    before = with_code_fingerprints([code(8, "call(cmd, shell=True)"), code(20, "eval(x)", rule="B307")])
    after = with_code_fingerprints([code(11, "  call(cmd,   shell=True)"), code(40, "eval(x)", rule="B307")])
    assert [f.fingerprint for f in before] == [f.fingerprint for f in after]
    assert all(len(f.fingerprint) == 32 for f in before)


def test_identical_snippets_in_one_file_stay_two_and_keep_their_order() -> None:
    two = with_code_fingerprints([code(12, "call(cmd, shell=True)"), code(8, "call(cmd, shell=True)")])
    assert two[0].fingerprint != two[1].fingerprint
    # the first by line order is occurrence 0, whichever order the tool printed them in
    alone = with_code_fingerprints([code(8, "call(cmd, shell=True)")])
    assert two[1].fingerprint == alone[0].fingerprint


def test_path_rule_and_snippet_each_matter() -> None:
    base = with_code_fingerprints([code(1, "eval(x)")])[0].fingerprint
    assert with_code_fingerprints([code(1, "eval(x)", path="app/y.py")])[0].fingerprint != base
    assert with_code_fingerprints([code(1, "eval(x)", rule="B307")])[0].fingerprint != base
    assert with_code_fingerprints([code(1, "eval(y)")])[0].fingerprint != base


def test_canonical_id_prefers_cve_then_ghsa_then_pysec() -> None:
    assert canonical_id(["PYSEC-2021-66", "GHSA-g3rq-g295-4j3m", "CVE-2020-28493"]) == "CVE-2020-28493"
    assert canonical_id(["PYSEC-2018-28", "GHSA-x84v-xcm2-53pg"]) == "GHSA-X84V-XCM2-53PG"
    assert canonical_id(["SAFETY-39525"]) == "SAFETY-39525"
    assert canonical_id([]) == ""


def test_dependency_fingerprint_is_tool_independent() -> None:
    pip_audit = dependency_fingerprint("Jinja2", ["PYSEC-2021-66", "GHSA-g3rq-g295-4j3m", "CVE-2020-28493"])
    safety = dependency_fingerprint("jinja2", ["SAFETY-39525", "CVE-2020-28493"])
    assert pip_audit == safety
    assert dependency_fingerprint("jinja2", ["CVE-2019-10906"]) != pip_audit
    assert dependency_fingerprint("requests", ["CVE-2020-28493"]) != pip_audit


def test_snippet_normalisation() -> None:
    lines = ["def f():", "    return  call(x,", "                shell=True)", ""]
    assert snippet_from_lines(lines, 2, 3) == "return call(x,\nshell=True)"
    assert snippet_from_lines(lines, 99, 99) == ""
    assert normalise_snippet("\n  a \t b  \n\n") == "a b"
