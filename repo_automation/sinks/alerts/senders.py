"""Thin senders, one per channel kind: each delivers a rendered Message or raises DeliveryError with the reason.

HTTP goes through a session from repo_automation.sessions (timeouts; 429 retried after its Retry-After,
5xx with backoff, both bounded); the Slack Web API through slack_sdk's WebClient with its retry handlers
(sessions.make_slack_client); e-mail through smtplib. No reason names a secret: webhook URLs, tokens,
routing keys and passwords stay out of every message, and every body is redacted with the run's secrets
before it leaves.

Answers, as each service documents them:
- Slack incoming webhook: 200 `ok`; 400 invalid_payload / no_text / invalid_blocks, 403, 404
  channel_not_found / no_service, 410 channel_is_archived fail (no retry); 429 and 5xx are retried.
- Slack Web API chat.postMessage: `{"ok": true}`; `{"ok": false, "error": …}` (channel_not_found,
  not_in_channel, invalid_auth, …) fails with Slack's error; 429 is retried after Retry-After.
- PagerDuty Events API v2: 202 with `dedup_key`; 400 (invalid event) fails with PagerDuty's errors; 429 and
  5xx are retried.
- Webhook: any 2xx; anything else fails with the status. Signed: `X-Repo-Automation-Signature:
  sha256=<hex HMAC-SHA256 of the exact body with the key>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any, ClassVar, assert_never

from repo_automation.config.sections import SmtpSecurity
from repo_automation.redaction import Secret, redact
from repo_automation.sinks.alerts.messages import Message
from repo_automation.sinks.webpost import TIMEOUT_S, DeliveryError, post_json, refusal

if TYPE_CHECKING:
    import requests

SIGNATURE_HEADER = "X-Repo-Automation-Signature"


class Sender(ABC):
    kind: ClassVar[str]

    @abstractmethod
    def send(self, message: Message) -> None: ...


def _json(body: object, secrets: Collection[str]) -> str:
    return redact(json.dumps(body, ensure_ascii=False, sort_keys=True), secrets)


class SlackWebhookSender(Sender):
    kind = "slack_webhook"

    def __init__(self, *, url: Secret, session: requests.Session, secrets: Collection[str] = ()) -> None:
        self._url, self._session, self._secrets = url, session, secrets

    def send(self, message: Message) -> None:
        resp = post_json(self._session, self._url, _json(message.body, self._secrets).encode(), service="Slack")
        if resp.status_code != 200:
            raise DeliveryError(refusal(resp, "Slack"))


class SlackApiSender(Sender):
    kind = "slack_api"

    def __init__(self, *, client: Any, secrets: Collection[str] = ()) -> None:
        self._client, self._secrets = client, secrets

    def send(self, message: Message) -> None:
        from slack_sdk.errors import SlackApiError, SlackClientError  # lazily, for start-up time

        body = json.loads(_json(message.body, self._secrets))
        try:
            self._client.chat_postMessage(channel=body["channel"], text=body["text"], blocks=body["blocks"])
        except SlackApiError as e:
            status = e.response.status_code
            error = e.response.get("error") if isinstance(e.response.data, dict) else None
            if status == 429:
                wait = e.response.headers.get("Retry-After", e.response.headers.get("retry-after", "?"))
                raise DeliveryError(f"rate limited by Slack (HTTP 429, Retry-After {wait} s), still after "
                                    "retries") from None
            raise DeliveryError(f"chat.postMessage to {body['channel']}: HTTP {status} {error or 'error'}") from None
        except (SlackClientError, OSError) as e:
            raise DeliveryError(f"cannot reach Slack ({type(e).__name__})") from None


class PagerDutySender(Sender):
    kind = "pagerduty"

    def __init__(self, *, url: str, routing_key: Secret, session: requests.Session,
                 secrets: Collection[str] = ()) -> None:
        self._url, self._key, self._session, self._secrets = Secret(url), routing_key, session, secrets

    def send(self, message: Message) -> None:
        body = _json(message.body, self._secrets)
        event = {"routing_key": self._key.reveal(), **json.loads(body)}
        resp = post_json(self._session, self._url, json.dumps(event).encode(), service="PagerDuty")
        if resp.status_code != 202:
            raise DeliveryError(refusal(resp, "PagerDuty").replace(self._key.reveal(), "***"))


class WebhookSender(Sender):
    kind = "webhook"

    def __init__(self, *, url: Secret, session: requests.Session, key: Secret | None = None,
                 secrets: Collection[str] = ()) -> None:
        self._url, self._session, self._key, self._secrets = url, session, key, secrets

    def send(self, message: Message) -> None:
        data = _json(message.body, self._secrets).encode()
        headers = {SIGNATURE_HEADER: signature(self._key.reveal(), data)} if self._key else {}
        resp = post_json(self._session, self._url, data, service="the webhook", headers=headers)
        if not 200 <= resp.status_code < 300:
            raise DeliveryError(refusal(resp, "the webhook"))


def signature(key: str, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


class EmailSender(Sender):
    kind = "email"

    def __init__(self, *, host: str, port: int, security: SmtpSecurity, sender: str, recipients: tuple[str, ...],
                 username: str | None = None, password: Secret | None = None,
                 context: Callable[[], ssl.SSLContext] = ssl.create_default_context,
                 secrets: Collection[str] = ()) -> None:
        self.host, self.port, self.security = host, port, security
        self.sender, self.recipients = sender, recipients
        self._user, self._password, self._context, self._secrets = username, password, context, secrets

    def compose(self, message: Message) -> EmailMessage:
        body = {k: redact(str(v), self._secrets) for k, v in message.body.items()}
        mail = EmailMessage()
        mail["Subject"], mail["From"], mail["To"] = body["subject"], self.sender, ", ".join(self.recipients)
        mail["Date"], mail["Message-ID"] = formatdate(localtime=False), make_msgid(domain="repo-automation")
        mail["X-Repo-Automation-Fingerprint"] = message.event.fingerprint
        mail.set_content(body["text"])
        mail.add_alternative(body["html"], subtype="html")
        return mail

    def send(self, message: Message) -> None:
        mail = self.compose(message)
        try:
            with self._connect() as smtp:
                if self._user and self._password:
                    smtp.login(self._user, self._password.reveal())
                refused = smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as e:
            raise DeliveryError(f"SMTP {self.where} refused the login of {self._user} ({e.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as e:
            raise DeliveryError(f"SMTP {self.where} refused every recipient: {sorted(e.recipients)}") from None
        except smtplib.SMTPResponseException as e:
            said = e.smtp_error.decode(errors="replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
            raise DeliveryError(f"SMTP {self.where} answered {e.smtp_code} {said[:200]}") from None
        except (smtplib.SMTPException, OSError) as e:
            raise DeliveryError(f"cannot send e-mail through {self.where} ({type(e).__name__}: "
                                f"{redact(str(e), self._secrets)[:200]})") from None
        if refused:
            raise DeliveryError(f"SMTP {self.where} refused {sorted(refused)}")

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def _connect(self) -> smtplib.SMTP:
        match self.security:
            case SmtpSecurity.SSL:
                return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_S, context=self._context())
            case SmtpSecurity.STARTTLS:
                smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_S)
                try:
                    smtp.starttls(context=self._context())
                except BaseException:
                    smtp.close()
                    raise
                return smtp
            case SmtpSecurity.NONE:
                return smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_S)
            case _:
                assert_never(self.security)
