"""Run settings: one frozen value built from CLI flags, action inputs (INPUT_*) and environment variables.

Precedence: CLI flag > action input > environment variable > default. Every field is declared once in
FIELDS so the CLI, the action's inputs and the docs cannot drift apart. An empty input counts as not given;
an input whose environment variable must be able to take over has no default in action.yml (history-db:
the input the user set, then DATABASE_URL, then the SQLite default).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, assert_never

from repo_automation.errors import UsageError
from repo_automation.redaction import Secret, redact_url


class ReportFormat(enum.StrEnum):
    MARKDOWN = "markdown"
    JSON = "json"
    BOTH = "both"

    @property
    def markdown(self) -> bool:
        """The Markdown reports (health and automation) are written."""
        match self:
            case ReportFormat.MARKDOWN | ReportFormat.BOTH:
                return True
            case ReportFormat.JSON:
                return False
            case _:
                assert_never(self)

    @property
    def json(self) -> bool:
        """The JSON report is written."""
        match self:
            case ReportFormat.JSON | ReportFormat.BOTH:
                return True
            case ReportFormat.MARKDOWN:
                return False
            case _:
                assert_never(self)


class Command(enum.StrEnum):
    RUN = "run"
    METRICS = "metrics"
    MAINTAIN = "maintain"
    ROLLUP = "rollup"
    DASHBOARD = "dashboard"

    @property
    def measures(self) -> bool:
        """The run collects metrics (git, GitHub, Prometheus, the database)."""
        match self:
            case Command.RUN | Command.METRICS | Command.DASHBOARD:
                return True
            case Command.MAINTAIN | Command.ROLLUP:
                return False
            case _:
                assert_never(self)

    @property
    def maintains(self) -> bool:
        """The run scans, gates and keeps the repository up (dependency updates, docs)."""
        match self:
            case Command.RUN | Command.MAINTAIN | Command.DASHBOARD:
                return True
            case Command.METRICS | Command.ROLLUP:
                return False
            case _:
                assert_never(self)

    @property
    def delivers(self) -> bool:
        """The run has effects (history, GitHub, Slack, Pushgateway, report files); `dashboard` only draws."""
        match self:
            case Command.RUN | Command.METRICS | Command.MAINTAIN | Command.ROLLUP:
                return True
            case Command.DASHBOARD:
                return False
            case _:
                assert_never(self)


def _choice(kind: type[enum.StrEnum], name: str, value: Any) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise UsageError(f"{name} must be one of {', '.join(kind)}, got {value!r}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    command: Command = Command.RUN
    workspace: Path = field(default_factory=Path.cwd)
    config_path: Path = Path(".github/project-metrics.json")
    output_dir: Path = Path("reports")
    format: ReportFormat = ReportFormat.BOTH
    dry_run: bool = False
    store_db: bool = False
    history_db: str = ".repo-automation/history.sqlite"  # a path (SQLite) or postgresql:// URL
    skip_deps: bool = False
    skip_security: bool = False
    skip_quality: bool = False
    skip_docs: bool = False
    create_issues: bool = False
    notify_slack: bool = False
    dashboard: bool = False
    verbose: bool = False
    log_file: Path | None = None
    fail_on_policy: bool = True
    source_timeout_s: float = 300.0
    # GitHub
    github_token: Secret | None = None
    github_app_id: str | None = None
    github_app_private_key: Secret | None = None
    github_api_url: str = "https://api.github.com"
    github_graphql_url: str | None = None  # derived from github_api_url when None
    github_repository: str | None = None  # owner/name
    etag_cache: Path = Path(".repo-automation/etag-cache.json")
    redis_url: Secret | None = None
    # other services
    slack_webhook_url: Secret | None = None
    sonar_token: Secret | None = None
    safety_api_key: Secret | None = None
    pushgateway_url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "format", _choice(ReportFormat, "format", self.format))
        object.__setattr__(self, "command", _choice(Command, "command", self.command))
        if not self.source_timeout_s > 0:
            raise UsageError(f"source-timeout must be a positive number of seconds, got {self.source_timeout_s!r}")

    @property
    def graphql_url(self) -> str:
        if self.github_graphql_url:
            return self.github_graphql_url
        api = self.github_api_url.rstrip("/")
        if api.endswith("/api/v3"):  # GHES: REST at /api/v3, GraphQL at /api/graphql
            return api[: -len("/v3")] + "/graphql"
        return api + "/graphql"

    def resolve(self, path: Path) -> Path:
        """A path relative to the workspace (absolute paths are kept)."""
        return path if path.is_absolute() else self.workspace / path

    def __repr__(self) -> str:
        """The fields as a dataclass shows them, but a password inside a URL (history-db) as ***."""
        values = ((f.name, getattr(self, f.name)) for f in fields(self))
        shown = ", ".join(f"{name}={(redact_url(v) if isinstance(v, str) else v)!r}" for name, v in values)
        return f"{type(self).__name__}({shown})"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one setting is read: action input name, environment variables, type."""

    name: str
    input: str | None
    env: tuple[str, ...]
    kind: str  # str | bool | path | secret | float | choice
    description: str
    # action.yml gives the input the default. False where an environment variable must be able to take
    # over: a default the runner passes as INPUT_* would otherwise always shadow it (history-db vs DATABASE_URL).
    input_default: bool = True


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("command", "command", (), "str",
              "What to run: run (everything), metrics, maintain, rollup (every repository's latest health "
              "from a shared history-db), or dashboard (measure and draw the dashboard page, no other effect)."),
    FieldSpec("config_path", "config-path", ("REPO_AUTOMATION_CONFIG",), "path",
              "Path of the project-metrics configuration file, relative to the workspace."),
    FieldSpec("output_dir", "output-dir", ("REPO_AUTOMATION_OUTPUT_DIR",), "path",
              "Folder the reports are written to, relative to the workspace."),
    FieldSpec("format", "format", ("REPO_AUTOMATION_FORMAT",), "str", "Report format: markdown, json or both."),
    FieldSpec("dry_run", "dry-run", ("REPO_AUTOMATION_DRY_RUN",), "bool",
              "Do the whole run but write nothing outside the output folder: every write is only described."),
    FieldSpec("store_db", "store-db", ("REPO_AUTOMATION_STORE_DB",), "bool", "Store this run in the metrics history."),
    FieldSpec("history_db", "history-db", ("REPO_AUTOMATION_HISTORY_DB", "DATABASE_URL"), "str",
              "Metrics history: a SQLite file path or a postgresql:// URL. When not given: DATABASE_URL if set, "
              "else .repo-automation/history.sqlite.", input_default=False),
    FieldSpec("skip_deps", "skip-deps", (), "bool", "Skip dependency-update maintenance."),
    FieldSpec("skip_security", "skip-security", (), "bool", "Skip security scanning."),
    FieldSpec("skip_quality", "skip-quality", (), "bool", "Skip code-quality gates."),
    FieldSpec("skip_docs", "skip-docs", (), "bool", "Skip README badge and changelog upkeep."),
    FieldSpec("create_issues", "create-issues", (), "bool", "Open, update and close fingerprinted issues."),
    FieldSpec("notify_slack", "notify-slack", (), "bool", "Send alerts to Slack."),
    FieldSpec("dashboard", "dashboard", ("REPO_AUTOMATION_DASHBOARD",), "bool",
              "Also write the health dashboard, one self-contained page: dashboard/index.html in the output "
              "folder (with command rollup: every repository's row)."),
    FieldSpec("verbose", "verbose", ("REPO_AUTOMATION_VERBOSE",), "bool", "Log at DEBUG level."),
    FieldSpec("log_file", "log-file", ("REPO_AUTOMATION_LOG_FILE",), "path", "Also write the log to this file."),
    FieldSpec("fail_on_policy", "fail-on-policy", (), "bool",
              "Exit 1 when a gate fails, a blocking alert fires, a finding reaches fail_on severities or a "
              "required source cannot run."),
    FieldSpec("source_timeout_s", "source-timeout", ("REPO_AUTOMATION_SOURCE_TIMEOUT",), "float",
              "Seconds one collector or scanner may take before it is reported as failed."),
    FieldSpec("github_token", "github-token", ("GITHUB_TOKEN", "GH_TOKEN"), "secret",
              "Token for the GitHub API (the workflow's github.token by default)."),
    FieldSpec("github_app_id", "github-app-id", ("GITHUB_APP_ID",), "str", "GitHub App id (instead of a token)."),
    FieldSpec("github_app_private_key", "github-app-private-key", ("GITHUB_APP_PRIVATE_KEY",), "secret",
              "GitHub App private key (PEM)."),
    FieldSpec("github_api_url", None, ("GITHUB_API_URL",), "str", "REST base URL (GHES: https://HOST/api/v3)."),
    FieldSpec("github_graphql_url", None, ("GITHUB_GRAPHQL_URL",), "str", "GraphQL URL (GHES: https://HOST/api/graphql)."),
    FieldSpec("github_repository", "repository", ("GITHUB_REPOSITORY",), "str", "owner/name of the repository."),
    FieldSpec("etag_cache", "etag-cache", ("REPO_AUTOMATION_ETAG_CACHE",), "path",
              "File that keeps ETags between runs (keep it with actions/cache)."),
    FieldSpec("redis_url", None, ("REDIS_URL",), "secret", "Redis URL for the ETag cache (instead of the file)."),
    FieldSpec("slack_webhook_url", "slack-webhook-url", ("SLACK_WEBHOOK_URL",), "secret", "Slack incoming webhook."),
    FieldSpec("sonar_token", "sonar-token", ("SONAR_TOKEN",), "secret", "SonarQube / SonarCloud token."),
    FieldSpec("safety_api_key", "safety-api-key", ("SAFETY_API_KEY",), "secret", "Safety platform API key."),
    FieldSpec("pushgateway_url", "pushgateway-url", ("PUSHGATEWAY_URL",), "str", "Prometheus Pushgateway URL."),
)

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def parse_bool(name: str, raw: str) -> bool:
    v = raw.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise UsageError(f"{name}: expected true or false, got {raw!r}")


def convert(spec: FieldSpec, raw: str) -> Any:
    label = spec.input or (spec.env[0] if spec.env else spec.name)
    if spec.kind == "bool":
        return parse_bool(label, raw)
    if spec.kind == "path":
        return Path(raw) if raw.strip() else None
    if spec.kind == "secret":
        return Secret(raw) if raw else None
    if spec.kind == "float":
        try:
            return float(raw)
        except ValueError:
            raise UsageError(f"{label}: expected a number, got {raw!r}") from None
    return raw.strip() or None


def input_env_name(input_name: str) -> str:
    """The runner's mapping: INPUT_ + upper-case, spaces to '_', hyphens kept."""
    return "INPUT_" + input_name.replace(" ", "_").upper()


SECRET_VARIABLES: tuple[str, ...] = tuple(dict.fromkeys(
    name for spec in FIELDS if spec.kind == "secret"
    for name in ((input_env_name(spec.input),) if spec.input else ()) + spec.env))
"""Every environment variable that may hold a secret setting: its action input and its variables."""


def _raw_value(spec: FieldSpec, env: Mapping[str, str]) -> str | None:
    """The field's raw text: its action input if given, else the first non-empty environment variable."""
    raw: str | None = None
    if spec.input is not None:
        raw = env.get(input_env_name(spec.input))
        if raw is not None and raw == "" and spec.kind != "secret":
            raw = None  # an empty input means "use the default"
    if raw is None:
        for var in spec.env:
            if env.get(var):
                return env[var]
    return raw


def from_environment(env: Mapping[str, str], overrides: Mapping[str, Any] | None = None,
                     *, workspace: Path | None = None) -> Settings:
    """Build Settings from action inputs and environment variables, then CLI overrides on top."""
    values: dict[str, Any] = {}
    for spec in FIELDS:
        raw = _raw_value(spec, env)
        if raw is not None:
            value = convert(spec, raw)
            if value is not None:
                values[spec.name] = value
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    ws = workspace or Path(env.get("GITHUB_WORKSPACE") or Path.cwd())
    values["workspace"] = ws
    return Settings(**values)
