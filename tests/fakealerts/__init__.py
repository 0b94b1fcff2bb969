"""Local receivers for the alert channels: PagerDuty Events API v2, a signed generic webhook, a real SMTP
server (aiosmtpd) with STARTTLS and AUTH. Each enforces its documented contract and records what it got."""

from tests.fakealerts.pagerduty import FakePagerDuty
from tests.fakealerts.smtp import SmtpServer
from tests.fakealerts.webhook import FakeWebhook

__all__ = ["FakePagerDuty", "FakeWebhook", "SmtpServer"]
