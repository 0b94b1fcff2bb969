"""No secret shows: not in the repr or str of anything that holds one, not in the log, not in a URL shown.

Every object is built offline, with recognisable secrets: a token, URLs with a password (percent-encoded, so
both forms are checked), an API key, a webhook, a PEM key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from repo_automation import cli, redaction
from repo_automation.collectors.database import DatabaseCollector
from repo_automation.collectors.prometheus import PrometheusCollector
from repo_automation.collectors.sonarqube import SonarQubeCollector
from repo_automation.context import RunContext
from repo_automation.engine import config_secrets
from repo_automation.errors import SourceFailed
from repo_automation.github.auth import AppAuth, TokenAuth
from repo_automation.github.cache import RedisEtagCache
from repo_automation.github.client import GitHubClient
from repo_automation.history import describe
from repo_automation.history.backends import SQLITE
from repo_automation.history.store import HistoryStore
from repo_automation.package_index import PackageIndex
from repo_automation.redaction import MaskingFilter, Secret, Secrets, gather, redact, redact_url
from repo_automation.scanners.safety import SafetyScanner
from repo_automation.sessions import make_session
from repo_automation.settings import SECRET_VARIABLES, Settings
from repo_automation.sinks.alerts.sink import AlertsSink, Collaborators, build_sender
from repo_automation.sinks.history import HistorySink
from repo_automation.sinks.pushgateway import PushgatewaySink
from repo_automation.sinks.slack import SlackSink
from tests.helpers import make_context

TOKEN = "ghp_Recognisable0Token1For2Tests3"
APP_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecret-key-material-line\n-----END RSA PRIVATE KEY-----"
HISTORY_PW, HISTORY_PW_DECODED = "hist%40pw-9c1e", "hist@pw-9c1e"
HISTORY_URL = f"postgresql://metrics:{HISTORY_PW}@db.internal:5432/metrics"
APP_DB_PW = "shop-pw-4b7d"
APP_DB_URL = f"postgresql://shop:{APP_DB_PW}@db.internal:5432/shop"
WEBHOOK = "https://hooks.slack.com/services/T000/B000/xoxb-webhook-secret-77"
SONAR = "squ_sonar-token-31415"
SAFETY_KEY = "safety-api-key-27182"
REDIS_PW = "redis-pw-16180"
PUSH_PW = "push-pw-14142"
PROM_PW = "prom-pw-17320"
INDEX_PW = "index-pw-22360"
PD_KEY, SMTP_PW = "pd0123456789abcdef0123456789abcd", "smtp-pw-11235"
HOOK_KEY, BOT_TOKEN = "hook-key-8132", "xoxb-bot-2134"
CHANNEL_SECRETS = [PD_KEY, "https://hooks.example.com/alerts", HOOK_KEY, BOT_TOKEN, SMTP_PW]  # the channels' variables
SECRETS = (TOKEN, "MIIEsecret-key-material-line", HISTORY_PW, HISTORY_PW_DECODED, APP_DB_PW, "xoxb-webhook-secret-77",
           SONAR, SAFETY_KEY, REDIS_PW, PUSH_PW, PROM_PW, INDEX_PW, PD_KEY, SMTP_PW, HOOK_KEY, BOT_TOKEN)
CONFIG: dict[str, Any] = {
    "tracking": {"data_sources": {
        "sonarqube": {"host": "https://sonar.example", "project_key": "acme_widgets"},
        "prometheus": {"endpoint": f"https://prom:{PROM_PW}@prom.example:9090", "metrics": []},
        "database": {"queries": {"app.orders": "SELECT 1"}}}},
    "automation": {"dependency_updates": {"index_url": f"https://ci:{INDEX_PW}@pypi.corp.example/simple"}},
    "integrations": {"channels": {
        "pd": {"kind": "pagerduty"}, "hook": {"kind": "webhook", "url_env": "HOOK_URL", "secret_env": "HOOK_KEY"},
        "bot": {"kind": "slack_api", "channel": "#alerts"},
        "mail": {"kind": "email", "smtp_host": "smtp.example", "smtp_port": 587, "username": "u",
                 "password_env": "SMTP_PW", "sender": "a@example.com", "recipients": ["b@example.com"]}}},
}
ENV = {"GITHUB_TOKEN": TOKEN, "INPUT_SONAR-TOKEN": SONAR, "APP_DATABASE_URL": APP_DB_URL,
       "PAGERDUTY_ROUTING_KEY": PD_KEY, "SMTP_PW": SMTP_PW, "HOOK_KEY": HOOK_KEY, "SLACK_BOT_TOKEN": BOT_TOKEN,
       "HOOK_URL": "https://hooks.example.com/alerts",
       "REDIS_URL": f"redis://:{REDIS_PW}@127.0.0.1:6379/0"}


def shows_a_secret(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def full_context(workspace: Path) -> RunContext:
    """A context whose settings and environment hold every kind of secret the run knows."""
    return make_context(workspace, config=CONFIG, env=ENV, github_repository="acme/widgets",
                        history_db=HISTORY_URL, store_db=True, notify_slack=True,
                        slack_webhook_url=Secret(WEBHOOK), safety_api_key=Secret(SAFETY_KEY),
                        pushgateway_url=f"https://push:{PUSH_PW}@push.example:9091")


def holders(ctx: RunContext) -> dict[str, object]:
    """Everything that holds a secret, each built the way the run builds it (no request is made)."""
    session = make_session()
    client = GitHubClient.from_context(ctx)
    app_ctx = make_context(ctx.workspace, github_repository="acme/widgets", github_app_id="12345",
                           github_app_private_key=Secret(APP_KEY))
    app_client = GitHubClient.from_context(app_ctx)
    return {
        "Settings": ctx.settings,
        "RunContext": ctx,
        "Secrets": ctx.secrets,
        "GitHubClient": client,
        "TokenAuth": client.auth,
        "GitHubClient.session": client.session,
        "RedisEtagCache": client.cache,
        "AppAuth": app_client.auth,
        "AppAuth (direct)": AppAuth(app_id="12345", private_key=Secret(APP_KEY), repository="acme/widgets",
                                    api_url="https://api.github.com", session=session),
        "TokenAuth (direct)": TokenAuth(Secret(TOKEN)),
        "session": session,
        "SlackSink": SlackSink.from_context(ctx),
        "PushgatewaySink": PushgatewaySink.from_context(ctx),
        "SonarQubeCollector": SonarQubeCollector.from_context(ctx),
        "PrometheusCollector": PrometheusCollector.from_context(ctx),
        "DatabaseCollector": DatabaseCollector.from_context(ctx),
        "HistorySink": HistorySink.from_context(ctx),
        "HistoryStore": HistoryStore(connection=None, dialect=SQLITE, target=describe(HISTORY_URL, ctx.workspace)),
        "PackageIndex": PackageIndex.from_context(ctx),
        "SafetyScanner": SafetyScanner.from_context(ctx, options=ctx.config.security_scanning),
        "RedisEtagCache (direct)": RedisEtagCache.from_url(ENV["REDIS_URL"]),
        "AlertsSink": AlertsSink.from_context(ctx),
        **{f"sender {name}": build_sender(name, ch, ctx, session, Collaborators())
           for name, ch in ctx.config.channels.items()},
    }


def test_nothing_that_holds_a_secret_shows_it_in_repr_str_or_the_log(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        ctx = full_context(tmp_path)
        built = holders(ctx)
        for obj in built.values():
            logging.getLogger("repo_automation").debug("built %r (%s)", obj, obj)
    assert isinstance(built["AppAuth"], AppAuth) and isinstance(built["RedisEtagCache"], RedisEtagCache)
    for name, obj in built.items():
        assert not shows_a_secret(repr(obj)), f"repr({name}) = {obj!r}"
        assert not shows_a_secret(str(obj)), f"str({name}) = {obj}"
    assert not shows_a_secret(caplog.text)


def test_settings_and_context_reprs_stay_useful_but_redacted(tmp_path: Path) -> None:
    ctx = full_context(tmp_path)
    assert "history_db='postgresql://metrics:***@db.internal:5432/metrics'" in repr(ctx.settings)
    assert "pushgateway_url='https://push:***@push.example:9091'" in repr(ctx.settings)
    assert "github_token=Secret('***')" in repr(ctx.settings)
    assert "repository='acme/widgets'" in repr(ctx) and " env=" not in repr(ctx)  # env holds GITHUB_TOKEN
    assert repr(Settings(history_db="relative/history.sqlite")).count("history_db='relative/history.sqlite'") == 1


def test_the_run_gathers_every_secret_once_in_both_forms_of_a_url_password(tmp_path: Path) -> None:
    ctx = full_context(tmp_path)
    from_settings = gather(ctx.env, SECRET_VARIABLES, [ctx.settings])
    assert {TOKEN, SONAR, ENV["REDIS_URL"], REDIS_PW, WEBHOOK, SAFETY_KEY, HISTORY_PW, HISTORY_PW_DECODED,
            PUSH_PW} <= set(from_settings)
    assert len(from_settings) == len(set(from_settings))
    assert config_secrets(ctx.config, ctx.env) == [APP_DB_URL, APP_DB_PW, *CHANNEL_SECRETS, PROM_PW,  # the config's
                                                   INDEX_PW]
    assert gather({"SHOP": APP_DB_URL}, ["SHOP", "UNSET"]) == [APP_DB_URL, APP_DB_PW]
    assert set(from_settings) <= set(ctx.secrets)  # what a sink redacts with


def test_redaction_replaces_every_form_longest_first() -> None:
    def shout(value: str) -> str:
        return value.upper()

    text = f'{{"t": "{TOKEN}", "q": "a\\"b-secret"}} SECRET-TOKEN-XL {TOKEN.upper()}'
    assert redact(text, ['a"b-secret', TOKEN]) == '{"t": "***", "q": "***"} SECRET-TOKEN-XL ' + TOKEN.upper()
    assert redact("secret-token-xl", ["secret-token", "secret-token-xl"]) == "***"
    assert redact(TOKEN.upper(), [TOKEN], forms=[shout]) == "***"
    assert Secrets(["abc", "abcd"]).redact("abc abcd") == "abc ***"  # too short to replace in text


@pytest.mark.parametrize(("url", "shown"), [
    (HISTORY_URL, "postgresql://metrics:***@db.internal:5432/metrics"),
    ("postgresql://u:pw@h/pw", "postgresql://u:***@h/pw"),  # a short password too, and only in the userinfo
    ("https://user@host/path", "https://user@host/path"),
    ("https://host:8443/path?x=1", "https://host:8443/path?x=1"),
    ("pushgateway:9091", "pushgateway:9091"),
    ("http://[broken", "http://[broken"),
])
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


class _Unreachable(BaseAdapter):
    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        raise requests.ConnectionError("HTTPSConnectionPool(host='pypi.corp.example', port=443): refused")

    def close(self) -> None:
        pass


def test_a_failing_package_index_does_not_name_its_password(tmp_path: Path) -> None:
    index = PackageIndex.from_context(full_context(tmp_path))
    index.session.mount("https://", _Unreachable())
    with pytest.raises(SourceFailed) as err:
        index.releases("requests")
    assert "https://ci:***@pypi.corp.example/simple/" in str(err.value)
    assert INDEX_PW not in str(err.value)


@pytest.fixture
def cli_logging() -> Iterator[None]:
    """The CLI's logging set-up for one test, then the logger and the run's registry as they were."""
    logger = logging.getLogger("repo_automation")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    try:
        yield
    finally:
        for h in list(logger.handlers):
            logger.removeHandler(h)
            h.close()
        for h in handlers:
            logger.addHandler(h)
        logger.setLevel(level)
        logger.propagate = propagate
        redaction.start_run([])


def test_the_log_never_shows_a_secret_not_even_one_learnt_later(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], cli_logging: None) -> None:
    announced: list[str] = []
    ctx = full_context(tmp_path)
    redaction.start_run(gather(ctx.env, SECRET_VARIABLES, [ctx.settings]), announce=announced.append)
    cli.setup_logging(False, tmp_path / "run.log")
    log = logging.getLogger("repo_automation.test")
    log.info("connecting to %s with %s", HISTORY_URL, TOKEN)
    installation = "ghs_installation-token-0042"
    redaction.register(installation)  # what the App auth does with the token it bought
    redaction.register(installation)
    redaction.register(*config_secrets(ctx.config, ctx.env))  # what the engine does once the config is read
    try:
        raise RuntimeError(f"401 for {installation} at {APP_DB_URL}")
    except RuntimeError:
        log.exception("the request failed")
    log.warning("database %s", APP_DB_URL)
    # announced (on a runner: ::add-mask::) once each; the seeds were masked at start-up
    assert announced == [installation, APP_DB_URL, APP_DB_PW, *CHANNEL_SECRETS, PROM_PW, INDEX_PW]
    for text in (capsys.readouterr().err, (tmp_path / "run.log").read_text(encoding="utf-8")):
        assert "connecting to postgresql://metrics:***@db.internal:5432/metrics with ***" in text
        assert "RuntimeError: 401 for *** at" in text and "the request failed" in text
        assert "database ***" in text
        assert not shows_a_secret(text) and installation not in text


def test_a_filter_given_its_own_registry_uses_it() -> None:
    record = logging.LogRecord("repo_automation", logging.INFO, __file__, 1, "key %s", (SAFETY_KEY,), None)
    assert MaskingFilter(Secrets([SAFETY_KEY])).filter(record)
    assert record.getMessage() == "key ***"
