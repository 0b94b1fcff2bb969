"""A file name that is not UTF-8 never loses a scan: real bandit through the real CLI.

Linux file names are bytes; `caf\\xe9.py` (Latin-1) is no UTF-8. Before, fingerprinting its finding raised
UnicodeEncodeError, the whole bandit scan was lost with the high-severity finding in a clean file too, and
the run exited 0. Now every finding is reported, the run fails on them, and every report is written with
the odd byte shown as `\\xe9`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from repo_automation.cli import main
from tests.integration.scanners.scanning import git, tool_path

SHELL = "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"


def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    with open(os.path.join(os.fsencode(repo / "pkg"), b"caf\xe9.py"), "w", encoding="utf-8") as fh:
        fh.write(SHELL)
    (repo / "pkg" / "clean.py").write_text(SHELL, encoding="utf-8")
    (repo / "repo-automation.json").write_text(json.dumps(
        {"automation": {"security_scanning": {"tools": ["bandit"]}}}), encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def run(repo: Path, out: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    env = {"PATH": f"{Path(tool_path('bandit')).parent}:/usr/bin:/bin"}
    status = main(["run", "-C", str(repo), "--config", "repo-automation.json", "--output-dir", str(out),
                   "--skip-deps", "--skip-docs"], env=env)
    return status, json.loads((out / "project-health-report.json").read_text(encoding="utf-8"))


def test_a_finding_in_a_non_utf8_file_name_is_reported_and_fails_the_run(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    status, report = run(repo, tmp_path / "out")
    assert status == 1  # the high-severity shell=True findings reach fail_on
    bandit = next(s for s in report["sources"] if s["name"] == "bandit")
    assert bandit["status"] == "ok", bandit["reason"]
    paths = sorted(f["location"]["path"] for f in report["findings"] if f["rule_id"] == "B602")
    assert paths == ["pkg/caf\\xe9.py", "pkg/clean.py"]
    for name in ("project-health-report.md", "project-health-report.json", "repo-automation.sarif",
                 *(p.name for p in (tmp_path / "out").glob("automation-report-*.md"))):
        text = (tmp_path / "out" / name).read_text(encoding="utf-8")  # valid UTF-8, every one
        assert any(shown in text for shown in ("caf\\xe9.py", "caf\\\\xe9.py", "caf%5Cxe9.py")), name  # md, json, sarif


def test_the_odd_file_keeps_its_fingerprint_across_runs(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    _, first = run(repo, tmp_path / "one")
    _, second = run(repo, tmp_path / "two")
    fingerprints = [sorted(f["fingerprint"] for f in r["findings"]) for r in (first, second)]
    assert fingerprints[0] == fingerprints[1]
    assert len(set(fingerprints[0])) == len(fingerprints[0]) == 4  # B404 and B602 in each file, all distinct
