"""PR mode on a real git repository: only changed files are scanned, findings are new / existing / fixed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from repo_automation.scanners import build_scanners, scanner_plan
from repo_automation.scanners.interface import ToolScanner
from repo_automation.scanners.osv import USER_AGENT
from repo_automation.stages import notices_of
from tests.fakeosv import FakeOSV
from tests.integration.scanners.scanning import audited_pins, context, fake_tool, git, tool_path

NEW_CODE = '\n\ndef compute_again(expr):\n    return eval(expr)\n'


def make_pull_request(project: Path, tmp_path: Path) -> Path:
    """Base commit = the fixture (+ an untouched file); head commit changes code and requirements."""
    (project / "app" / "untouched.py").write_text("import pickle\n\nX = pickle.loads(b'')\n", encoding="utf-8")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    base = git(project, "rev-parse", "HEAD")
    git(project, "checkout", "-q", "-b", "feature")
    shell = project / "app" / "shell.py"
    shell.write_text("# header moves every line down\n\n" + shell.read_text(encoding="utf-8") + NEW_CODE,
                     encoding="utf-8")
    web = project / "app" / "web.py"
    web.write_text(web.read_text(encoding="utf-8").replace("def compute(expr):\n    return eval(expr)\n", ""),
                   encoding="utf-8")
    req = project / "requirements.txt"
    req.write_text(req.read_text(encoding="utf-8").replace("jinja2==2.10", "jinja2==2.11.3")
                   .replace("urllib3==1.26.4", "urllib3==1.26.5") + "pyyaml==5.3\n", encoding="utf-8")
    git(project, "commit", "-q", "-am", "head")
    head = git(project, "rev-parse", "HEAD")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {
        "number": 7, "base": {"sha": base, "ref": "main", "repo": {"full_name": "o/r"}},
        "head": {"sha": head, "ref": "feature", "repo": {"full_name": "o/r"}}}}), encoding="utf-8")
    return event


def states(findings: list, key) -> dict:  # type: ignore[type-arg, no-untyped-def]
    out: dict = {}  # type: ignore[type-arg]
    for f in findings:
        out.setdefault(f.state, []).append(key(f))
    return {k: sorted(v) for k, v in out.items()}


def test_code_findings_new_existing_fixed(project: Path, tmp_path: Path, osv: FakeOSV) -> None:
    event = make_pull_request(project, tmp_path)
    ctx = context(project, osv, event_path=event, tools=["bandit"])
    (scanner,) = build_scanners(ctx)
    assert isinstance(scanner, ToolScanner) and scanner.pr_scope is not None
    findings = list(scanner.scan(ctx))
    got = states(findings, lambda f: (f.location.path, f.rule_id))
    assert got["new"] == [("app/shell.py", "B307")]
    assert got["fixed"] == [("app/web.py", "B307")]
    assert got["existing"] == sorted([("app/shell.py", r) for r in ("B403", "B404", "B602", "B602", "B301", "B324")]
                                     + [("app/web.py", r) for r in ("B105", "B501", "B113", "B104")])
    assert "app/untouched.py" not in {f.location.path for f in findings}  # unchanged: not scanned
    moved = [f for f in findings if f.rule_id == "B602"]
    assert sorted(f.location.start_line for f in moved) == [10, 14]  # head lines, after the move


def test_dependency_findings_new_existing_fixed(project: Path, tmp_path: Path, osv: FakeOSV) -> None:
    event = make_pull_request(project, tmp_path)
    ctx = context(project, osv, event_path=event, tools=["pip-audit"])
    (scanner,) = build_scanners(ctx)
    findings = scanner.scan(ctx)
    got = states(list(findings), lambda f: f.rule_id)
    assert got["new"] == ["PYSEC-2020-96", "PYSEC-2021-142"]  # pyyaml 5.3 added
    assert got["fixed"] == ["PYSEC-2019-217", "PYSEC-2021-108", "PYSEC-2021-66"]  # jinja2 upgraded, urllib3 in part
    assert got["existing"] == ["PYSEC-2023-192", "PYSEC-2023-212"]  # urllib3 1.26.5 still has these two
    assert "active" not in got
    # only the changed pins were audited: at head the added/changed ones, at base the removed/changed ones
    assert sorted(audited_pins(osv)) == [("jinja2", "2.10"), ("jinja2", "2.11.3"), ("pyyaml", "5.3"),
                                   ("urllib3", "1.26.4"), ("urllib3", "1.26.5")]
    assert notices_of(findings) == ("pip-audit: PR mode audited the 3 pins that changed in requirements.txt; "
                                    "the 3 unchanged pins are covered by the full scan",)
    # severities: head and base share one cache, so no pin is queried twice and no advisory read on its own;
    # which side asks first decides whether urllib3 1.26.5's advisories were already known from 1.26.4's answer
    ours = osv.queries_from(USER_AGENT)
    assert len(ours) == len(set(ours)) and {("jinja2", "2.10"), ("pyyaml", "5.3")} <= set(ours) <= {
        ("jinja2", "2.10"), ("pyyaml", "5.3"), ("urllib3", "1.26.4"), ("urllib3", "1.26.5")}
    assert [p for m, p in osv.requests if m == "GET"] == []


def test_the_checkout_is_left_as_it_was(project: Path, tmp_path: Path, osv: FakeOSV) -> None:
    event = make_pull_request(project, tmp_path)
    ctx = context(project, osv, event_path=event, tools=["bandit", "pip-audit"])
    for scanner in build_scanners(ctx):
        scanner.scan(ctx)
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "worktree", "list").count("\n") == 0  # no stray worktrees


def test_without_the_base_commit_falls_back_to_a_full_scan(project: Path, tmp_path: Path) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "only")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 1, "base": {"sha": "1" * 40, "ref": "main"},
                                                  "head": {"sha": "2" * 40, "ref": "x"}}}), encoding="utf-8")
    ctx = context(project, None, event_path=event, tools=["bandit"])
    scanners, notices = scanner_plan(ctx)
    findings = scanners[0].scan(ctx)
    assert len(findings) == 11 and {f.state for f in findings} == {"active"}
    assert any("fetch-depth: 0" in n for n in notices)


def test_pr_mode_off_scans_everything(project: Path, tmp_path: Path, osv: FakeOSV) -> None:
    event = make_pull_request(project, tmp_path)
    ctx = context(project, osv, event_path=event, tools=["bandit"], pr_mode=False)
    findings = build_scanners(ctx)[0].scan(ctx)
    assert {f.state for f in findings} == {"active"}
    assert "app/untouched.py" in {f.location.path for f in findings}


def counting_bandit(tmp_path: Path) -> tuple[str, Path]:
    """The real bandit behind a wrapper that counts its runs."""
    runs = tmp_path / "bandit-runs.log"
    return fake_tool(tmp_path / "bin", "bandit", f'echo run >> "{runs}"\nexec "{tool_path("bandit")}" "$@"'), runs


def code_states(scanner: ToolScanner, ctx: Any) -> dict:  # type: ignore[type-arg]
    return states(list(scanner.scan(ctx)), lambda f: (f.location.path, f.rule_id, f.location.start_line))


def test_one_bandit_run_serves_head_and_base(project: Path, tmp_path: Path) -> None:
    event = make_pull_request(project, tmp_path)
    ctx = context(project, None, event_path=event, tools=["bandit"])
    (scanner,) = build_scanners(ctx)
    assert isinstance(scanner, ToolScanner)
    scanner.executable, runs = counting_bandit(tmp_path)
    got = code_states(scanner, ctx)
    assert runs.read_text(encoding="utf-8").count("run") == 1
    assert got["new"] == [("app/shell.py", "B307", 31)]
    assert got["fixed"] == [("app/web.py", "B307", 8)]  # the base's line, in the base's file
    assert len(got["existing"]) == 10 and set(got) == {"new", "existing", "fixed"}


def test_bandit_excludes_that_tell_the_trees_apart_mean_two_runs(project: Path, tmp_path: Path) -> None:
    # bandit matches exclude_dirs against the names it is given: the base's absolute paths match
    # "*/app/*", the head's relative ones do not, so one shared run would lose the base's findings
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + 'exclude_dirs = ["*/app/*"]\n', encoding="utf-8")
    event = make_pull_request(project, tmp_path)
    ctx = context(project, None, event_path=event, tools=["bandit"])
    (scanner,) = build_scanners(ctx)
    assert isinstance(scanner, ToolScanner)
    scanner.executable, runs = counting_bandit(tmp_path)
    got = code_states(scanner, ctx)
    assert runs.read_text(encoding="utf-8").count("run") == 3  # the shared run, then head and base apart
    assert got["new"] == [("app/shell.py", "B307", 31)] and got["fixed"] == [("app/web.py", "B307", 8)]
    assert len(got["existing"]) == 10
