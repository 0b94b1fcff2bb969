"""Which progress a run gets, and what the Actions log shows of each stage."""

from __future__ import annotations

import io
import subprocess
import sys
import threading

from repo_automation.domain import SourceKind, SourceResult, Status
from repo_automation.progress import NO_PROGRESS, ActionsProgress, LiveProgress, for_output
from tests.runner_files import parse_command


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_view_follows_the_output() -> None:
    assert isinstance(for_output(_Terminal(), {"TERM": "xterm"}), LiveProgress)
    assert for_output(io.StringIO(), {"TERM": "xterm"}) is NO_PROGRESS  # a pipe or a file
    assert for_output(_Terminal(), {"TERM": "dumb"}) is NO_PROGRESS
    assert isinstance(for_output(_Terminal(), {"GITHUB_ACTIONS": "true"}), ActionsProgress)


def test_nothing_imports_rich_until_a_live_view_is_drawn() -> None:
    """`--help` must stay fast: rich is imported by the live view alone, when it starts."""
    code = ("import sys; from repo_automation import cli, engine, progress; "
            "progress.for_output(open('/dev/null', 'w'), {}); print(sorted(m for m in sys.modules if m == 'rich'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.strip() == "[]"


def test_a_tools_text_cannot_become_a_workflow_command_nor_show_a_secret() -> None:
    from repo_automation import redaction

    redaction.start_run(["s3cr3t-value-123"])
    out = io.StringIO()
    bad = SourceResult(name="trivy", kind=SourceKind.SCANNER, status=Status.FAILED, duration_s=0.5,
                       reason="stderr:\n::add-mask::x\n::set-output name=a::b token s3cr3t-value-123")
    try:
        ActionsProgress(out).finished(bad)
    finally:
        redaction.start_run([])
    lines = out.getvalue().splitlines()
    commands = [line.split("::")[1].split(" ")[0] for line in lines if line.startswith("::")]
    assert commands == ["group", "endgroup"]
    assert "s3cr3t-value-123" not in out.getvalue()


def test_each_stage_is_one_whole_group_even_when_stages_end_together() -> None:
    out = io.StringIO()
    progress = ActionsProgress(out)
    results = [SourceResult(name=f"s{i}", kind=SourceKind.SCANNER, status=Status.FAILED if i % 2 else Status.OK,
                            reason="boom\nsecond line" if i % 2 else "", duration_s=1.25, notices=("n",))
               for i in range(40)]
    threads = [threading.Thread(target=progress.finished, args=(r,)) for r in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = out.getvalue().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("::group::")]
    assert len(starts) == 40
    for i in starts:  # every group closes before the next opens
        end = lines.index("::endgroup::", i)
        assert not any(line.startswith("::group::") for line in lines[i + 1:end])
    first = next(line for line in lines if line.startswith("::group::scanner s1:"))
    assert parse_command(first)[2] == "scanner s1: failed in 1.2 s"
    assert "failed: boom" in lines and "second line" in lines
