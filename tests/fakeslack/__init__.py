"""A local Slack incoming webhook for tests: `with FakeSlack(...) as slack: slack.webhook_url`."""

from tests.fakeslack.server import FakeSlack, Received, payload_error

__all__ = ["FakeSlack", "Received", "payload_error"]
