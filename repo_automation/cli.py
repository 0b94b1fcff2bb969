"""The command line. Only wiring: parse flags, configure logging, call the engine, map errors to exit codes.

Exit status: 0 ran and policy satisfied · 1 ran and policy failed · 2 usage or configuration error.
Heavy libraries are imported lazily so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from repo_automation import __version__
from repo_automation.errors import RepoAutomationError
from repo_automation.redaction import MaskingFilter
from repo_automation.settings import Command, ReportFormat

log = logging.getLogger("repo_automation")

EXIT_OK, EXIT_POLICY, EXIT_USAGE = 0, 1, 2
DESCRIPTION = ("Measure, scan, gate, score and maintain a repository's health: reports, job summary, "
               "SARIF, issues, checks and alerts.")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits 2 already; keep its message short
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


OUTPUT_DIR_HELP = "where reports are written, from the current folder (default: reports in the workspace)"


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", dest="config_path", type=Path, default=None,
                   help="configuration file (default: .github/project-metrics.json)")
    _base(p)


def _base(p: argparse.ArgumentParser) -> None:
    """Flags every command that reads settings takes: where to work and how to log."""
    p.add_argument("--workspace", "-C", type=Path, default=None, help="repository checkout (default: current folder)")
    p.add_argument("--verbose", "-v", action="store_true", default=None, help="log at DEBUG level")
    p.add_argument("--log-file", type=Path, default=None, help="also write the log to this file")


def _report_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=list(ReportFormat), default=None, help="report format (default: both)")
    p.add_argument("--output-dir", type=Path, default=None, help=OUTPUT_DIR_HELP)
    p.add_argument("--store-db", action="store_true", default=None, help="store this run in the metrics history")
    p.add_argument("--history-db", default=None, help="SQLite path or postgresql:// URL of the metrics history")


def _dashboard_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dashboard", action="store_true", default=None,
                   help="also write the health dashboard page (OUTPUT_DIR/dashboard/index.html)")


def _maintain_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", default=None, help="describe every write, perform none")
    p.add_argument("--skip-deps", action="store_true", default=None, help="skip dependency updates")
    p.add_argument("--skip-security", action="store_true", default=None, help="skip security scanning")
    p.add_argument("--skip-quality", action="store_true", default=None, help="skip code-quality gates")
    p.add_argument("--skip-docs", action="store_true", default=None, help="skip README badge and changelog upkeep")
    p.add_argument("--create-issues", action="store_true", default=None, help="open/update/close fingerprinted issues")
    p.add_argument("--notify-slack", action="store_true", default=None, help="send alerts to Slack")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="repo-automation", description=DESCRIPTION,
                     epilog="Exit status: 0 policy held, 1 policy failed, 2 usage or configuration error.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="subcommand", required=True, parser_class=_Parser)

    p = sub.add_parser("metrics", help="collect metrics, score health, write reports")
    _common(p)
    _report_flags(p)
    p.add_argument("--dry-run", action="store_true", default=None, help="describe every write, perform none")

    p = sub.add_parser("maintain", help="scans, gates, upkeep and issues")
    _common(p)
    _maintain_flags(p)
    p.add_argument("--output-dir", type=Path, default=None, help=OUTPUT_DIR_HELP)

    p = sub.add_parser("run", help="metrics and maintenance together (what the action runs)")
    _common(p)
    _report_flags(p)
    _maintain_flags(p)
    _dashboard_flag(p)

    p = sub.add_parser("rollup", help="the latest health of every repository in a shared metrics history")
    _base(p)
    p.add_argument("--history-db", default=None, help="SQLite path or postgresql:// URL of the metrics history")
    p.add_argument("--output-dir", type=Path, default=None,
                   help="where the roll-up is written, from the current folder (default: reports in the workspace)")
    _dashboard_flag(p)

    p = sub.add_parser("dashboard", help="measure, scan and gate like run, then write only the dashboard page "
                       "(OUTPUT_DIR/dashboard/index.html) with the stored history; no other effect")
    _common(p)
    p.add_argument("--output-dir", type=Path, default=None,
                   help="where the page is written, from the current folder (default: reports in the workspace)")
    p.add_argument("--history-db", default=None, help="SQLite path or postgresql:// URL of the metrics history")

    p = sub.add_parser("history", help="the metrics history store itself")
    history = p.add_subparsers(dest="history_command", required=True, parser_class=_Parser)
    p = history.add_parser("migrate", help="move the store to the current schema version (monthly partitions "
                           "on PostgreSQL, run ids); --dry-run says how and changes nothing")
    _base(p)
    p.add_argument("--history-db", default=None, help="SQLite path or postgresql:// URL of the metrics history")
    p.add_argument("--dry-run", action="store_true", default=None, help="say what would be done, change nothing")

    p = sub.add_parser("validate-config", help="check a configuration file; exit 2 naming each problem")
    _common(p)

    sub.add_parser("schema", help="print the configuration JSON Schema")
    return parser


def _overrides(ns: argparse.Namespace) -> dict[str, Any]:
    keys = ("config_path", "verbose", "log_file", "format", "output_dir", "store_db", "history_db", "dry_run",
            "skip_deps", "skip_security", "skip_quality", "skip_docs", "create_issues", "notify_slack", "dashboard")
    out = {k: getattr(ns, k) for k in keys if getattr(ns, k, None) is not None}
    if "output_dir" in out:  # a path typed on the command line is the shell's: from the current folder, not -C
        out["output_dir"] = Path.cwd() / out["output_dir"]
    if ns.subcommand in list(Command):
        out["command"] = ns.subcommand
    return out


def setup_logging(verbose: bool, log_file: Path | None) -> None:
    """Log to stderr (and `log_file`), every record cleared of the run's secrets (redaction.run_secrets)."""
    root = logging.getLogger("repo_automation")
    for h in list(root.handlers):
        root.removeHandler(h)
    mask = MaskingFilter()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    for h in handlers:
        h.setFormatter(fmt)
        h.addFilter(mask)
        root.addHandler(h)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False


def _print_masks(value: str) -> None:
    """On a runner, a secret learnt during the run is masked (::add-mask::) before anything can show it."""
    from repo_automation import runner

    for line in runner.add_mask(value):
        print(line, flush=True)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    environ = dict(os.environ if env is None else env)
    try:
        if ns.subcommand == "schema":
            from repo_automation.config import schema  # lazily: start-up time of --help

            print(json.dumps(schema(), indent=2))
            return EXIT_OK
        from repo_automation import redaction, runner  # lazily: start-up time of --help
        from repo_automation import settings as settings_mod

        settings = settings_mod.from_environment(environ, _overrides(ns), workspace=ns.workspace)
        redaction.start_run(redaction.gather(environ, settings_mod.SECRET_VARIABLES, [settings]),
                            announce=_print_masks if runner.is_actions(environ) else None)
        setup_logging(settings.verbose, settings.resolve(settings.log_file) if settings.log_file else None)
        if ns.subcommand == "validate-config":
            from repo_automation.engine import read_config  # lazily: start-up time of --help
            from repo_automation.sinks.alerts.routing import unconfigured

            cfg = read_config(settings.resolve(settings.config_path), required=True)
            print(f"{cfg.path}: valid")
            for notice in unconfigured(cfg):  # valid, but nothing can deliver there: say so, and how to fix it
                print(f"note: {notice}")
            return EXIT_OK
        if ns.subcommand == "history":
            from repo_automation.history.migrate import run_migrate  # lazily: start-up time of --help

            for line in run_migrate(settings.history_db, settings.workspace, dry_run=settings.dry_run):
                print(line)
            return EXIT_OK
        from repo_automation.engine import rollup, run  # lazily: start-up time of --help
        from repo_automation.progress import for_output

        if ns.subcommand == "rollup":
            return rollup(settings, environ)
        return run(settings, environ, for_output(sys.stderr, environ))
    except RepoAutomationError as e:
        print(f"repo-automation: error: {e.diagnostics()}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("repo-automation: interrupted", file=sys.stderr)
        return 130
